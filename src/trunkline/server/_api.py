"""``/api/<method>``: the scheduler's RPC methods over HTTP (Luigi's ``RPCHandler``).

Every answer is JSON. An unknown method is 404; a malformed request, or an
argument that fails the checks of ``_validate``, 400 naming the field; a
missing token 401; a browser request from another site, or for a host name the
scheduler does not serve, 403 (``_guard``); a state-changing method over GET
405. None of them touches the scheduler's state, and the server keeps serving.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import tornado.web

from trunkline._protocol import READ_METHODS, RPC_METHODS, ProtocolError, decode_arguments, encode_response
from trunkline.server._guard import cors, cross_origin_refusal, host_is_served
from trunkline.server._validate import InvalidArgument, validate_arguments

logger = logging.getLogger("luigi.server")


class SchedulerHandler(tornado.web.RequestHandler):
    """A handler serving the scheduler, behind its optional shared-secret token
    and, without a token, the browser checks of ``_guard``."""

    def initialize(self, scheduler: Any, auth_token: str = "", read_only_open: bool = True, **_: Any) -> None:
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

    def _cors_config(self) -> cors:
        config = getattr(self, "_cors", None)
        if config is None:
            config = self._cors = cors()
        return config

    def browser_refusal(self) -> str | None:
        """Why this request must be refused as a DNS-rebinding attack, or None (see ``_guard``)."""
        if self._auth_token or host_is_served(self.request.headers.get("Host")):
            return None
        return f"Host {self.request.headers.get('Host')!r} is not a name this scheduler serves ([scheduler] allowed_hosts)"

    def cross_site_refusal(self) -> str | None:
        """Why this state-changing request must be refused as coming from another
        site's page, or None. Reads need no such check: a browser does not let the
        other site's script see the answer unless [cors] allows it."""
        headers = self.request.headers
        if self._auth_token or ("Origin" not in headers and "Referer" not in headers):
            return None  # workers and scripts send neither: no [cors] lookup on the hot path
        return cross_origin_refusal(headers, self._cors_config())

    def prepare(self) -> None:
        if self.request.method == "OPTIONS":
            return  # a CORS preflight changes nothing and is answered from [cors]
        refusal = self.browser_refusal()
        if refusal is not None:
            self.refuse(403, refusal)

    def refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish({"error": message})


class RPCHandler(SchedulerHandler):
    """Handles remote scheduling calls: ``/api/<method>`` with ``data=<json arguments>``."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Errors tornado raises before a method runs (a URL that is not UTF-8,
        # say) are JSON too, like every other answer of the API.
        self.set_header("Content-Type", "application/json")
        self.finish({"error": self._reason})

    def options(self, *args: Any) -> None:
        self._set_cors_headers(preflight=True)
        self.set_status(204)
        self.finish()

    def _set_cors_headers(self, preflight: bool = False) -> None:
        origin = self.request.headers.get("Origin")
        if not origin:
            return
        config = self._cors_config()
        allowed = config.allowed_origin_header(origin)
        if allowed is None:
            return
        self.set_header("Access-Control-Allow-Origin", allowed)
        if not preflight:
            if allowed not in ("*", "null"):
                self.set_header("Vary", "Origin")
            return
        self.set_header("Access-Control-Max-Age", str(config.max_age))
        self.set_header("Access-Control-Allow-Methods", config.allowed_methods)
        self.set_header("Access-Control-Allow-Headers", config.allowed_headers)
        if config.allow_credentials:
            self.set_header("Access-Control-Allow-Credentials", "true")
        if config.exposed_headers:
            self.set_header("Access-Control-Expose-Headers", config.exposed_headers)

    def _authorised(self, method: str) -> bool:
        return self._may_read() if method in READ_METHODS else self._has_token()

    def _handle(self, method: str) -> None:
        if method not in RPC_METHODS or not hasattr(self._scheduler, method):
            self.refuse(404, f"unknown method {method!r}")
            return
        if self.request.method != "POST" and method not in READ_METHODS:
            # A link or an <img> must never change the scheduler's state.
            self.set_header("Allow", "POST")
            self.refuse(405, f"{method} changes the scheduler's state: send it with POST")
            return
        if method not in READ_METHODS:
            refusal = self.cross_site_refusal()
            if refusal is not None:
                self.refuse(403, refusal)
                return
        if not self._authorised(method):
            self.refuse(401, f"{method} needs the scheduler's auth token (Authorization: Bearer <token>)")
            return
        try:
            arguments = decode_arguments(self.get_argument("data", default=None))
            validate_arguments(method, arguments)
        except (ProtocolError, InvalidArgument) as exc:
            self.refuse(400, str(exc))
            return
        try:
            result = getattr(self._scheduler, method)(**arguments)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Wrong argument names or types: the caller's mistake, not the server's.
            self.refuse(400, f"bad arguments for {method}: {type(exc).__name__}: {exc}")
            return
        except Exception as exc:  # keep serving; the traceback goes to the log
            logger.exception("scheduler method %s failed", method)
            self.refuse(500, f"{method} failed: {type(exc).__name__}: {exc}")
            return
        self._set_cors_headers()
        self.finish(encode_response(result))

    def get(self, method: str) -> None:
        self._handle(method)

    def post(self, method: str) -> None:
        self._handle(method)
