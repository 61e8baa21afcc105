"""``install_as_luigi()`` and the commands: code that says ``import luigi`` runs on trunkline.

Real Luigi 3.8.1 is installed in the test environment (the test extra), so
each check runs in a fresh interpreter: the alias must win over it there, and
this process keeps whichever ``luigi`` other tests imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trunkline


def run_python(code: str, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "TRUNKLINE_AS_LUIGI"}}
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_real_luigi_is_installed_beside_trunkline_so_the_alias_has_something_to_win_over() -> None:
    out = run_python("import luigi, trunkline; print(luigi.__file__ != trunkline.__file__)")
    assert out == "True"


def test_after_install_luigi_modules_are_trunkline_modules() -> None:
    out = run_python(
        """
        import trunkline
        trunkline.install_as_luigi()
        import luigi, luigi.worker, luigi.scheduler, luigi.tools.range
        from luigi.task import Task
        from luigi import LocalTarget
        print(luigi.worker is trunkline.worker, luigi.scheduler is trunkline.scheduler,
              luigi.tools.range is trunkline.tools.range, Task is trunkline.Task,
              LocalTarget is trunkline.LocalTarget)
        """
    )
    assert out == "True True True True True"


def test_luigi_answers_the_luigi_version_while_trunkline_keeps_its_own() -> None:
    out = run_python(
        """
        import importlib.metadata, trunkline
        trunkline.install_as_luigi()
        import luigi
        from luigi.__version__ import VERSION
        print(luigi.__version__, luigi.VERSION, VERSION, importlib.metadata.version("luigi"), trunkline.__version__)
        """
    )
    assert out.split() == ["3.8.1", "3.8.1", "3.8.1", "3.8.1", trunkline.__version__]


def test_trunkline_modules_keep_their_own_import_spec_under_the_alias() -> None:
    out = run_python(
        """
        import pickle, trunkline
        trunkline.install_as_luigi()
        import luigi.local_target
        print(trunkline.local_target.__spec__.name, trunkline.local_target.__name__)
        print(type(pickle.loads(pickle.dumps(luigi.LocalTarget("x")))).__module__)
        """
    )
    assert out.splitlines() == ["trunkline.local_target trunkline.local_target", "trunkline.local_target"]


def test_calling_it_twice_is_harmless() -> None:
    out = run_python(
        """
        import sys, trunkline
        first = trunkline.install_as_luigi()
        second = trunkline.install_as_luigi()
        from trunkline._luigi_alias import _LuigiAliasFinder
        print(first is second, sum(isinstance(f, _LuigiAliasFinder) for f in sys.meta_path))
        """
    )
    assert out == "True 1"


def test_a_real_luigi_imported_first_is_a_clear_error() -> None:
    out = run_python(
        """
        import luigi, trunkline
        try:
            trunkline.install_as_luigi()
        except ImportError as exc:
            print(type(exc).__name__, "|", exc)
        """
    )
    name, message = out.split(" | ", 1)
    assert name == "LuigiAliasError"
    assert "already imported from" in message and "before anything imports luigi" in message


def test_python_subprocesses_started_after_install_get_trunkline_too() -> None:
    out = run_python(
        """
        import subprocess, sys, trunkline
        trunkline.install_as_luigi()
        child = "import luigi, luigi.worker, trunkline; print(luigi.worker is trunkline.worker, luigi.__version__)"
        print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout.strip())
        """
    )
    assert out == "True 3.8.1"


def test_the_workers_child_processes_run_tasks_with_trunkline_classes(tmp_path: Path) -> None:
    out = run_python(
        f"""
        import trunkline
        trunkline.install_as_luigi()
        import luigi

        class Probe(luigi.Task):
            n = luigi.IntParameter()
            def output(self):
                return luigi.LocalTarget(r"{tmp_path}/probe-%d" % self.n)
            def run(self):
                import luigi as seen
                with self.output().open("w") as f:
                    f.write(str(seen.Task is trunkline.Task))

        ok = luigi.build([Probe(n=i) for i in range(3)], workers=2, local_scheduler=True, log_level="ERROR")
        print(ok, sorted({{open(r"{tmp_path}/probe-%d" % i).read() for i in range(3)}}))
        """
    )
    assert out == "True ['True']"


PROJECT = '''
import luigi
from luigi.util import requires


class Words(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("words.txt")


@requires(Words)
class Count(luigi.Task):
    def output(self):
        return luigi.LocalTarget("count.txt")

    def run(self):
        import trunkline
        with self.input().open() as words, self.output().open("w") as out:
            out.write("%d %s %s" % (len(words.read().split()), luigi.__version__, type(self).__mro__[1] is trunkline.Task))
'''


def test_a_project_written_for_import_luigi_runs_with_the_trunkline_command_unedited(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PROJECT)
    (tmp_path / "words.txt").write_text("a b c d\n")
    trunkline_command = Path(sys.executable).with_name("trunkline")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "TRUNKLINE_AS_LUIGI"}}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [str(trunkline_command), "--module", "pipeline", "Count", "--local-scheduler", "--log-level", "WARNING"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "count.txt").read_text() == "4 3.8.1 True"


def test_python_dash_m_trunkline_installs_the_alias_too(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PROJECT)
    (tmp_path / "words.txt").write_text("one two\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "TRUNKLINE_AS_LUIGI"}}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "pipeline", "Count", "--local-scheduler"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "count.txt").read_text() == "2 3.8.1 True"


def test_the_switch_turns_the_commands_alias_off(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text("import luigi\nimport trunkline\nprint('ALIASED', luigi.Task is trunkline.Task)\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH"}}
    env.update(PYTHONPATH=str(tmp_path), TRUNKLINE_AS_LUIGI="0")
    result = subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "pipeline", "NoSuchTask", "--local-scheduler"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "ALIASED False" in result.stdout


@pytest.mark.parametrize("name", ["install_as_luigi"])
def test_install_as_luigi_is_a_top_level_name(name: str) -> None:
    assert name in trunkline.__all__ and callable(getattr(trunkline, name))
