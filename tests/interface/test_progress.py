"""While a run is in progress: a live line in a terminal, plain log lines elsewhere."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

FLOW = (
    "import time\n"
    "import trunkline as luigi\n"
    "class Step(luigi.Task):\n"
    "    n = luigi.IntParameter()\n"
    "    def output(self):\n"
    "        return luigi.LocalTarget(f'step-{self.n}')\n"
    "    def run(self):\n"
    "        time.sleep(0.3)\n"
    "        self.output().open('w').close()\n"
    "class All(luigi.WrapperTask):\n"
    "    def requires(self):\n"
    "        return [Step(n) for n in range(3)]\n"
)


def command(tmp_path: Path) -> list[str]:
    (tmp_path / "flow.py").write_text(FLOW)
    return [sys.executable, "-m", "trunkline", "--module", "flow", "All", "--local-scheduler", "--log-level", "INFO"]


def test_without_a_terminal_progress_is_plain_log_lines(tmp_path: Path) -> None:
    done = subprocess.run(command(tmp_path), cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Progress: 4 done, 0 running, 0 pending, 0 failed" in done.stderr
    assert "\x1b[" not in done.stderr  # no terminal control codes in a log


def test_in_a_terminal_a_live_line_shows_the_counts(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(command(tmp_path), cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path), "TERM": "xterm"},
                               stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = output.decode(errors="replace")
    assert "pending" in text and "running" in text
    assert "\x1b[" in text  # drawn and redrawn in place
