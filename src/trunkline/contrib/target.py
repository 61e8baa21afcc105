""":class:`CascadingClient`: one file system client made of several, tried in order.

Typical use is a fast client with a slow, dependable fallback (HDFS over
WebHDFS, falling back to the ``hadoop`` command line). A call that fails with a
:class:`~trunkline.target.FileSystemException` is an answer about the data
(the file exists, the parent is missing) and is raised at once; any other
failure is a failure of that client, and the next one is tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import MethodType
from typing import Any

import trunkline as luigi
import trunkline.target

logger = logging.getLogger("luigi-interface")


class CascadingClient:
    """Forwards each listed method to the first client that does not fail."""

    # Methods forwarded when the constructor is not given its own list.
    ALL_METHOD_NAMES = [
        "exists",
        "rename",
        "remove",
        "chmod",
        "chown",
        "count",
        "copy",
        "get",
        "put",
        "mkdir",
        "list",
        "listdir",
        "getmerge",
        "isdir",
        "rename_dont_move",
        "touchz",
    ]

    def __init__(self, clients: Sequence[Any], method_names: Sequence[str] | None = None) -> None:
        self.clients = list(clients)
        for method_name in self.ALL_METHOD_NAMES if method_names is None else method_names:
            setattr(self, method_name, MethodType(self._make_method(method_name), self))

    @classmethod
    def _make_method(cls, method_name: str) -> Callable[..., Any]:
        def forward(self: CascadingClient, *args: Any, **kwargs: Any) -> Any:
            return self._chained_call(method_name, *args, **kwargs)

        forward.__name__ = method_name
        return forward

    def _chained_call(self, method_name: str, *args: Any, **kwargs: Any) -> Any:
        for position, client in enumerate(self.clients):
            try:
                return getattr(client, method_name)(*args, **kwargs)
            except trunkline.target.FileSystemException:
                raise  # a statement about the data, which the next client would repeat
            except BaseException:
                if position + 1 == len(self.clients):
                    raise
                logger.warning(
                    "The %s failed to %s, using fallback class %s",
                    type(client).__name__,
                    method_name,
                    type(self.clients[position + 1]).__name__,
                )
        raise ValueError("CascadingClient has no clients to call")


__all__ = ["CascadingClient", "luigi"]
