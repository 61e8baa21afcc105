"""``trunklined`` / ``trunkline scheduler``: start the central scheduler service."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from trunkline.configuration import get_config

logger = logging.getLogger("luigi.server")


def default_state_path() -> str:
    configured = get_config().get("scheduler", "state_path", "")
    if configured and not configured.endswith(".pickle"):
        return str(configured)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "trunkline", "scheduler.sqlite3")


def parse_args(argv: Sequence[str] | None, prog: str = "trunklined") -> argparse.Namespace:
    """The command line of ``prog`` (``trunklined``, or ``trunkline scheduler``)."""
    parser = argparse.ArgumentParser(prog=prog, description="The trunkline central scheduler (Luigi's wire protocol).")
    parser.add_argument(
        "--address", default="127.0.0.1", help="address to listen on (default: %(default)s, loopback only)"
    )
    parser.add_argument(
        "--port", type=int, default=get_config().getint("scheduler", "port", 8082), help="TCP port (default: %(default)s)"
    )
    parser.add_argument("--unix-socket", help="listen on this unix socket instead of TCP")
    parser.add_argument(
        "--state-path",
        default=None,
        help=f"SQLite file holding the state, created 0600 (default: {default_state_path()})",
    )
    parser.add_argument("--memory", action="store_true", help="keep no state on disk (lost when the server stops)")
    parser.add_argument("--logdir", help="write logs to <logdir>/trunkline-server.log")
    parser.add_argument("--pidfile", help="write the pid here; refuse to start if it names a live process")
    parser.add_argument("--background", action="store_true", help="detach from the terminal")
    parser.add_argument("--auth-token", default=None, help="shared secret required for state-changing calls")
    parser.add_argument(
        "--read-only-open",
        action=argparse.BooleanOptionalAction,
        default=get_config().getboolean("scheduler", "auth_read_only_open", True),
        help="with an auth token, let read-only calls through without it",
    )
    return parser.parse_args(list(sys.argv[1:] if argv is None else argv))


def check_pidfile(path: str) -> None:
    try:
        pid = int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass
    raise SystemExit(f"trunklined: a scheduler (pid {pid}) is already running according to {path}")


def daemonize(logdir: str | None) -> None:
    """Detach from the terminal, standard streams to /dev/null or the log dir.

    Detaches through python-daemon's ``daemon.DaemonContext`` when it is installed, as
    luigid does: code that runs luigid in a test process patches that name so the server
    stays in the process it can stop. Without python-daemon, two forks and a new session.
    """
    out_path = os.path.join(logdir, "trunkline-server.out") if logdir else os.devnull
    try:
        import daemon  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        _double_fork(out_path)
        return
    out = open(out_path, "a")  # noqa: SIM115 - the daemon's stdout and stderr for its whole life
    # read through the module at call time, so a patched daemon.DaemonContext is the one used
    context = daemon.DaemonContext(stdout=out, stderr=out, working_directory=".", umask=0o022)
    context.open()


def _double_fork(out_path: str) -> None:
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    target = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 1)
    os.dup2(target, 2)


def install_stop_signals(stop: object) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop())  # type: ignore[operator]
