"""The client of a central scheduler: Luigi's wire protocol over HTTP (Luigi's ``luigi.rpc``).

Every call is ``POST <url>/api/<method>`` with a form field ``data`` holding the
JSON keyword arguments; the answer is ``{"response": ...}``. This speaks to a
trunkline scheduler and to Luigi's ``luigid`` alike.

The layers are Luigi's, so code that replaces one of them keeps working:
``RemoteScheduler.<method>(*args)`` names the arguments and calls
``_request(url, data, attempts, allow_null)``, which encodes them and calls
``_fetch(url_suffix, body)`` (tests and embedders replace it to route calls
through a tornado test client), which hands the full URL to ``self._fetcher``.
The default fetcher is trunkline's keep-alive ``http.client`` connection (the
worker's hot path; ``trunkline._http``); with ``HAS_REQUESTS`` patched to False
it is ``URLLibFetcher``, as in Luigi.

A failed connection is retried ``[core] rpc_retry_attempts`` times in all,
``rpc_retry_wait`` seconds apart, on the first contact too, so a cron run that
starts while the scheduler restarts waits for it instead of failing at once.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import abc
import base64
import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode, urljoin, urlparse
from urllib.request import Request, urlopen

from trunkline import configuration
from trunkline._http import TRANSPORT_ERRORS, KeepAliveClient
from trunkline._protocol import CLIENT_SIGNATURES, RPC_METHODS, MethodSignature  # noqa: F401 - Luigi's name
from trunkline._worker.errors import SchedulerUnreachable

# Luigi imports requests_unixsocket / requests here; trunkline's own fetcher needs
# neither (it speaks unix sockets itself), so both flags say what the client can do.
HAS_UNIX_SOCKET = True
requests: ModuleType | None
try:
    requests = importlib.import_module("requests")
except ImportError:  # RequestsFetcher then explains which package is missing
    requests = None
# Read when a RemoteScheduler is created (Luigi's tests patch it): True picks the
# pooled keep-alive fetcher (requests' part in Luigi), False the plain urllib one.
HAS_REQUESTS = True

logger = logging.getLogger("luigi-interface")

HTTP_NOT_FOUND = 404


def _urljoin(base: str, url: str) -> str:
    """``base`` + ``url`` as a path under base's own path, for any scheme (``http+unix`` too)."""
    parsed = urlparse(base)
    joined = urljoin(parsed._replace(scheme="http").geturl(), parsed.path + (url if url.startswith("/") else "/" + url))
    return urlparse(joined)._replace(scheme=parsed.scheme).geturl()


class RPCError(Exception):
    """A call to the central scheduler failed; ``sub_exception`` is the cause, if any."""

    def __init__(self, message: str, sub_exception: BaseException | None = None) -> None:
        super().__init__(message)
        self.sub_exception = sub_exception


class SchedulerUnreachableError(RPCError, SchedulerUnreachable):
    """No answer after ``rpc_retry_attempts`` tries (refused, unresolvable, timed out)."""


