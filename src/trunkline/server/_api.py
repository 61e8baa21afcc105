"""``/api/<method>``: the scheduler's RPC methods over HTTP.

Every answer is JSON. An unknown method is 404, a malformed request 400, a
missing token 401; none of them touches the scheduler's state, and the server
keeps serving.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import tornado.web

from trunkline._protocol import READ_METHODS, RPC_METHODS, ProtocolError, decode_arguments, encode_response

logger = logging.getLogger("luigi.server")


class SchedulerHandler(tornado.web.RequestHandler):
    """A handler serving the scheduler, behind its optional shared-secret token."""

    def initialize(self, scheduler: Any, auth_token: str = "", read_only_open: bool = True) -> None:
        self._scheduler = scheduler
        self._auth_token = auth_token
        self._read_only_open = read_only_open

    def _has_token(self) -> bool:
        """True when no token is configured, or the request carries it as a bearer token."""
        if not self._auth_token:
            return True
        header = self.request.headers.get("Authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        return hmac.compare_digest(given.encode(), self._auth_token.encode())

    def _may_read(self) -> bool:
        return self._read_only_open or self._has_token()


class RPCHandler(SchedulerHandler):
    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Errors tornado raises before a method runs (a URL that is not UTF-8,
        # say) are JSON too, like every other answer of the API.
        self.set_header("Content-Type", "application/json")
        self.finish({"error": self._reason})

    def _fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish({"error": message})

    def _authorised(self, method: str) -> bool:
        return self._may_read() if method in READ_METHODS else self._has_token()

    def _handle(self, method: str) -> None:
        if method not in RPC_METHODS:
            self._fail(404, f"unknown method {method!r}")
            return
        if not self._authorised(method):
            self._fail(401, f"{method} needs the scheduler's auth token (Authorization: Bearer <token>)")
            return
        try:
            arguments = decode_arguments(self.get_argument("data", default=None))
        except ProtocolError as exc:
            self._fail(400, str(exc))
            return
        try:
            result = getattr(self._scheduler, method)(**arguments)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Wrong argument names or types: the caller's mistake, not the server's.
            self._fail(400, f"bad arguments for {method}: {type(exc).__name__}: {exc}")
            return
        except Exception as exc:  # keep serving; the traceback goes to the log
            logger.exception("scheduler method %s failed", method)
            self._fail(500, f"{method} failed: {type(exc).__name__}: {exc}")
            return
        self.finish(encode_response(result))

    def get(self, method: str) -> None:
        self._handle(method)

    def post(self, method: str) -> None:
        self._handle(method)
