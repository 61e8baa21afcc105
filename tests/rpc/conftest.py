from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def luigid(tmp_path: Path) -> Iterator[int]:
    """A real Luigi 3.8.1 central scheduler on a free loopback port."""
    executable = shutil.which("luigid", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("luigid (Luigi 3.8.1, from the test extra) is not installed")
    port = free_port()
    process = subprocess.Popen(
        [executable, "--address", "127.0.0.1", "--port", str(port), "--state-path", str(tmp_path / "state.pickle"), "--logdir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("luigid did not start listening within 30 s")
    yield port
    process.terminate()
    process.wait(timeout=30)
