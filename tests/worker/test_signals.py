"""SIGTERM and SIGINT to a worker running tasks in child processes (real processes, real signals).

The workflow's tasks write their process id to a file and then wait far longer
than any test; the test waits for those files, signals the worker, and checks
what the worker did: its exit status, what the scheduler was told, and that no
task process is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

WORKFLOW = textwrap.dedent(
    """
    import os, sys, time
    import trunkline as luigi
    from trunkline.scheduler import Scheduler

    ROOT = os.environ["SIGNAL_TEST_ROOT"]

    class Hang(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(f"{ROOT}/out-{self.n}")

        def run(self):
            with open(f"{ROOT}/pid-{self.n}.tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(f"{ROOT}/pid-{self.n}.tmp", f"{ROOT}/pid-{self.n}")
            time.sleep(600)

    class All(luigi.WrapperTask):
        def requires(self):
            return [Hang(n=0), Hang(n=1)]

    class Factory:
        # Keeps the in-process scheduler, to show what the worker told it.
        def create_local_scheduler(self):
            self.scheduler = Scheduler()
            return self.scheduler

        def create_remote_scheduler(self, url):
            raise AssertionError("local scheduler only")

        def create_worker(self, scheduler, worker_processes, assistant=False):
            return luigi.worker.Worker(scheduler=scheduler, worker_processes=worker_processes)

    if __name__ == "__main__":
        factory = Factory()
        try:
            luigi.build([All()], workers=2, local_scheduler=True, worker_scheduler_factory=factory)
        finally:
            failed = factory.scheduler.task_list("FAILED", "")
            with open(f"{ROOT}/reported.json", "w") as f:
                f.write(json_module.dumps({tid: t.get("status") for tid, t in failed.items()}))
    """
).replace("import os, sys, time", "import os, sys, time\nimport json as json_module")


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    (tmp_path / "sigflow.py").write_text(WORKFLOW)
    return tmp_path


def _environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SIGNAL_TEST_ROOT"] = str(root)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return env


def _task_pids(root: Path, proc: subprocess.Popen[str]) -> list[int]:
    """Both task processes' ids, once both tasks have started (or the worker died)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        files = [root / "pid-0", root / "pid-1"]
        if all(f.exists() for f in files):
            return [int(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError(f"the tasks never started; worker output:\n{proc.communicate()[1]}")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def started(workflow: Path) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    proc = subprocess.Popen(
        [sys.executable, "sigflow.py"],
        cwd=workflow,
        env=_environment(workflow),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    pids: list[int] = []
    try:
        pids = _task_pids(workflow, proc)
        yield proc, pids
    finally:
        # Whatever happened, leave nothing running.
        with_pids = [proc.pid, *pids]
        for pid in with_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.communicate()


def test_sigterm_stops_the_task_processes_reports_them_and_exits_143(
    workflow: Path, started: tuple[subprocess.Popen[str], list[int]]
) -> None:
    proc, pids = started
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 143, stderr
    assert all(_gone(pid) for pid in pids), "a task process outlived its worker"
    reported = json.loads((workflow / "reported.json").read_text())
    assert sorted(reported) == sorted(t for t in reported if t.startswith("Hang_"))
    assert len(reported) == 2, f"the scheduler was not told both tasks were interrupted: {reported}"
    assert "was interrupted" in stderr


def test_ctrl_c_stops_the_task_processes_and_the_worker_exits_by_sigint(
    workflow: Path, started: tuple[subprocess.Popen[str], list[int]]
) -> None:
    proc, pids = started
    # A terminal's Ctrl-C goes to the whole foreground process group.
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == -signal.SIGINT, stderr  # a shell shows 130
    assert all(_gone(pid) for pid in pids), "a task process outlived its worker"
    reported = json.loads((workflow / "reported.json").read_text())
    assert len(reported) == 2, f"the scheduler was not told what was interrupted: {reported}"
