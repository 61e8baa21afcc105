"""``--workers`` below 1: an error on the command line, Luigi's meaning in build()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trunkline as luigi

FLOW = textwrap.dedent(
    """
    import trunkline as luigi

    class Touch(luigi.Task):
        root = luigi.Parameter()

        def output(self):
            return luigi.LocalTarget(f"{self.root}/touched")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")
    """
)


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_command_line_rejects_fewer_than_one_worker_and_runs_nothing(tmp_path: Path, workers: str) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    done = subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "flow", "Touch", "--root", str(tmp_path),
         "--local-scheduler", "--no-lock", "--workers", workers],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"--workers must be 1 or more (got {workers})" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "touched").exists()


def test_build_with_zero_workers_registers_the_tasks_and_runs_none(tmp_path: Path) -> None:
    class Touch(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "touched"))

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    assert luigi.build([Touch()], workers=0, local_scheduler=True) is True
    assert not (tmp_path / "touched").exists()
