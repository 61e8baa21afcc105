"""`trunklined --background --pidfile`: detaches, records its pid, refuses a second copy."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import free_port, wait_for_port


def trunklined(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trunkline", "scheduler", *args], capture_output=True, text=True, timeout=60)


def test_background_scheduler_writes_its_pid_refuses_a_second_copy_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, pidfile = free_port(), tmp_path / "scheduler.pid"
    started = trunklined("--background", "--pidfile", str(pidfile), "--port", str(port), "--memory", "--logdir", str(tmp_path))
    assert started.returncode == 0, started.stderr
    wait_for_port(port)
    deadline = time.monotonic() + 10
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    try:
        second = trunklined("--pidfile", str(pidfile), "--port", str(free_port()), "--memory")
        assert second.returncode != 0
        assert f"pid {pid}" in second.stderr and "already running" in second.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.1)
    else:
        raise AssertionError("the scheduler did not stop on SIGTERM")


def _luigid_with_daemon_context_patched(args: list[str]) -> None:
    from unittest import mock

    from trunkline import cmdline

    with mock.patch("daemon.DaemonContext"):
        cmdline.luigid(args)


def test_luigid_background_detaches_through_daemon_context_so_patching_it_keeps_the_server_stoppable(
    tmp_path: Path,
) -> None:
    # luigid detaches with python-daemon; Luigi's own server tests patch daemon.DaemonContext
    # and then expect to stop the server by terminating the process they started
    pytest.importorskip("daemon", reason="python-daemon is what luigid detaches with")
    port, pidfile = free_port(), tmp_path / "luigid.pid"
    args = ["--port", str(port), "--background", "--memory", "--logdir", str(tmp_path), "--pidfile", str(pidfile)]
    process = multiprocessing.get_context("fork").Process(target=_luigid_with_daemon_context_patched, args=(args,))
    process.start()
    try:
        wait_for_port(port)
        assert int(pidfile.read_text()) == process.pid
    finally:
        process.terminate()
        process.join(20)
        if pidfile.exists():  # a server that escaped the process (the failure this guards against)
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
    assert not process.is_alive()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server outlived the process that started it"
