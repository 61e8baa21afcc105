"""trunkline.server: the central scheduler as an HTTP service (Luigi's ``luigi.server``).

``app(scheduler)`` is a ``tornado.web.Application`` serving Luigi's wire
protocol at ``/api/<method>``, the visualiser, the task-history pages and
``/metrics``; ``run()`` serves it until stopped; ``main()`` is the
``trunklined`` command (also ``trunkline scheduler``). The handler classes
carry Luigi's names, for code that mounts them in its own application.
"""

from __future__ import annotations

import atexit  # noqa: F401 - Luigi's module has it; code reaches it through this one
import datetime
import json  # noqa: F401
import logging
import os
import signal  # noqa: F401
import sys  # noqa: F401
import time
from collections.abc import Sequence
from typing import Any

import tornado.escape
import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from trunkline import parameter  # noqa: F401
from trunkline._protocol import RPC_METHODS  # noqa: F401
from trunkline.configuration import get_config
from trunkline.scheduler import MemoryStore, Scheduler, SqliteStore
from trunkline.scheduler.config import scheduler as scheduler_config
from trunkline.server._api import RPCHandler
from trunkline.server._cli import check_pidfile, daemonize, default_state_path, install_stop_signals, parse_args
from trunkline.server._connections import LimitedHTTPServer, create_private_file, server_limits
from trunkline.server._guard import cors
from trunkline.server._history import (
    ByIdHandler,
    ByNameHandler,
    ByParamsHandler,
    ByTaskIdHandler,
    RecentRunsHandler,
    TaskEventsHandler,
    TaskNamesHandler,
    history_handlers,
)
from trunkline.server._visualiser import RootPathHandler, visualiser_handlers
from trunkline.task import Config  # noqa: F401

logger = logging.getLogger("luigi.server")

# Requests larger than this are refused (413) before they reach the scheduler.
MAX_BODY_BYTES = 64 * 1024 * 1024
PRUNE_INTERVAL_SECONDS = 60.0
TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")

# Luigi's names for the history pages' handlers.
RecentRunHandler = RecentRunsHandler
AllRunHandler = TaskNamesHandler
SelectedRunHandler = TaskEventsHandler

__all__ = [
    "AllRunHandler", "BaseTaskHistoryHandler", "ByIdHandler", "ByNameHandler", "ByParamsHandler", "ByTaskIdHandler",
    "MetricsHandler", "RPCHandler", "RecentRunHandler", "RootPathHandler", "SelectedRunHandler", "app", "cors",
    "from_utc", "main", "run", "stop",
]


class BaseTaskHistoryHandler(tornado.web.RequestHandler):
    """A base for history pages of one's own: ``self._scheduler`` and the page
    templates (``recent.html``, ``show.html``, ``menu.html``, ``history.html``,
    rendered with Luigi's variables)."""

    def initialize(self, scheduler: Any) -> None:
        self._scheduler = scheduler

    def get_template_path(self) -> str:
        return TEMPLATE_DIR


class MetricsHandler(tornado.web.RequestHandler):
    """``/metrics``: what the scheduler's metrics collector reports (Prometheus's
    text format with ``[scheduler] metrics_collector = prometheus``); 404 when the
    scheduler has no collector or it reports nothing."""

    def initialize(self, scheduler: Any) -> None:
        self._scheduler = scheduler

    def get(self) -> None:
        collector: Any = getattr(getattr(self._scheduler, "_state", None), "_metrics_collector", None)
        metrics = collector.generate_latest() if collector is not None else None
        if not metrics:
            self.set_status(404)  # tornado finishes the empty answer
            return
        collector.configure_http_handler(self)
        self.write(metrics)


def from_utc(utcTime: str, fmt: str | None = None) -> int:  # noqa: N803 - Luigi's argument name
    """Seconds since the epoch of a ``YYYY-mm-dd HH:MM:SS[.ffffff]`` time (or ``fmt``),
    read as local time as Luigi does; ValueError when no format matches."""
    for candidate in (fmt,) if fmt is not None else ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.datetime.strptime(utcTime, candidate)
        except ValueError:
            continue
        return int(time.mktime(parsed.timetuple()))
    raise ValueError(f"No UTC format matches {utcTime}")


def app(
    scheduler: Any, auth_token: str | None = None, read_only_open: bool = True, task_history: Any = None, **settings: Any
) -> tornado.web.Application:
    """The scheduler's web application; ``scheduler`` is any object with its methods.
    ``task_history`` (default: the scheduler's ``task_history``, if any) feeds /history."""
    token = auth_token if auth_token is not None else get_config().get("scheduler", "auth_token", "")
    api_kwargs = {"scheduler": scheduler, "auth_token": token or "", "read_only_open": read_only_open}
    handlers: list[Any] = [(r"/api/(.*)", RPCHandler, api_kwargs)]
    history = task_history or getattr(scheduler, "task_history", None)
    handlers.extend(history_handlers(scheduler, history, auth_token=token or "", read_only_open=read_only_open))
    handlers.extend(visualiser_handlers(scheduler, auth_token=token or "", read_only_open=read_only_open))
    handlers.append((r"/metrics", MetricsHandler, {"scheduler": scheduler}))
    settings.setdefault("log_function", _log_request)
    settings.setdefault("template_path", TEMPLATE_DIR)
    return tornado.web.Application(handlers, **settings)


