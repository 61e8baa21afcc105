"""What a running task tells the scheduler, and batched tasks run as one."""

from __future__ import annotations

from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.scheduler import Scheduler
from trunkline.worker import Worker


@pytest.mark.parametrize("workers", [1, 2])
def test_status_message_and_progress_reach_the_scheduler(tmp_path: Path, workers: int) -> None:
    class Reporting(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "out"))

        def run(self):
            self.set_status_message("half way")
            self.set_progress_percentage(50)
            with self.output().open("w") as f:
                f.write("x")

    scheduler = Scheduler()
    task = Reporting()
    with Worker(scheduler=scheduler, worker_processes=workers) as worker:
        worker.add(task)
        assert worker.run() is True
    assert scheduler.get_task_status_message(task.task_id)["statusMessage"] == "half way"
    assert scheduler.get_task_progress_percentage(task.task_id)["progressPercentage"] == 50


def test_failed_task_explanation_is_kept_by_the_scheduler(tmp_path: Path) -> None:
    class Explodes(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "never"))

        def run(self):
            raise ValueError("the input was empty")

    scheduler = Scheduler()
    task = Explodes()
    with Worker(scheduler=scheduler) as worker:
        worker.add(task)
        worker.run()
    error = scheduler.fetch_error(task.task_id)["error"]
    assert "ValueError: the input was empty" in error and "Traceback" in error


def test_batchable_tasks_run_as_one_batch_and_all_become_done(tmp_path: Path) -> None:
    runs: list[str] = []

    class Daily(luigi.Task):
        day = luigi.IntParameter(batch_method=max)

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"day-{self.day}"))

        def run(self):
            runs.append(f"day={self.day}")
            # the batch's run makes every member's output
            for day in range(self.day + 1):
                luigi.LocalTarget(str(tmp_path / f"day-{day}")).open("w").close()

    class AllDays(luigi.WrapperTask):
        def requires(self):
            return [Daily(day) for day in range(5)]

    scheduler = Scheduler()
    with Worker(scheduler=scheduler) as worker:
        worker.add(AllDays())
        assert worker.run() is True
    assert runs == ["day=4"]  # one run, with the batch's combined value
    done = scheduler.task_list(status="DONE")
    assert {Daily(day).task_id for day in range(5)} <= set(done)
