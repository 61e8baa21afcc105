"""trunkline.server: the central scheduler as an HTTP service (Luigi's ``luigi.server``).

``app(scheduler)`` is a ``tornado.web.Application`` serving Luigi's wire
protocol at ``/api/<method>``; ``run()`` serves it until stopped; ``main()`` is
the ``trunklined`` command (also ``trunkline scheduler``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from trunkline.configuration import get_config
from trunkline.scheduler import MemoryStore, Scheduler, SqliteStore
from trunkline.scheduler.config import scheduler as scheduler_config
from trunkline.server._api import RPCHandler
from trunkline.server._cli import check_pidfile, daemonize, default_state_path, install_stop_signals, parse_args
from trunkline.server._history import history_handlers
from trunkline.server._visualiser import visualiser_handlers

logger = logging.getLogger("luigi.server")

# Requests larger than this are refused (413) before they reach the scheduler.
MAX_BODY_BYTES = 64 * 1024 * 1024
PRUNE_INTERVAL_SECONDS = 60.0

__all__ = ["app", "main", "run"]


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
    settings.setdefault("log_function", _log_request)
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


def run(
    api_port: int = 8082,
    address: str = "127.0.0.1",
    unix_socket: str | None = None,
    scheduler: Any = None,
    state_path: str | None = None,
    auth_token: str | None = None,
    read_only_open: bool = True,
) -> None:
    """Serve the scheduler until SIGTERM/SIGINT; the state is saved as it changes."""
    task_history = None
    if scheduler is None:
        store = SqliteStore(state_path) if state_path else MemoryStore()
        if scheduler_config().record_task_history:
            from trunkline.db_task_history import DbTaskHistory  # [task_history] db_connection

            task_history = DbTaskHistory()
        scheduler = Scheduler(store=store, task_history_impl=task_history)
    application = app(scheduler, auth_token=auth_token, read_only_open=read_only_open, task_history=task_history)
    server = tornado.httpserver.HTTPServer(application, max_body_size=MAX_BODY_BYTES)
    if unix_socket:
        server.add_socket(tornado.netutil.bind_unix_socket(unix_socket))
        logger.info("Scheduler listening on unix socket %s", unix_socket)
    else:
        server.listen(api_port, address=address)
        logger.info("Scheduler listening on http://%s:%d/", address, api_port)
    loop = tornado.ioloop.IOLoop.current()
    pruner = tornado.ioloop.PeriodicCallback(scheduler.prune, PRUNE_INTERVAL_SECONDS * 1000)
    pruner.start()

    def stop() -> None:
        loop.add_callback_from_signal(loop.stop)

    install_stop_signals(stop)
    try:
        loop.start()
    finally:
        pruner.stop()
        server.stop()
        if hasattr(scheduler, "close"):
            scheduler.close()
        if task_history is not None:
            task_history.close()
        logger.info("Scheduler stopped")


def main(argv: Sequence[str] | None = None) -> None:
    """The ``trunklined`` command."""
    args = parse_args(argv)
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