_access_log = logging.getLogger("tornado.access")


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Successful calls at DEBUG (a busy scheduler answers thousands a second);
    refusals and failures at WARNING/ERROR, as tornado logs them."""
    status = handler.get_status()
    level = logging.DEBUG if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if _access_log.isEnabledFor(level):
        request = handler.request
        _access_log.log(level, "%d %s %.2fms", status, handler._request_summary(), 1000.0 * request.request_time())


def _init_api(
    scheduler: Any,
    api_port: int | None = None,
    address: str | None = None,
    unix_socket: str | None = None,
    auth_token: str | None = None,
    read_only_open: bool = True,
    task_history: Any = None,
) -> list[Any]:
    """Serve ``app(scheduler)`` on the current IO loop; the bound socket names (Luigi's helper)."""
    application = app(scheduler, auth_token=auth_token, read_only_open=read_only_open, task_history=task_history)
    if unix_socket is not None:
        sockets = [tornado.netutil.bind_unix_socket(unix_socket)]
    else:
        sockets = tornado.netutil.bind_sockets(api_port or 0, address=address or "127.0.0.1")
    server = LimitedHTTPServer(application, limits=server_limits(MAX_BODY_BYTES))
    server.add_sockets(sockets)
    _servers.append(server)
    return [sock.getsockname() for sock in sockets]


_servers: list[tornado.httpserver.HTTPServer] = []


def _configured_state_path() -> str | None:
    """``[scheduler] state_path``, unless it names a Luigi pickle (never read here)."""
    configured = str(get_config().get("scheduler", "state_path", "") or "")
    return configured if configured and not configured.endswith(".pickle") else None


def run(
    api_port: int = 8082,
    address: str | None = None,
    unix_socket: str | None = None,
    scheduler: Any = None,
    state_path: str | None = None,
    auth_token: str | None = None,
    read_only_open: bool = True,
) -> None:
    """Serve the scheduler until SIGTERM/SIGINT; the state is saved as it changes.

    ``address`` None is loopback only (Luigi's None is every interface: name it).
    Without ``state_path``, ``[scheduler] state_path`` is used when set, else the
    state is kept in memory."""
    task_history = None
    if scheduler is None:
        state_path = state_path or _configured_state_path()
        if state_path:
            create_private_file(state_path)
        store = SqliteStore(state_path) if state_path else MemoryStore()
        if scheduler_config().record_task_history:
            from trunkline.db_task_history import DbTaskHistory  # [task_history] db_connection

            task_history = DbTaskHistory()
        scheduler = Scheduler(store=store, task_history_impl=task_history)
    address = address or "127.0.0.1"
    names = _init_api(scheduler, api_port, address, unix_socket, auth_token, read_only_open, task_history)
    where = f"state in {state_path}" if state_path else "state in memory only"
    if unix_socket:
        logger.info("Scheduler listening on unix socket %s, %s", unix_socket, where)
    else:
        host, port = names[0][0], names[0][1]
        logger.info("Scheduler listening on http://%s:%d/, %s", f"[{host}]" if ":" in host else host, port, where)
    loop = tornado.ioloop.IOLoop.current()
    pruner = tornado.ioloop.PeriodicCallback(scheduler.prune, PRUNE_INTERVAL_SECONDS * 1000)
    pruner.start()

    def stop_from_signal() -> None:
        loop.add_callback_from_signal(loop.stop)

    install_stop_signals(stop_from_signal)
    try:
        loop.start()
    finally:
        pruner.stop()
        while _servers:
            _servers.pop().stop()
        if hasattr(scheduler, "close"):
            scheduler.close()
        if task_history is not None:
            task_history.close()
        logger.info("Scheduler stopped")


def stop() -> None:
    """Stop the IO loop that ``run()`` serves on."""
    tornado.ioloop.IOLoop.current().stop()


def main(argv: Sequence[str] | None = None, prog: str = "trunklined") -> None:
    """The ``trunklined`` command (``prog`` names it in usage and errors)."""
    args = parse_args(argv, prog)
    if args.pidfile:
        check_pidfile(args.pidfile)
    if args.background:
        daemonize(args.logdir)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(str(os.getpid()))
    from trunkline.setup_logging import DaemonLogging

    DaemonLogging.setup(args)
    state_path = None if args.memory else (args.state_path or default_state_path())
    try:
        run(
            api_port=args.port,
            address=args.address,
            unix_socket=args.unix_socket,
            state_path=state_path,
            auth_token=args.auth_token,
            read_only_open=args.read_only_open,
        )
    finally:
        if args.pidfile:
            try:
                os.remove(args.pidfile)
            except OSError:
                pass