class SchedulerRefused(RPCError):
    """The scheduler answered with an HTTP error: retrying the same request cannot help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _FetcherInterface(metaclass=abc.ABCMeta):
    """POSTs a form to a URL and returns the answer's text; ``raises`` are the
    errors that mean "no answer" (the caller retries those)."""

    raises: Any = ()

    @abc.abstractmethod
    def fetch(self, full_url: str, body: Mapping[str, str] | None, timeout: float) -> str: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class KeepAliveFetcher(_FetcherInterface):
    """trunkline's fetcher: one reused ``http.client`` connection per scheduler
    (``http``, ``https`` or ``http+unix``), opened again in a forked child."""

    raises = TRANSPORT_ERRORS

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._headers = dict(headers or {})
        self._clients: dict[tuple[str, str, float], KeepAliveClient] = {}
        self._pid = os.getpid()

    def client(self, base_url: str, timeout: float) -> KeepAliveClient:
        if os.getpid() != self._pid:  # a forked child must not share the parent's socket
            self._clients = {}
            self._pid = os.getpid()
        parsed = urlparse(base_url)
        key = (parsed.scheme, parsed.netloc, timeout)
        client = self._clients.get(key)
        if client is None:
            headers = dict(self._headers)
            netloc = parsed.netloc
            if parsed.username and parsed.scheme != "http+unix":
                # http://user:password@host/ is Basic auth (a proxy in front of the scheduler), as in Luigi.
                credentials = f"{parsed.username}:{parsed.password or ''}".encode()
                headers.setdefault("Authorization", "Basic " + base64.b64encode(credentials).decode())
                netloc = netloc.rsplit("@", 1)[-1]
            client = KeepAliveClient(f"{parsed.scheme}://{netloc}", headers=headers, connect_timeout=timeout)
            self._clients[key] = client
        return client

    def fetch(self, full_url: str, body: Mapping[str, str] | None, timeout: float) -> str:
        parsed = urlparse(full_url)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        answer = self.client(full_url, timeout).post_form(path, dict(body or {}))
        if answer.status >= 400:
            raise SchedulerRefused(answer.status, _refusal_message(full_url, answer.status, answer.text))
        return answer.text

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients = {}


def _refusal_message(full_url: str, status: int, text: str) -> str:
    if status in (401, 403):
        return (
            f"The scheduler refused {full_url} ({status}): set [core] rpc_auth_token to the "
            f"scheduler's auth token ({text[:300]})"
        )
    return f"The scheduler answered {status} to {full_url}: {text[:500]}"


class URLLibFetcher(_FetcherInterface):
    """The standard library's ``urlopen``; user:password in the URL becomes Basic auth."""

    raises = (URLError, socket.timeout)

    def _create_request(self, full_url: str, body: Mapping[str, str] | None = None) -> Request:
        url = urlparse(full_url)
        if url.username:
            credentials = f"{url.username}:{url.password or ''}".encode()
            request = Request(url._replace(netloc=url.netloc.rsplit("@", 1)[-1]).geturl())
            request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
        else:
            request = Request(full_url)
        if body:
            request.data = urlencode(body).encode("utf-8")
        return request

    def fetch(self, full_url: str, body: Mapping[str, str] | None, timeout: float) -> str:
        with urlopen(self._create_request(full_url, body=body), timeout=timeout) as response:
            return str(response.read().decode("utf-8"))

    def close(self) -> None:
        pass


class RequestsFetcher(_FetcherInterface):
    """A ``requests`` session (needs the ``requests`` package), renewed after a fork
    because a session must not be shared between processes."""

    def __init__(self) -> None:
        if requests is None:
            raise ImportError("RequestsFetcher needs the 'requests' package: pip install requests")
        self.raises = requests.exceptions.RequestException
        self.session = requests.Session()
        self.process_id = os.getpid()

    def check_pid(self) -> None:
        if os.getpid() != self.process_id:
            assert requests is not None  # __init__ refused to build without it
            self.session = requests.Session()
            self.process_id = os.getpid()

    def fetch(self, full_url: str, body: Mapping[str, str] | None, timeout: float) -> str:
        self.check_pid()
        response = self.session.post(full_url, data=body, timeout=timeout)
        response.raise_for_status()
        return str(response.text)

    def close(self) -> None:
        self.session.close()


