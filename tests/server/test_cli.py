"""``trunkline scheduler`` and ``trunklined``: the help a new user reads first."""

from __future__ import annotations

import subprocess
import sys


def _help(*command: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trunkline", *command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_scheduler_help_shows_the_defaults_and_its_own_name() -> None:
    text = _help("scheduler")
    assert text.startswith("usage: trunkline scheduler ")
    assert "trunklined" not in text
    flat = " ".join(text.split())
    assert "--port PORT TCP port (default: 8082)" in flat
    state_help = flat[flat.index("--state-path STATE_PATH SQLite"):flat.index("--memory keep")]
    assert "(default: " in state_help and "scheduler.sqlite3)" in state_help


def test_trunklined_usage_names_trunklined() -> None:
    from trunkline.server._cli import parse_args

    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            parse_args(["--help"], "trunklined")
        except SystemExit:
            pass
    assert out.getvalue().startswith("usage: trunklined ")
