"""The README's main example, run three times as cron would run it."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
END = datetime.date(2024, 3, 31)


def make_dumps(root: Path, *skip: datetime.date) -> None:
    args = [sys.executable, str(EXAMPLES / "make_dumps.py"), "--root", str(root), "--end", str(END)]
    for day in skip:
        args += ["--skip", str(day)]
    subprocess.run(args, check=True, capture_output=True)


def run_example(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "daily_aggregation.py"),
            "--local-scheduler",
            "--paths-root",
            str(root),
            "--date",
            str(END),
            "--log-level",
            "INFO",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(EXAMPLES)},
    )


def aggregated(root: Path) -> set[str]:
    folder = root / "aggregated"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_three_runs_wait_for_missing_dump_then_finish_then_do_nothing(tmp_path: Path) -> None:
    missing = END - datetime.timedelta(days=4)
    make_dumps(tmp_path, missing)

    first = run_example(tmp_path)
    assert first.returncode == 0, first.stderr
    after_first = aggregated(tmp_path)
    # Windows containing the missing day wait; the others ran.
    for window in (3, 7, 14):
        for back in range(10):
            day = END - datetime.timedelta(days=back)
            covers_missing = day - datetime.timedelta(days=window - 1) <= missing <= day
            assert (f"{day}-{window}.txt" in after_first) != covers_missing
    assert "were missing external dependencies" in first.stderr
    assert f"DataDump(date={missing})" in first.stderr

    make_dumps(tmp_path)
    second = run_example(tmp_path)
    assert second.returncode == 0, second.stderr
    after_second = aggregated(tmp_path)
    assert len(after_second) == 30
    newly_ran = len(after_second) - len(after_first)
    # the newly possible aggregations, and the RunAll wrapper now that they exist
    assert f"* {newly_ran + 1} ran successfully:" in second.stderr
    assert "This progress looks :) because there were no failed tasks or missing dependencies" in second.stderr

    third = run_example(tmp_path)
    assert third.returncode == 0
    assert "Did not run any tasks" in third.stderr
    assert aggregated(tmp_path) == after_second
