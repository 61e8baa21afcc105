"""A pid-file lock that stops the same command line from running twice at once.

The pid file is ``<pid_dir>/<md5 of this process's command line>.pid`` and
lists the pids of processes running that command. A listed pid only counts
while a process with that pid still runs the same command line, so pids left
behind by crashed runs never block. Different arguments give a different
command line, hence a different lock.
"""

from __future__ import annotations

import hashlib
import os
import errno as errno
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import PIPE as PIPE
from subprocess import Popen as Popen

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, the check stays best-effort
    fcntl = None  # type: ignore[assignment]


class PidLockAlreadyTakenExit(SystemExit):
    """Raised to end the program when another process holds the lock."""


class LockDirectoryError(OSError):
    """The directory for the pid files (``--lock-pid-dir``) cannot be created."""

    def __init__(self, pid_dir: str, reason: str) -> None:
        super().__init__(
            f"Cannot use {pid_dir} for the process lock's pid files ({reason}); pass "
            "--lock-pid-dir with a directory this user may write, or --no-lock"
        )


def getpcmd(pid: int) -> str:
    """The command line of process ``pid``, or a placeholder naming the pid if unknown."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/cmdline", encoding="utf8", errors="replace") as cmdline:
                return cmdline.read().replace("\0", " ").rstrip()
        except OSError:
            pass
    elif os.name != "nt":
        try:
            completed = subprocess.run(
                ["ps", "-o", "command=", "-p", str(pid)],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError:
            completed = None
        if completed is not None and completed.returncode == 0 and completed.stdout.strip():
            return completed.stdout.strip()
    return f"[PROCESS_WITH_PID={pid}]"


def get_info(pid_dir: str, my_pid: int | None = None) -> tuple[int, str, str]:
    """Return ``(pid, command line, pid file path)`` for ``my_pid`` (default: this process)."""
    if my_pid is None:
        my_pid = os.getpid()
    my_cmd = getpcmd(my_pid)
    digest = hashlib.md5(my_cmd.encode("utf8"), usedforsecurity=False).hexdigest()
    return my_pid, my_cmd, os.path.join(pid_dir, f"{digest}.pid")


def acquire_for(pid_dir: str, num_available: int = 1, kill_signal: int | None = None) -> bool:
    """Register this process in the lock for its command line; False if the lock is full.

    At most ``num_available`` processes with the same command line may hold
    the lock. With ``kill_signal``, the holders are sent that signal and one
    more holder is allowed (``--take-lock``).
    """
    my_pid, my_cmd, pid_file = get_info(pid_dir)
    _make_private_directory(pid_dir)
    with _exclusive_access(pid_dir):
        return _register(my_pid, my_cmd, pid_file, num_available, kill_signal)


def _register(
    my_pid: int, my_cmd: str, pid_file: str, num_available: int, kill_signal: int | None
) -> bool:
    # This process counts too when it is listed (it took the lock before): a second run in one
    # process is a second holder, as with Luigi.
    holders = {pid for pid in _read_pids_file(pid_file) if getpcmd(pid) == my_cmd}
    if kill_signal is not None:
        for pid in holders:
            os.kill(pid, kill_signal)
        print(f"Sent kill signal to Pids: {holders}")
        num_available += 1

    if len(holders) >= num_available:
        print(f"Pid(s) {holders} already running")
        if kill_signal is not None:
            print(
                'Note: There have (probably) been 1 other "--take-lock" process which continued to run! '
                "Probably no need to run this one as well."
            )
        return False

    _write_pids_file(pid_file, holders | {my_pid})
    return True


@contextmanager
def _exclusive_access(pid_dir: str) -> Iterator[None]:
    """Serialise read-check-write of pid files, so two processes started together can't both get in."""
    if fcntl is None:
        yield
        return
    directory = os.open(pid_dir, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        yield
    finally:
        os.close(directory)  # closing releases the lock


def _make_private_directory(pid_dir: str) -> None:
    try:
        parent = os.path.dirname(os.path.abspath(pid_dir))
        os.makedirs(parent, exist_ok=True)
        os.mkdir(pid_dir)
    except FileExistsError as exc:
        if not os.path.isdir(pid_dir):
            raise LockDirectoryError(
                pid_dir, f"{exc.filename} is a file, not a directory"
            ) from None
        return
    except OSError as exc:
        raise LockDirectoryError(pid_dir, exc.strerror or str(exc)) from exc
    os.chmod(pid_dir, 0o700)


def _read_pids_file(pid_file: str) -> set[int]:
    try:
        with open(pid_file, encoding="ascii", errors="replace") as pids:
            return {int(line) for line in (raw.strip() for raw in pids) if line.isdigit()}
    except FileNotFoundError:
        return set()


def _write_pids_file(pid_file: str, pids: set[int]) -> None:
    # Write beside the file and rename, so a concurrent reader never sees half a list.
    directory = os.path.dirname(pid_file) or "."
    handle, staged = tempfile.mkstemp(prefix=".pids-", dir=directory)
    with os.fdopen(handle, "w") as staged_file:
        staged_file.writelines(f"{pid}\n" for pid in sorted(pids))
    if os.name != "nt":
        # Other users running the same command must be able to update the list.
        os.chmod(staged, 0o777)
    os.replace(staged, pid_file)
