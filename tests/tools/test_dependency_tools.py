"""`trunkline deps-tree`, `trunkline deps` and `--help`, as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

FLOW = textwrap.dedent(
    """
    import trunkline as luigi

    class Raw(luigi.ExternalTask):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(f"{ROOT}/raw-{self.n}")

    class Clean(luigi.Task):
        n = luigi.IntParameter(description="which raw file")

        def requires(self):
            return Raw(self.n)

        def output(self):
            return luigi.LocalTarget(f"{ROOT}/clean-{self.n}")

    class Report(luigi.Task):
        size = luigi.IntParameter(default=2, description="how many files to report on")

        def requires(self):
            return [Clean(n) for n in range(self.size)]
    """
)


def trunkline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flow.py").write_text(f"ROOT = {str(tmp_path)!r}\n" + FLOW)
    return subprocess.run(
        [sys.executable, "-m", "trunkline", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deps_tree_prints_every_task_with_its_completeness(tmp_path: Path) -> None:
    (tmp_path / "raw-0").write_text("x")
    done = trunkline(tmp_path, "deps-tree", "--module", "flow", "Report")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("└─--[Report-{'size': '2'} (PENDING)]")
    assert "[Raw-{'n': '0'} (COMPLETE)]" in done.stdout
    assert "[Raw-{'n': '1'} (PENDING)]" in done.stdout
    assert sum("Clean-" in line for line in lines) == 2


def test_deps_lists_the_tasks_on_paths_to_a_family_with_their_outputs(tmp_path: Path) -> None:
    done = trunkline(tmp_path, "deps", "--module", "flow", "Report", "--upstream-family", "Raw")
    assert done.returncode == 0, done.stderr
    assert "TASK: Raw(n=1)" in done.stdout
    assert f"[FileSystem] {tmp_path}/raw-1" in done.stdout


def test_help_lists_the_task_parameters_with_their_descriptions(tmp_path: Path) -> None:
    done = trunkline(tmp_path, "--module", "flow", "Report", "--help")
    assert done.returncode == 0
    assert "--size" in done.stdout and "how many files to report on" in done.stdout
    assert "[Int, default: 2]" in done.stdout
    assert "--local-scheduler" in done.stdout
    assert "which raw file" not in done.stdout  # other tasks' flags only with --help-all
    everything = trunkline(tmp_path, "--module", "flow", "Report", "--help-all")
    assert "--Clean-n" in everything.stdout and "which raw file" in everything.stdout
