"""The scheduler on a unix socket, reached with an http+unix:// URL."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from trunkline.rpc import RemoteScheduler


def test_scheduler_on_a_unix_socket_answers_the_client(tmp_path: Path) -> None:
    sock = tmp_path / "scheduler.sock"
    server = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "scheduler", "--unix-socket", str(sock), "--memory"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert time.monotonic() < deadline, "the unix socket never appeared"
            time.sleep(0.05)
        client = RemoteScheduler(f"http+unix://{urllib.parse.quote(str(sock), safe='')}/")
        client.add_task(worker="w", task_id="T", family="T")
        assert client.get_work(worker="w", current_tasks=[])["task_id"] == "T"
        client.close()
    finally:
        server.terminate()
        server.wait(30)
