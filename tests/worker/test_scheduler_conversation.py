"""What the worker says to a scheduler object, and the names tests patch in trunkline.worker."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any
from unittest import mock

import trunkline as luigi
from trunkline import worker as worker_module
from trunkline.scheduler import Scheduler
from trunkline.worker import Worker


def _chain(tmp_path: Path, n: int) -> luigi.Task:
    class Step(luigi.Task):
        i = luigi.IntParameter()

        def requires(self):
            return Step(i=self.i - 1) if self.i > 0 else []

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"step-{self.i}"))

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    return Step(i=n - 1)


class CountingScheduler(Scheduler):
    """Code built on Luigi subclasses the scheduler to watch the conversation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: collections.Counter[str] = collections.Counter()

    def add_task(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["add_task"] += 1
        return super().add_task(*args, **kwargs)

    def get_work(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["get_work"] += 1
        return super().get_work(*args, **kwargs)

    def add_worker(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["add_worker"] += 1
        return super().add_worker(*args, **kwargs)


def test_a_subclassed_scheduler_gets_lugis_calls_one_add_task_per_task_and_result(tmp_path: Path) -> None:
    sch = CountingScheduler()
    with Worker(scheduler=sch) as w:
        assert w.add(_chain(tmp_path, 5))
        assert w.run()
    # five registrations, five results; one get_work per task plus the empty one
    assert sch.calls["add_task"] == 10
    assert sch.calls["get_work"] == 6
    assert sch.calls["add_worker"] == 1


def test_a_wrapper_around_the_scheduler_sees_every_call_and_no_batched_one(tmp_path: Path) -> None:
    seen: list[str] = []

    class Wrapper:
        def __init__(self, inner: Scheduler) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            seen.append(name)
            return getattr(self._inner, name)

    with Worker(scheduler=Wrapper(Scheduler())) as w:
        assert w.add(_chain(tmp_path, 3))
        assert w.run()
    assert "add_tasks" not in seen and "work_cycle" not in seen
    assert seen.count("add_task") == 6
    assert (tmp_path / "step-2").exists()


def test_replacing_scheduler_add_task_on_the_class_is_seen_by_the_worker(tmp_path: Path) -> None:
    original = Scheduler.add_task
    statuses: list[str] = []

    def spy(self: Scheduler, *args: Any, **kwargs: Any) -> Any:
        statuses.append(kwargs.get("status", "?"))
        return original(self, *args, **kwargs)

    with mock.patch.object(Scheduler, "add_task", spy):
        assert luigi.build([_chain(tmp_path, 2)], local_scheduler=True)
    assert statuses.count("PENDING") == 2 and statuses.count("DONE") == 2


def test_patched_worker_time_gives_the_processing_time_from_two_clock_readings() -> None:
    seen: list[float] = []

    class Timed(luigi.Task):
        def complete(self) -> bool:
            return bool(seen)

        def run(self) -> None:
            pass

    @Timed.event_handler(luigi.Event.PROCESSING_TIME)
    def record(task: luigi.Task, seconds: float) -> None:
        seen.append(seconds)

    with mock.patch.object(worker_module, "time") as fake_time:
        fake_time.time = [43.0, 1.0].pop  # exactly two readings: start, end
        with Worker(scheduler=Scheduler()) as w:
            w.add(Timed())
            w.run()
    assert seen == [42.0]


def test_a_replaced_context_managed_task_process_is_the_one_the_worker_runs(tmp_path: Path) -> None:
    created: list[Any] = []
    real = worker_module.ContextManagedTaskProcess

    def make(*args: Any, **kwargs: Any) -> Any:
        process = real(*args, **kwargs)
        created.append(process)
        return process

    with mock.patch.object(worker_module, "ContextManagedTaskProcess", side_effect=make):
        assert luigi.build([_chain(tmp_path, 2)], local_scheduler=True, workers=2)
    assert len(created) == 2
    assert (tmp_path / "step-1").exists()


def test_luigi_module_names_have_luigis_kinds() -> None:
    response = worker_module.GetWorkResponse(None, [], 0, 0, 0, "active")
    assert response._fields[0] == "task_id"  # a namedtuple, as in Luigi
    queue = worker_module.DequeQueue()
    queue.put(1)
    queue.put(2)
    assert queue.get() == 2
    assert worker_module.SingleProcessPool().apply_async(max, (1, 3)) == 3
    assert worker_module.check_complete_cached(mock.Mock(task_id="t", complete=lambda: True), {}) is True
    out = worker_module.DequeQueue()
    failing = mock.Mock(task_id="t", complete=mock.Mock(side_effect=RuntimeError("boom")))
    worker_module.check_complete(failing, out)
    _, result = out.get()
    assert isinstance(result, worker_module.TracebackWrapper) and "boom" in result.trace
