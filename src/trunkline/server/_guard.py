"""Who may talk to the scheduler: the ``[cors]`` options and the browser checks.

Workers (trunkline's and Luigi's) send neither ``Origin`` nor ``Referer``, and a
``Host`` naming the scheduler as they were told to reach it. A web page in a
browser sends an ``Origin`` (or at least a ``Referer``) naming its own site.
So, when the scheduler has no auth token:

- a request whose Origin/Referer names another site is refused (403), unless
  ``[cors]`` allows that origin, so a page elsewhere cannot pause the
  scheduler or mark tasks done with a hidden form;
- a request whose ``Host`` is a name the scheduler does not serve is refused
  (403): that is how a DNS-rebinding page reaches a loopback service. An IP
  address is always accepted (a rebinding page cannot make the browser send
  one), as are the loopback names, this machine's names and
  ``[scheduler] allowed_hosts`` (``*`` accepts any).

With a token set, the token is the gate and these checks are not needed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from trunkline.configuration import get_config
from trunkline.parameter import BoolParameter, IntParameter, ListParameter, Parameter
from trunkline.task import Config

_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class cors(Config):  # noqa: N801 - the class name is the config section name
    """``[cors]``: which other web origins may call the scheduler from a browser."""

    enabled = BoolParameter(default=False, description="Answer cross-origin (CORS) requests.")
    allowed_origins = ListParameter(default=(), description="Origins allowed when allow_any_origin is false.")
    allow_any_origin = BoolParameter(default=False, description="Allow every origin.")
    allow_null_origin = BoolParameter(default=False, description="Allow the 'null' origin (file:// pages, sandboxes).")
    max_age = IntParameter(default=86400, description="Access-Control-Max-Age of a preflight answer.")
    allowed_methods = Parameter(default="GET, OPTIONS", description="Access-Control-Allow-Methods.")
    allowed_headers = Parameter(default="Accept, Content-Type, Origin", description="Access-Control-Allow-Headers.")
    exposed_headers = Parameter(default="", description="Access-Control-Expose-Headers (none when empty).")
    allow_credentials = BoolParameter(default=False, description="Access-Control-Allow-Credentials: true.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "*" and "null" are spelt with the two switches above, never as list items.
        self.allowed_origins = {origin for origin in self.allowed_origins if origin not in ("*", "null")}

    def allowed_origin_header(self, origin: str) -> str | None:
        """What Access-Control-Allow-Origin answers ``origin`` (None: not allowed)."""
        if not self.enabled:
            return None
        if origin == "null":
            return "null" if self.allow_null_origin else None
        if self.allow_any_origin:
            return "*"
        return origin if origin in self.allowed_origins else None


def _host_name(host_header: str) -> str:
    """The name in a Host header, without the port (IPv6 literals keep no brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _machine_names() -> frozenset[str]:
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return frozenset(names)


def configured_hosts() -> tuple[str, ...]:
    """``[scheduler] allowed_hosts``: comma- or space-separated names."""
    raw = str(get_config().get("scheduler", "allowed_hosts", "") or "")
    return tuple(name.strip().lower().rstrip(".") for name in raw.replace(",", " ").split() if name.strip())


def host_is_served(host_header: str | None, extra: Iterable[str] = ()) -> bool:
    """True when ``Host`` names this scheduler (see the module's docstring)."""
    if not host_header:
        return True  # HTTP/1.0 clients may send none; a browser always does
    name = _host_name(host_header).rstrip(".")
    allowed = set(configured_hosts()) | {item.lower() for item in extra}
    if "*" in allowed or _is_ip(name) or name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    return name in allowed or name in _machine_names()


def _origin_of(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def same_origin(source: str, host_header: str | None) -> bool:
    """True when the Origin/Referer ``source`` is the scheduler's own site (its Host)."""
    origin = _origin_of(source)
    if origin is None or not host_header:
        return False
    return origin[1] == host_header.strip().lower()


def cross_origin_refusal(headers: Any, cors_config: cors) -> str | None:
    """Why a request with these headers comes from another site's page, or None if it does not."""
    origin = headers.get("Origin")
    host = headers.get("Host")
    if origin is not None:
        if same_origin(origin, host) or cors_config.allowed_origin_header(origin) is not None:
            return None
        return f"cross-origin request from {origin!r} refused (allow it in [cors], or set an auth token)"
    referer = headers.get("Referer")
    if referer and not same_origin(referer, host):
        source = _origin_of(referer)
        if source is not None and cors_config.allowed_origin_header(f"{source[0]}://{source[1]}") is not None:
            return None
        return "cross-origin request (by its Referer) refused (allow it in [cors], or set an auth token)"
    return None
