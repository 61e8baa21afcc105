"""Several worker processes: each task exactly once, timeouts, dead children."""

from __future__ import annotations

import os
import time
from pathlib import Path

import trunkline as luigi


def record_run(log: Path, name: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{name}\n".encode())
    finally:
        os.close(fd)


def test_four_workers_run_each_task_of_a_thousand_task_graph_exactly_once(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    out = tmp_path / "out"

    class Node(luigi.Task):
        layer = luigi.IntParameter()
        index = luigi.IntParameter()

        def requires(self):
            if self.layer == 0:
                return []
            # each node depends on two nodes of the layer below
            return [Node(self.layer - 1, (self.index + k) % 100) for k in (0, 1)]

        def output(self):
            return luigi.LocalTarget(str(out / f"{self.layer}-{self.index}"))

        def run(self):
            record_run(log, self.task_id)
            with self.output().open("w") as f:
                f.write("x")

    class Top(luigi.WrapperTask):
        def requires(self):
            return [Node(9, i) for i in range(100)]

    assert luigi.build([Top()], local_scheduler=True, workers=4) is True
    lines = log.read_text().split()
    assert len(lines) == 1000
    assert len(set(lines)) == 1000
    assert len(list(out.iterdir())) == 1000


def test_worker_timeout_kills_a_task_that_overruns(tmp_path: Path) -> None:
    class Sleepy(luigi.Task):
        worker_timeout = 1

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "never"))

        def run(self):
            time.sleep(60)

    started = time.monotonic()
    result = luigi.build([Sleepy()], local_scheduler=True, detailed_summary=True)
    assert time.monotonic() - started < 30  # generous: only proves it did not wait 60 s
    assert result.status == luigi.LuigiStatusCode.FAILED
    assert not (tmp_path / "never").exists()


def test_task_whose_process_dies_is_reported_failed_with_its_exit_code(tmp_path: Path) -> None:
    failures: list[str] = []

    class Dies(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "never"))

        def run(self):
            os._exit(3)

    @Dies.event_handler(luigi.Event.PROCESS_FAILURE)
    def on_process_failure(task, message):
        failures.append(message)

    result = luigi.build([Dies()], local_scheduler=True, workers=2, detailed_summary=True)
    assert result.status == luigi.LuigiStatusCode.FAILED
    assert len(failures) == 1 and "exit code 3" in failures[0]


def test_failures_in_child_processes_do_not_stop_other_branches(tmp_path: Path) -> None:
    class Ok(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"ok-{self.n}"))

        def run(self):
            with self.output().open("w") as f:
                f.write("ok")

    class Bad(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "bad"))

        def run(self):
            raise RuntimeError("boom")

    class All(luigi.WrapperTask):
        def requires(self):
            return [Bad()] + [Ok(n) for n in range(10)]

    result = luigi.build([All()], local_scheduler=True, workers=3, detailed_summary=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"ok-{n}" for n in range(10))
    assert "* 1 failed:" in result.summary_text
    assert "* 10 ran successfully:" in result.summary_text
