"""Limits that keep the scheduler serving however clients behave.

A client that opens a connection and sends half a request, or opens
thousands and sends nothing, must not take the descriptors and the loop time
the workers need. So: a request's headers must arrive within
``header_timeout`` and its body within ``body_timeout``; an idle keep-alive
connection is closed after ``idle_timeout``; at most ``max_connections`` are
open at once (further ones are closed at once, with one log line per
``LOG_EVERY`` seconds saying how many were refused); a body over the size limit
is answered 413.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import dataclass
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.iostream

from trunkline.configuration import get_config

logger = logging.getLogger("luigi.server")

# Descriptors kept free for the store, the history database and log files.
_SPARE_DESCRIPTORS = 64
LOG_EVERY = 10.0


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int
    header_timeout: float
    body_timeout: float
    idle_timeout: float
    max_body_bytes: int


def _descriptor_budget() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(16, soft - _SPARE_DESCRIPTORS)


def server_limits(max_body_bytes: int) -> ServerLimits:
    """The limits from ``[scheduler]`` (``max_connections``, ``header_timeout``,
    ``body_timeout``, ``idle_connection_timeout``), bounded by the descriptor limit."""
    config = get_config()
    budget = _descriptor_budget()
    wanted = config.getint("scheduler", "max_connections", min(1000, budget))
    return ServerLimits(
        max_connections=max(1, min(int(wanted), budget)),
        header_timeout=config.getfloat("scheduler", "header_timeout", 30.0),
        body_timeout=config.getfloat("scheduler", "body_timeout", 60.0),
        idle_timeout=config.getfloat("scheduler", "idle_connection_timeout", 300.0),
        max_body_bytes=max_body_bytes,
    )


class LimitedHTTPServer(tornado.httpserver.HTTPServer):
    """An HTTPServer that closes connections beyond ``limits.max_connections``.

    ``header_timeout`` is tornado's ``idle_connection_timeout``: it bounds the wait
    for the next request's headers, the first request's included."""

    def initialize(self, request_callback: Any, limits: ServerLimits | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        limits = limits or server_limits(kwargs.pop("max_body_size", None) or 64 * 1024 * 1024)
        kwargs.setdefault("max_body_size", limits.max_body_bytes)
        kwargs.setdefault("idle_connection_timeout", min(limits.header_timeout, limits.idle_timeout))
        kwargs.setdefault("body_timeout", limits.body_timeout)
        super().initialize(request_callback, **kwargs)
        self.limits = limits
        self._streams: list[tornado.iostream.IOStream] = []
        self._refused = 0
        self._last_log = 0.0

    def handle_stream(self, stream: tornado.iostream.IOStream, address: Any) -> None:
        self._streams = [open_stream for open_stream in self._streams if not open_stream.closed()]
        if len(self._streams) >= self.limits.max_connections:
            self._refused += 1
            now = time.monotonic()
            if now - self._last_log >= LOG_EVERY:
                logger.warning(
                    "%d connection(s) refused in the last %.0f s: %d are open, the limit is %d "
                    "([scheduler] max_connections)",
                    self._refused, now - self._last_log if self._last_log else 0, len(self._streams),
                    self.limits.max_connections,
                )
                self._refused = 0
                self._last_log = now
            stream.close()
            return
        self._streams.append(stream)
        super().handle_stream(stream, address)

    def start_request(
        self, server_conn: object, request_conn: tornado.httputil.HTTPConnection
    ) -> tornado.httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        return _BodyLimit(delegate, request_conn, self.limits.max_body_bytes)


class _BodyLimit(tornado.httputil.HTTPMessageDelegate):
    """Answers 413 to a request whose Content-Length is over the limit, before
    reading its body (tornado itself would answer 400 and read nothing either)."""

    def __init__(self, delegate: tornado.httputil.HTTPMessageDelegate, connection: Any, limit: int) -> None:
        self._delegate = delegate
        self._connection = connection
        self._limit = limit
        self._refused = False

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        try:
            length = int(headers.get("Content-Length", "0"))
        except ValueError:
            length = 0
        if length > self._limit:
            self._refused = True
            body = (f'{{"error": "the request body is {length} bytes; this scheduler accepts at most '
                    f'{self._limit}"}}').encode()
            stream = self._connection.detach()
            stream.write(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            ).add_done_callback(lambda _future: stream.close())
            return None
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return None if self._refused else self._delegate.data_received(chunk)

    def finish(self) -> None:
        if not self._refused:
            self._delegate.finish()

    def on_connection_close(self) -> None:
        if not self._refused:
            self._delegate.on_connection_close()


def create_private_file(path: str) -> None:
    """Create ``path`` readable by its owner only (0600) if it does not exist.

    SQLite gives its -wal and -shm files the database file's permissions, so
    creating the database file this way keeps all three private: they hold
    task parameters and tracebacks."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)
