""":func:`OpenerTarget`: a target from a URI, so one setting picks local, in-memory or S3 outputs.

``OpenerTarget('/data/out.txt')`` is a LocalTarget, ``OpenerTarget('mock://out.txt')``
a MockTarget and ``OpenerTarget('s3://bucket/out.txt')`` an S3Target. Query
arguments become constructor arguments: ``mock://x?is_tmp`` (a bare name means
true) or ``s3://b/k?client=...``; each opener lists the ones it accepts, and
those flagged True are parsed as JSON (``?is_tmp=false``). Keyword arguments of
the call win over the query. Register openers of your own with
``opener.add(MyOpener)``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from trunkline.contrib.s3 import S3Target
from trunkline.local_target import LocalTarget
from trunkline.mock import MockTarget
from trunkline.target import FileSystemException, Target

__all__ = [
    "OpenerError",
    "NoOpenerError",
    "InvalidQuery",
    "OpenerRegistry",
    "Opener",
    "MockOpener",
    "LocalOpener",
    "S3Opener",
    "opener",
    "OpenerTarget",
]


class OpenerError(FileSystemException):
    """The base of the opener errors."""


class NoOpenerError(OpenerError):
    """No opener is registered for the URI's scheme."""


class InvalidQuery(OpenerError):
    """An opener was given arguments it does not accept."""


class OpenerRegistry:
    """Openers by scheme; URIs without a scheme use ``default_opener`` (``file``)."""

    def __init__(self, openers: list[Any] | None = None) -> None:
        self.registry: dict[str, int] = {}
        self.openers: dict[int, Any] = {}
        self.default_opener = "file"
        for opener in openers or []:
            self.add(opener)

    def get_opener(self, name: str) -> Any:
        if name not in self.registry:
            raise NoOpenerError(f"No opener for {name}")
        return self.openers[self.registry[name]]

    def add(self, opener: Any) -> None:
        """Register ``opener`` under each of its ``names`` (later registrations win)."""
        index = len(self.openers)
        self.openers[index] = opener
        for name in opener.names:
            self.registry[name] = index

    def open(self, target_uri: str, **kwargs: Any) -> Target:
        """The target ``target_uri`` names; it remembers the URI as ``opener_path``."""
        parts = urlsplit(target_uri, scheme=self.default_opener)
        opener = self.get_opener(parts.scheme)
        query = opener.conform_query(parts.query)
        target = opener.get_target(
            parts.scheme,
            parts.path,
            parts.fragment,
            parts.username,
            parts.password,
            parts.hostname,
            parts.port,
            query,
            **kwargs,
        )
        target.opener_path = target_uri
        return target  # type: ignore[no-any-return]


class Opener:
    """Turns the parts of a URI into a target; subclasses set ``names`` and ``get_target``."""

    names: list[str] = []
    # Accepted query arguments; True means "parse the value as JSON".
    allowed_kwargs: dict[str, bool] = {}
    # Drop query arguments that are not in allowed_kwargs (else pass them on as strings).
    filter_kwargs = True

    @classmethod
    def conform_query(cls, query: str) -> dict[str, Any]:
        """The query string as keyword arguments: first value of each name, a bare name is true."""
        parsed = parse_qs(query, keep_blank_values=True)
        conformed: dict[str, Any] = {}
        for name, values in parsed.items():
            if cls.filter_kwargs and name not in cls.allowed_kwargs:
                continue
            raw = values[0] or "true"
            conformed[name] = json.loads(raw) if cls.allowed_kwargs.get(name, False) else raw
        return conformed

    @classmethod
    def get_target(
        cls,
        scheme: str,
        path: str,
        fragment: str,
        username: str | None,
        password: str | None,
        hostname: str | None,
        port: int | None,
        query: dict[str, Any],
        **kwargs: Any,
    ) -> Target:
        raise NotImplementedError(f"{cls.__name__} must override get_target")


class MockOpener(Opener):
    """``mock://foo/bar.txt``: an in-memory MockTarget."""

    names = ["mock"]
    allowed_kwargs = {"is_tmp": True, "mirror_on_stderr": True, "format": False}

    @classmethod
    def get_target(cls, scheme, path, fragment, username, password, hostname, port, query, **kwargs):  # type: ignore[no-untyped-def]
        query.update(kwargs)
        return MockTarget((hostname or "") + path, **query)


class LocalOpener(Opener):
    """``file://relative/path``, ``file:///absolute/path`` or a bare path: a LocalTarget."""

    names = ["file"]
    allowed_kwargs = {"is_tmp": True, "format": False}

    @classmethod
    def get_target(cls, scheme, path, fragment, username, password, hostname, port, query, **kwargs):  # type: ignore[no-untyped-def]
        query.update(kwargs)
        return LocalTarget((hostname or "") + path, **query)


class S3Opener(Opener):
    """``s3://bucket/key`` (or ``s3n://``): an S3Target; other query arguments go to S3Target."""

    names = ["s3", "s3n"]
    allowed_kwargs = {"format": False, "client": True}
    filter_kwargs = False

    @classmethod
    def get_target(cls, scheme, path, fragment, username, password, hostname, port, query, **kwargs):  # type: ignore[no-untyped-def]
        query.update(kwargs)
        return S3Target(f"{scheme}://{hostname}{path}", **query)


opener = OpenerRegistry([MockOpener, LocalOpener, S3Opener])

OpenerTarget = opener.open
