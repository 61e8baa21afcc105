"""Mistakes a new user makes get one clear line naming their file or task, not a traceback
through trunkline's own frames; an output that cannot be written names the output path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.task_register import TaskClassNotFoundException


def _python(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_syntax_error_in_the_users_module_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import trunkline as luigi\nclass A(luigi.Task)\n    pass\n")
    done = _python(tmp_path, "-m", "trunkline", "--module", "broken", "A", "--local-scheduler")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "broken.py, line 2" in lines[0] and "--module broken" in lines[0]


def test_a_misspelt_task_in_a_script_calling_run_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(
        textwrap.dedent(
            """
            import trunkline as luigi

            class Hello(luigi.Task):
                def complete(self):
                    return True

            if __name__ == "__main__":
                luigi.run()
            """
        )
    )
    done = _python(tmp_path, "script.py", "Helo", "--local-scheduler")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("trunkline: error: No task Helo. Did you mean: Hello")


def test_a_misspelt_task_is_still_luigis_exception_for_callers_that_catch_it() -> None:
    with pytest.raises(TaskClassNotFoundException):
        luigi.run(["NoSuchTaskAnywhere", "--local-scheduler", "--no-lock"])


def test_an_output_that_cannot_be_published_is_named_not_its_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "out.txt").mkdir()  # a directory where the file should go: the rename fails
    target = luigi.LocalTarget(str(tmp_path / "out.txt"))
    with pytest.raises(IsADirectoryError) as raised:
        with target.open("w") as f:
            f.write("data")
    assert str(raised.value) == f"[Errno 21] Is a directory: '{tmp_path / 'out.txt'}'"
    assert "tmp" not in str(raised.value).replace(str(tmp_path), "")
    assert os.listdir(tmp_path / "out.txt") == [] and os.listdir(tmp_path) == ["out.txt"]


def test_an_output_whose_temporary_file_cannot_be_created_is_named(tmp_path: Path) -> None:
    from trunkline.local_target import atomic_file

    missing = tmp_path / "no-such-dir" / "out.txt"
    with pytest.raises(FileNotFoundError) as raised:
        atomic_file(str(missing))
    assert raised.value.filename == str(missing)
