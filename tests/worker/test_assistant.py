"""Assistant workers: a worker started with ``assistant=True`` (``--assistant``)
runs tasks other workers scheduled, loading them by module, family and
parameters, as Luigi's assistants do."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from trunkline.scheduler import Scheduler
from trunkline.worker import Worker

WORKFLOW = textwrap.dedent(
    """
    import os
    import trunkline as luigi

    ROOT = os.environ["ASSISTANT_ROOT"]


    class AssistedLeaf(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, f"leaf-{self.n}"))

        def run(self):
            with open(os.path.join(ROOT, "runs.log"), "a") as log:
                log.write(f"{self.task_id}\\n")
            with self.output().open("w") as f:
                f.write(str(self.n))


    class AssistedSum(luigi.Task):
        def requires(self):
            return [AssistedLeaf(n=n) for n in range(3)]

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, "sum"))

        def run(self):
            with open(os.path.join(ROOT, "runs.log"), "a") as log:
                log.write(f"{self.task_id}\\n")
            total = sum(int(t.open("r").read()) for t in self.input())
            with self.output().open("w") as f:
                f.write(str(total))
    """
)


@pytest.fixture
def workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The workflow as a real importable module: assistants import tasks by module name."""
    (tmp_path / "assistant_workflow.py").write_text(WORKFLOW)
    monkeypatch.setenv("ASSISTANT_ROOT", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    import assistant_workflow

    yield assistant_workflow
    sys.modules.pop("assistant_workflow", None)


def test_an_assistant_runs_what_another_worker_scheduled(workflow: ModuleType, tmp_path: Path) -> None:
    scheduler = Scheduler()
    with Worker(scheduler=scheduler, worker_id="cron-host") as scheduling_worker:
        assert scheduling_worker.add(workflow.AssistedSum())  # schedules, runs nothing
    assert not (tmp_path / "sum").exists()

    with Worker(scheduler=scheduler, worker_id="assistant", assistant=True, keep_alive=False) as assistant:
        assert assistant.run()

    assert (tmp_path / "sum").read_text() == "3"
    runs = (tmp_path / "runs.log").read_text().split()
    assert sorted(runs) == sorted({*runs})  # each task once
    assert len(runs) == 4
    assert runs[-1] == workflow.AssistedSum().task_id  # dependencies first
    assert scheduler.task_list(status="DONE", limit=False).keys() == {
        workflow.AssistedSum().task_id, *(workflow.AssistedLeaf(n=n).task_id for n in range(3))
    }


def test_a_plain_worker_does_not_run_tasks_it_did_not_schedule(workflow: ModuleType, tmp_path: Path) -> None:
    scheduler = Scheduler()
    with Worker(scheduler=scheduler, worker_id="cron-host") as scheduling_worker:
        scheduling_worker.add(workflow.AssistedSum())
    with Worker(scheduler=scheduler, worker_id="bystander", keep_alive=False) as bystander:
        bystander.run()
    assert not (tmp_path / "runs.log").exists()
    assert scheduler.task_list(status="PENDING", limit=False).keys() >= {workflow.AssistedSum().task_id}


def test_an_assistant_reports_a_task_it_cannot_load_as_failed_and_goes_on(
    workflow: ModuleType, tmp_path: Path
) -> None:
    scheduler = Scheduler()
    # A task from a module the assistant cannot import, next to one it can.
    scheduler.add_task(worker="elsewhere", task_id="Ghost_1", family="Ghost", module="no_such_module_here",
                       params={}, status="PENDING", runnable=True)
    with Worker(scheduler=scheduler, worker_id="cron-host") as scheduling_worker:
        scheduling_worker.add(workflow.AssistedLeaf(n=7))
    with Worker(scheduler=scheduler, worker_id="assistant", assistant=True, keep_alive=False) as assistant:
        # As in Luigi, a run without keep_alive ends when it is handed nothing it
        # can run; the next run (cron's next minute) carries on with the rest.
        for _ in range(3):
            assistant.run()
    assert (tmp_path / "leaf-7").read_text() == "7"
    assert scheduler.task_list(status="FAILED", limit=False).keys() == {"Ghost_1"}
    assert "no_such_module_here" in scheduler.fetch_error("Ghost_1")["error"]
