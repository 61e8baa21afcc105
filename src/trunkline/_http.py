"""One keep-alive HTTP connection to the scheduler, on the standard library.

A worker makes a round trip per handful of tasks, so the client's own cost per
request matters: ``http.client`` spends about 60 µs of CPU on a request where
httpx spent 300-430 µs (measured on loopback against the scheduler's ``ping``;
see docs/architecture.md). This module is only what the RPC client needs:
POST a form, read the answer, over TCP, TLS or a unix socket, reconnecting
when the server closed the idle connection.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

# Errors that mean "the request did not get an answer": the caller may retry.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


class KeepAliveClient:
    """POSTs to ``base_url`` (``http://``, ``https://`` or ``http+unix://<quoted path>``)
    over one reused connection. Connecting waits ``connect_timeout`` seconds at most,
    an answer ``read_timeout``."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str] | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https", "http+unix"):
            raise ValueError(f"scheduler URL must start with http://, https:// or http+unix:// (got {base_url!r})")
        self._scheme = parsed.scheme
        self._netloc = parsed.netloc
        self._prefix = "" if parsed.scheme == "http+unix" else parsed.path.rstrip("/")
        self._headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._connection: http.client.HTTPConnection | None = None

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._scheme == "http+unix":
            connection: http.client.HTTPConnection = _UnixConnection(
                urllib.parse.unquote(self._netloc), self._connect_timeout
            )
        elif self._scheme == "https":
            connection = http.client.HTTPSConnection(
                self._netloc, timeout=self._connect_timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(self._netloc, timeout=self._connect_timeout)
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout)
        if self._scheme != "http+unix":
            # Requests are small and answered at once: don't wait to coalesce packets.
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _usable_connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """The open connection (and True) if the server has not closed it, else a new one."""
        connection = self._connection
        if connection is not None and connection.sock is not None:
            readable, _, _ = select.select([connection.sock], [], [], 0)
            if not readable:  # an idle keep-alive socket has nothing to read
                return connection, True
            connection.close()
        self._connection = self._new_connection()
        return self._connection, False

    def post_form(self, path: str, form: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(form)
        connection, reused = self._usable_connection()
        try:
            return self._exchange(connection, path, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            # The server dropped the idle connection as we used it: once more, fresh.
            self._connection = self._new_connection()
            return self._exchange(self._connection, path, body)
        except BaseException:
            self.close()
            raise

    def _exchange(self, connection: http.client.HTTPConnection, path: str, body: str) -> Answer:
        connection.request("POST", self._prefix + path, body=body, headers=self._headers)
        response = connection.getresponse()
        answer = Answer(response.status, response.read())
        if response.will_close:
            self.close()
        return answer

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
