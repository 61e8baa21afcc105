"""ExternalProgramTask runs real subprocesses: success, failure, death by a signal, tracking URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.contrib.external_program import (
    ExternalProgramRunError,
    ExternalProgramTask,
    ExternalPythonProgramTask,
)

from ._recording import run_with_recording


class PythonScript(ExternalProgramTask):
    """Runs `python -c <code>` and owns one output file."""

    code = luigi.Parameter()
    target = luigi.Parameter()

    def program_args(self) -> list[str]:
        return [sys.executable, "-c", self.code, self.target]

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(self.target)


def test_a_program_that_succeeds_writes_its_output_and_the_task_is_done(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    code = "import sys; open(sys.argv[1], 'w').write('made by a child')"
    assert luigi.build([PythonScript(code=code, target=str(target))], local_scheduler=True)
    assert target.read_text() == "made by a child"


def test_a_failing_program_raises_with_its_exit_code_output_and_command(tmp_path: Path) -> None:
    code = "import sys; print('to stdout'); print('to stderr', file=sys.stderr); sys.exit(3)"
    task = PythonScript(code=code, target=str(tmp_path / "never"))
    with pytest.raises(ExternalProgramRunError) as caught:
        task.run()
    error = caught.value
    assert error.out == "to stdout\n"
    assert error.err == "to stderr\n"
    text = str(error)
    assert "return code=3" in text
    assert "STDOUT: to stdout" in text and "STDERR: to stderr" in text
    assert f"COMMAND: {sys.executable} -c" in text


def test_the_failure_output_reaches_the_scheduler_as_the_tasks_error(tmp_path: Path) -> None:
    code = "import sys; print('the real reason', file=sys.stderr); sys.exit(1)"
    task = PythonScript(code=code, target=str(tmp_path / "never"))
    done, scheduler = run_with_recording(task)
    assert not done
    failed = scheduler.task_list("FAILED", "")
    assert task.task_id in failed
    assert "the real reason" in scheduler.fetch_error(task.task_id)["error"]


def test_a_program_killed_by_a_signal_fails_and_names_the_signal(tmp_path: Path) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    task = PythonScript(code=code, target=str(tmp_path / "never"))
    with pytest.raises(ExternalProgramRunError) as caught:
        task.run()
    assert "return code=-9" in str(caught.value)
    assert "SIGKILL" in str(caught.value)


def test_without_capture_the_output_goes_to_the_tasks_own_streams(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import sys
        from trunkline.contrib.external_program import ExternalProgramTask
        class Echo(ExternalProgramTask):
            def program_args(self):
                return [sys.executable, "-c", "print('straight through')"]
        Echo(capture_output=False).run()
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert "straight through" in result.stdout


def test_a_tracking_url_printed_by_the_program_reaches_the_scheduler(tmp_path: Path) -> None:
    class Tracked(PythonScript):
        pass

    code = (
        "import sys; print('starting', file=sys.stderr);"
        "print('Job UI at http://127.0.0.1:4040/jobs now', file=sys.stderr);"
        "open(sys.argv[1], 'w').write('x')"
    )
    task = Tracked(
        code=code,
        target=str(tmp_path / "out"),
        stream_for_searching_tracking_url="stderr",
        tracking_url_pattern=r"Job UI at (\S+)",
    )
    done, scheduler = run_with_recording(task)
    assert done
    assert scheduler.tracking_urls == ["http://127.0.0.1:4040/jobs"]


def test_tracked_output_is_still_captured_into_the_error(tmp_path: Path) -> None:
    code = "print('URL: http://x/1'); print('then it broke'); raise SystemExit(2)"
    task = PythonScript(
        code=code,
        target=str(tmp_path / "never"),
        stream_for_searching_tracking_url="stdout",
        tracking_url_pattern=r"URL: (\S+)",
    )
    seen: list[str] = []
    task.set_tracking_url = seen.append
    with pytest.raises(ExternalProgramRunError) as caught:
        task.run()
    assert seen == ["http://x/1"]
    assert caught.value.out == "URL: http://x/1\nthen it broke\n"


def test_sigterm_to_the_task_process_kills_the_program(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from trunkline.contrib.external_program import ExternalProgramTask
        class Sleeper(ExternalProgramTask):
            def program_args(self):
                code = "import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
                return [sys.executable, "-c", code]
        Sleeper().run()
    """))
    task_process = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline, "the program never started"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        task_process.send_signal(signal.SIGTERM)
        assert task_process.wait(timeout=30) == 128 + signal.SIGTERM
        # the program is gone too (reaped by its parent's kill and exit)
        deadline = time.monotonic() + 30
        while _alive(child):
            assert time.monotonic() < deadline, "the program outlived its task"
            time.sleep(0.05)
    finally:
        task_process.kill()
        task_process.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for init counts as dead
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_python_program_task_runs_with_extra_pythonpath_and_virtualenv(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "helper_mod.py").write_text("VALUE = 'from the extra path'\n")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    target = tmp_path / "out"

    class UsesHelper(ExternalPythonProgramTask):
        def program_args(self) -> list[str]:
            code = (
                "import os, sys, helper_mod;"
                "open(sys.argv[1], 'w').write(helper_mod.VALUE + '|' + os.environ['VIRTUAL_ENV']"
                " + '|' + os.environ['PATH'].split(':')[0])"
            )
            return [sys.executable, "-c", code, str(target)]

    UsesHelper(extra_pythonpath=str(library), virtualenv=str(venv)).run()
    assert target.read_text() == f"from the extra path|{venv}|{venv}/bin"
