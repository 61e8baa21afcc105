"""Running the scheduler as a daemon: pid files, the spool log and detaching (``luigi.process``).

``trunklined --background`` uses the scheduler's own start-up code; this module keeps Luigi's
helpers for code that calls them, e.g. ``process.daemonize(server.run, pidfile=...)``.
"""

from __future__ import annotations

import datetime
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable
from typing import Any

rootlogger = logging.getLogger()
server_logger = logging.getLogger("luigi.server")


def check_pid(pidfile: str | None) -> int:
    """The pid recorded in ``pidfile`` if that process is alive, else 0."""
    if not pidfile or not os.path.exists(pidfile):
        return 0
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return 0
    return pid


def write_pid(pidfile: str) -> None:
    server_logger.info("Writing pid file")
    directory = os.path.dirname(pidfile)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(pidfile, "w") as f:
        f.write(str(os.getpid()))


def get_log_format() -> str:
    return "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"


def get_spool_handler(filename: str) -> logging.Handler:
    """A log file rotated daily, a week of history kept."""
    handler = logging.handlers.TimedRotatingFileHandler(
        filename=filename, when="d", encoding="utf8", backupCount=7
    )
    handler.setFormatter(logging.Formatter(get_log_format()))
    return handler


def _server_already_running(pidfile: str | None) -> bool:
    return bool(pidfile and check_pid(pidfile))


def _detach(stdout_path: str, stderr_path: str) -> None:
    # Two forks and a new session: the daemon is no process group leader, so it can never
    # acquire a controlling terminal again. python-daemon does the same; it is not a dependency.
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(os.devnull) as null:
        os.dup2(null.fileno(), 0)
    for path, fd in ((stdout_path, 1), (stderr_path, 2)):
        with open(path, "a+") as f:
            os.dup2(f.fileno(), fd)


def daemonize(
    cmd: Callable[..., Any],
    pidfile: str | None = None,
    logdir: str | None = None,
    api_port: int = 8082,
    address: str | None = None,
    unix_socket: str | None = None,
) -> None:
    """Detach from the terminal and call ``cmd(api_port=, address=, unix_socket=)``.

    Logs go to ``<logdir>/luigi-server.log`` (default ``/var/log/luigi``), standard output and
    error to dated files beside it. With ``pidfile``, a live server recorded there wins and
    this one returns without serving.
    """
    logdir = logdir or "/var/log/luigi"
    os.makedirs(logdir, exist_ok=True)
    today = datetime.date.today()
    _detach(
        os.path.join(logdir, f"luigi-server-{today:%Y-%m-%d}.out"),
        os.path.join(logdir, f"luigi-server-{today:%Y-%m-%d}.err"),
    )
    rootlogger.addHandler(get_spool_handler(os.path.join(logdir, "luigi-server.log")))
    if pidfile:
        server_logger.info("Checking pid file")
        existing = check_pid(pidfile)
        if existing:
            server_logger.info("Server already running (pid=%s)", existing)
            return
        write_pid(pidfile)
    cmd(api_port=api_port, address=address, unix_socket=unix_socket)
