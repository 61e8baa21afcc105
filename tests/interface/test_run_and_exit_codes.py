"""luigi.run() and the trunkline command: parameters, return values, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import trunkline as luigi

WORKFLOW = textwrap.dedent(
    """
    import trunkline as luigi

    class Greet(luigi.Task):
        name = luigi.Parameter()
        root = luigi.Parameter()

        def requires(self):
            return Shout(root=self.root)

        def output(self):
            return luigi.LocalTarget(f"{self.root}/greet-{self.name}")

        def run(self):
            with self.output().open("w") as f:
                f.write(f"hello {self.name}")

    class Shout(luigi.Task):
        root = luigi.Parameter()
        volume = luigi.IntParameter(default=1)

        def output(self):
            return luigi.LocalTarget(f"{self.root}/shout-{self.volume}")

        def run(self):
            with self.output().open("w") as f:
                f.write("!" * self.volume)

    class Explode(luigi.Task):
        root = luigi.Parameter()

        def output(self):
            return luigi.LocalTarget(f"{self.root}/never")

        def run(self):
            raise RuntimeError("explode")
    """
)


def run_cli(tmp_path: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flow.py").write_text(WORKFLOW)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    if config is not None:
        (tmp_path / "test.cfg").write_text(config)
        env["LUIGI_CONFIG_PATH"] = str(tmp_path / "test.cfg")
    return subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "flow", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_returns_true_and_passes_root_and_family_parameters(tmp_path: Path) -> None:
    class Inner(luigi.Task):
        level = luigi.IntParameter(default=1)

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"inner-{self.level}"))

        def run(self):
            with self.output().open("w") as f:
                f.write("i")

    class Outer(luigi.Task):
        word = luigi.Parameter()

        def requires(self):
            return Inner()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"outer-{self.word}"))

        def run(self):
            with self.output().open("w") as f:
                f.write(self.word)

    ok = luigi.run(
        ["Outer", "--word", "hi", "--Inner-level", "5", "--local-scheduler", "--no-lock"]
    )
    assert ok is True
    assert (tmp_path / "outer-hi").read_text() == "hi"
    assert (tmp_path / "inner-5").exists()


def test_run_with_main_task_cls_and_detailed_summary(tmp_path: Path) -> None:
    class Only(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "only"))

        def run(self):
            with self.output().open("w") as f:
                f.write("o")

    result = luigi.run(
        cmdline_args=["--no-lock"], main_task_cls=Only, local_scheduler=True, detailed_summary=True
    )
    assert result.status == luigi.LuigiStatusCode.SUCCESS
    assert "* 1 ran successfully:" in result.summary_text


def test_command_line_runs_the_workflow_and_prints_the_summary(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Greet", "--name", "ada", "--root", str(tmp_path), "--local-scheduler")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "greet-ada").read_text() == "hello ada"
    assert "===== Luigi Execution Summary =====" in done.stderr
    assert "* 2 ran successfully:" in done.stderr


def test_failed_task_exits_with_the_configured_retcode(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path,
        "Explode",
        "--root",
        str(tmp_path),
        "--local-scheduler",
        config="[retcode]\ntask_failed=30\n",
    )
    assert done.returncode == 30
    assert "* 1 failed:" in done.stderr


def test_failed_task_exits_zero_with_luigis_default_retcodes(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Explode", "--root", str(tmp_path), "--local-scheduler")
    # Luigi's [retcode] defaults are all 0, and the root task "ran" (it failed).
    assert done.returncode == 0


def test_unknown_task_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Greeet", "--local-scheduler")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Greeet" in done.stderr and "Greet" in done.stderr


def test_unknown_flag_names_the_closest_flag_and_exits_2(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Greet", "--nme", "x", "--root", "r", "--local-scheduler")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--nme" in done.stderr and "--name" in done.stderr


def test_missing_required_parameter_names_the_task_and_parameter(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Greet", "--root", str(tmp_path), "--local-scheduler")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "name" in done.stderr and "Greet" in done.stderr
