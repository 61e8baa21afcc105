"""Task processes: a context around run(), and complete() checks in a process pool."""

from __future__ import annotations

import multiprocessing
import sys
import textwrap
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import trunkline as luigi
from trunkline.scheduler import Scheduler
from trunkline.worker import Worker


class Touch(luigi.Task):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)

    def run(self):
        with self.output().open("w") as f:
            f.write("x")


class Fan(luigi.WrapperTask):
    # At module level: checked in a process pool, tasks must pickle.
    root = luigi.Parameter()

    def requires(self):
        return [Touch(path=f"{self.root}/t{i}") for i in range(4)]


@pytest.fixture
def context_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ctxmod_for_worker_test.py").write_text(
        textwrap.dedent(
            """
            import os

            class AroundRun:
                def __init__(self, process):
                    self.path = process.task.path + ".context-exited"

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    # Slow on purpose: the worker must not take the task as over before this.
                    import time
                    time.sleep(0.2)
                    with open(self.path, "w") as f:
                        f.write("done")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "ctxmod_for_worker_test.AroundRun"
    sys.modules.pop("ctxmod_for_worker_test", None)


@pytest.mark.parametrize("force_multiprocessing", [False, True])
def test_the_task_is_over_only_once_its_process_context_has_exited(
    tmp_path: Path, context_module: str, force_multiprocessing: bool
) -> None:
    task = Touch(path=str(tmp_path / "out"))
    with Worker(
        scheduler=Scheduler(), task_process_context=context_module, force_multiprocessing=force_multiprocessing
    ) as w:
        w.add(task)
        assert w.run()
        # Checked before the worker's exit, which waits for its processes anyway.
        assert (tmp_path / "out.context-exited").read_text() == "done"


def test_parallel_scheduling_checks_complete_in_a_pool_of_the_requested_size(tmp_path: Path) -> None:
    real_pool = multiprocessing.Pool
    sizes: list[Any] = []

    def pool(processes: Any = None) -> Any:
        sizes.append(processes)
        return real_pool(processes)

    with mock.patch("multiprocessing.Pool", pool):
        assert luigi.build([Fan(root=str(tmp_path))], local_scheduler=True, parallel_scheduling=True, parallel_scheduling_processes=2)
    assert sizes == [2]
    assert all((tmp_path / f"t{i}").exists() for i in range(4))
