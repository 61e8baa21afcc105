"""The typed core (scheduler, worker, rpc, server) passes mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ["scheduler", "worker", "rpc.py", "_http.py", "server", "_protocol.py", "task_history.py", "db_task_history.py"]


def test_core_packages_type_check() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test extra")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *[str(ROOT / "src" / "trunkline" / p) for p in CORE]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
