"""`trunklined --background --pidfile`: detaches, records its pid, refuses a second copy."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