class RemoteScheduler:
    """A scheduler reached over HTTP; has the same methods as ``Scheduler``."""

    # Each call is a network round trip: the worker batches what it can (work_cycle, add_tasks).
    round_trips_are_costly = True

    def __init__(self, url: str = "http://localhost:8082/", connect_timeout: float | None = None) -> None:
        config = configuration.get_config()
        self._url = url.rstrip("/")
        if connect_timeout is None:
            connect_timeout = config.getfloat("core", "rpc_connect_timeout", 10.0)
        self._connect_timeout = connect_timeout
        self._rpc_retry_attempts = config.getint("core", "rpc_retry_attempts", 3)
        self._rpc_retry_wait = config.getfloat("core", "rpc_retry_wait", 30.0)
        self._rpc_log_retries = config.getboolean("core", "rpc_log_retries", True)
        scheme = urlparse(self._url).scheme
        if scheme not in ("http", "https", "http+unix"):
            raise RPCError(
                f"scheduler URL must start with http://, https:// or http+unix:// (got {url!r}); "
                "check --scheduler-url or [core] scheduler_url"
            )
        token = config.get("core", "rpc_auth_token", "") or config.get("scheduler", "auth_token", "")
        self._fetcher: Any = (
            KeepAliveFetcher({"Authorization": f"Bearer {token}"} if token else None)
            if HAS_REQUESTS
            else URLLibFetcher()
        )
        self._unsupported: set[str] = set()

    def close(self) -> None:
        self._fetcher.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("RemoteScheduler holds a network connection and cannot be pickled")

    def _log_retry(self, attempt: int) -> None:
        if self._rpc_log_retries:
            logger.warning("Failed connecting to remote scheduler %r", self._url, exc_info=True)
            logger.info("Retrying attempt %r of %r (max)" % (attempt + 1, self._rpc_retry_attempts))
            logger.info("Wait for %d seconds" % self._rpc_retry_wait)

    def _fetch(self, url_suffix: str, body: Mapping[str, str] | None) -> str:
        """The answer's text for one POST of ``body`` to ``url_suffix``, retrying a
        connection that fails ``rpc_retry_attempts`` times in all."""
        full_url = _urljoin(self._url, url_suffix)
        attempts = max(1, self._rpc_retry_attempts)
        for attempt in range(1, attempts + 1):
            try:
                return str(self._fetcher.fetch(full_url, body, self._connect_timeout))
            except self._fetcher.raises as exc:
                if attempt == attempts:
                    raise SchedulerUnreachableError(self._unreachable_message(exc), exc) from exc
                self._log_retry(attempt)
                time.sleep(self._rpc_retry_wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _unreachable_message(self, exc: BaseException) -> str:
        return (
            f"Errors ({self._rpc_retry_attempts} attempts) when connecting to remote scheduler {self._url!r} "
            f"({type(exc).__name__}: {exc}). Start one with 'trunkline scheduler' (or 'trunklined'), point "
            "--scheduler-url / --scheduler-host / --scheduler-port at a running one, or pass "
            "--local-scheduler to run with an in-process scheduler."
        )

    def _request(self, url: str, data: Mapping[str, Any], attempts: int = 3, allow_null: bool = True) -> Any:
        """The ``response`` of ``url`` called with ``data``; a null answer is asked
        again up to ``attempts`` times when ``allow_null`` is false (get_work)."""
        body = {"data": json.dumps(data)}
        for _ in range(max(1, attempts)):
            page = self._fetch(url, body)
            try:
                response = json.loads(page)["response"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RPCError(f"The scheduler at {self._url} sent a malformed answer to {url}", exc) from exc
            if allow_null or response is not None:
                return response
        raise RPCError(f"Received null response from remote scheduler {self._url!r}")

    def _call_optional(self, method: str, data: Mapping[str, Any]) -> Any:
        """A trunkline-only method: NotImplementedError when the scheduler lacks it (luigid)."""
        if method in self._unsupported:
            raise NotImplementedError(f"the scheduler has no {method}")
        try:
            return self._request(f"/api/{method}", data)
        except SchedulerRefused as exc:
            if exc.status != HTTP_NOT_FOUND:
                raise
            self._unsupported.add(method)
            raise NotImplementedError(f"the scheduler at {self._url} has no method {method!r}") from exc

    # -- trunkline's batched calls (the worker uses them when the scheduler has them) --
    def add_tasks(self, worker: str, tasks: list[dict[str, Any]]) -> Any:
        """Many add_task calls in one round trip."""
        return self._call_optional("add_tasks", {"worker": worker, "tasks": tasks})

    def work_cycle(self, **kwargs: Any) -> Any:
        """Reports in, leases out, in one round trip (scheduler/_leasing.py)."""
        return self._call_optional("work_cycle", kwargs)


def _remote_method(signature: MethodSignature) -> Any:
    """A method of RemoteScheduler calling ``signature.name`` on the server, taking
    positional arguments in the scheduler method's order, as Luigi's do."""
    name = signature.name

    def call(self: RemoteScheduler, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(signature.params):
            raise TypeError(f"{name} takes {len(signature.params)} positional arguments ({len(args)} given)")
        data = dict(zip(signature.params, args))
        for key, value in kwargs.items():
            if key in data:
                raise TypeError(f"{name} got multiple values for argument {key!r}")
            data[key] = value
        missing = [param for param in signature.required if param not in data]
        if missing:
            raise TypeError(f"{name} is missing required arguments: {', '.join(missing)}")
        return self._request(f"/api/{name}", data, **signature.request_options)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{name}`` on the remote scheduler."
    return call


for _signature in CLIENT_SIGNATURES:
    setattr(RemoteScheduler, _signature.name, _remote_method(_signature))
del _signature
