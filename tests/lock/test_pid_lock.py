from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import luigi.lock
import pytest

from trunkline import lock

# Every process started from this script has the same command line, so they
# compete for the same lock; the lock size and signal come from the environment
# so they don't change the command line.
_CONTENDER = textwrap.dedent(
    """
    import os, signal, sys
    from trunkline import lock

    def on_signal(signum, frame):
        print("signalled", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGUSR1, on_signal)
    kill_signal = signal.SIGUSR1 if os.environ.get("TAKE_LOCK") else None
    size = int(os.environ.get("LOCK_SIZE", "1"))
    if os.environ.get("WAIT_FOR_GO"):
        print("ready", flush=True)
        sys.stdin.readline()
    print("acquired" if lock.acquire_for(sys.argv[1], size, kill_signal) else "refused", flush=True)
    sys.stdin.read()
    """
)


def _start_contender(pid_dir: Path, **env: str) -> subprocess.Popen[str]:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env)
    return subprocess.Popen(
        [sys.executable, "-c", _CONTENDER, str(pid_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=60)
    return output


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    # Right after exec the kernel briefly shows an empty command line; wait it out.
    for _ in range(1000):
        if Path(f"/proc/{process.pid}/cmdline").read_bytes():
            break
        time.sleep(0.001)
    yield process
    process.kill()
    process.wait()


def test_getpcmd_returns_the_command_line_of_a_running_process(
    sleeper: subprocess.Popen[bytes],
) -> None:
    assert lock.getpcmd(sleeper.pid) == "sleep 60"


def test_getpcmd_of_an_unknown_pid_is_a_placeholder_naming_the_pid() -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    assert lock.getpcmd(finished.pid) == f"[PROCESS_WITH_PID={finished.pid}]"


def test_pid_file_is_named_after_the_md5_of_the_command_line(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid, command, pid_file = lock.get_info(str(tmp_path), sleeper.pid)
    assert (pid, command) == (sleeper.pid, "sleep 60")
    assert pid_file == str(tmp_path / (hashlib.md5(b"sleep 60").hexdigest() + ".pid"))


def test_pid_file_location_agrees_with_luigi(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    assert lock.get_info(str(tmp_path), sleeper.pid) == luigi.lock.get_info(
        str(tmp_path), sleeper.pid
    )


def test_first_acquirer_gets_the_lock_in_a_private_directory(tmp_path: Path) -> None:
    pid_dir = tmp_path / "locks"
    assert lock.acquire_for(str(pid_dir))
    assert stat.S_IMODE(pid_dir.stat().st_mode) == 0o700
    _, _, pid_file = lock.get_info(str(pid_dir))
    assert Path(pid_file).read_text().split() == [str(os.getpid())]


def test_same_process_taking_its_lock_again_counts_as_a_second_holder(tmp_path: Path) -> None:
    # Luigi's rule (its lock_test checks it): a listed pid with our command line is a holder,
    # even when it is this process; so a second run inside one process needs lock_size 2.
    assert lock.acquire_for(str(tmp_path))
    assert not lock.acquire_for(str(tmp_path))
    assert lock.acquire_for(str(tmp_path), num_available=2)


def test_second_process_with_the_same_command_line_is_refused_and_told_who_holds_it(
    tmp_path: Path,
) -> None:
    holder = _start_contender(tmp_path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "acquired"
        late = _start_contender(tmp_path)
        output = _finish(late)
        assert output.splitlines() == [f"Pid(s) {{{holder.pid}}} already running", "refused"]
    finally:
        _finish(holder)


def test_lock_size_two_admits_a_second_process_but_not_a_third(tmp_path: Path) -> None:
    first = _start_contender(tmp_path, LOCK_SIZE="2")
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "acquired"
        second = _start_contender(tmp_path, LOCK_SIZE="2")
        try:
            assert second.stdout is not None and second.stdout.readline().strip() == "acquired"
            third = _finish(_start_contender(tmp_path, LOCK_SIZE="2"))
            assert third.splitlines()[-1] == "refused"
        finally:
            _finish(second)
    finally:
        _finish(first)


def test_of_several_processes_started_together_exactly_one_gets_the_lock(tmp_path: Path) -> None:
    contenders = [_start_contender(tmp_path, WAIT_FOR_GO="1") for _ in range(4)]
    try:
        for contender in contenders:
            assert contender.stdout is not None and contender.stdout.readline().strip() == "ready"
        for contender in contenders:  # release them all at once
            assert contender.stdin is not None
            contender.stdin.write("go\n")
            contender.stdin.flush()
        outcomes = []
        for contender in contenders:
            assert contender.stdout is not None
            line = contender.stdout.readline().strip()
            outcomes.append(
                contender.stdout.readline().strip() if line.startswith("Pid(s)") else line
            )
    finally:
        for contender in contenders:
            _finish(contender)
    assert sorted(outcomes) == ["acquired", "refused", "refused", "refused"]


def test_lock_left_by_a_process_that_died_does_not_block(tmp_path: Path) -> None:
    crashed = _start_contender(tmp_path)
    assert crashed.stdout is not None and crashed.stdout.readline().strip() == "acquired"
    crashed.kill()
    _finish(crashed)
    successor = _start_contender(tmp_path)
    try:
        assert successor.stdout is not None and successor.stdout.readline().strip() == "acquired"
    finally:
        _finish(successor)
    (pid_file,) = tmp_path.glob("*.pid")
    assert str(crashed.pid) not in pid_file.read_text().split()


def test_listed_pid_now_running_another_command_does_not_block(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    _, _, pid_file = lock.get_info(str(tmp_path))
    Path(pid_file).write_text(f"{sleeper.pid}\n")
    assert lock.acquire_for(str(tmp_path))
    assert Path(pid_file).read_text().split() == [str(os.getpid())]


def test_take_lock_signals_the_holder_and_runs_anyway(tmp_path: Path) -> None:
    holder = _start_contender(tmp_path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "acquired"
        taker = _finish(_start_contender(tmp_path, TAKE_LOCK="1"))
        assert taker.splitlines() == [f"Sent kill signal to Pids: {{{holder.pid}}}", "acquired"]
        assert holder.stdout.readline().strip() == "signalled"
    finally:
        _finish(holder)


def test_pid_file_can_be_updated_by_other_users(tmp_path: Path) -> None:
    assert lock.acquire_for(str(tmp_path))
    _, _, pid_file = lock.get_info(str(tmp_path))
    assert stat.S_IMODE(os.stat(pid_file).st_mode) == 0o777


def test_lock_taken_exit_ends_the_program() -> None:
    assert issubclass(lock.PidLockAlreadyTakenExit, SystemExit)
