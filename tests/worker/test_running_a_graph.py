"""The worker on the local scheduler: order, isolation of failures, missing data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import trunkline as luigi


def record_run(log: Path, name: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{name}\n".encode())
    finally:
        os.close(fd)


def runs(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def make_file_tasks(tmp_path: Path) -> tuple[type, type, type]:
    log = tmp_path / "runs.log"

    class Leaf(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"leaf-{self.n}"))

        def run(self):
            record_run(log, self.task_id)
            with self.output().open("w") as f:
                f.write(str(self.n))

    class Sum(luigi.Task):
        size = luigi.IntParameter()

        def requires(self):
            return [Leaf(n) for n in range(self.size)]

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"sum-{self.size}"))

        def run(self):
            record_run(log, self.task_id)
            total = 0
            for target in self.input():
                with target.open("r") as f:
                    total += int(f.read())
            with self.output().open("w") as f:
                f.write(str(total))

    class Broken(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "broken"))

        def run(self):
            raise ValueError("this task always fails")

    return Leaf, Sum, Broken


def test_build_runs_dependencies_before_dependents_and_each_once(tmp_path: Path) -> None:
    _, Sum, _ = make_file_tasks(tmp_path)
    assert luigi.build([Sum(size=5)], local_scheduler=True) is True
    order = runs(tmp_path / "runs.log")
    assert len(order) == 6 and len(set(order)) == 6
    assert order[-1].startswith("Sum_")
    assert (tmp_path / "sum-5").read_text() == str(sum(range(5)))


def test_second_build_runs_nothing_because_outputs_exist(tmp_path: Path) -> None:
    _, Sum, _ = make_file_tasks(tmp_path)
    luigi.build([Sum(size=3)], local_scheduler=True)
    result = luigi.build([Sum(size=3)], local_scheduler=True, detailed_summary=True)
    assert len(runs(tmp_path / "runs.log")) == 4
    assert "Did not run any tasks" in result.summary_text
    assert "1 complete ones were encountered" in result.summary_text


def test_failed_task_stops_its_dependents_but_not_unrelated_work(tmp_path: Path) -> None:
    Leaf, _, Broken = make_file_tasks(tmp_path)

    class NeedsBroken(luigi.Task):
        def requires(self):
            return Broken()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "needs-broken"))

        def run(self):
            raise AssertionError("must never run: its dependency failed")

    class Both(luigi.WrapperTask):
        def requires(self):
            return [NeedsBroken(), Leaf(n=7)]

    result = luigi.build([Both()], local_scheduler=True, detailed_summary=True)
    assert (tmp_path / "leaf-7").exists()
    assert not (tmp_path / "needs-broken").exists()
    assert result.status == luigi.LuigiStatusCode.FAILED
    assert "* 1 failed:" in result.summary_text
    assert "had failed dependencies" in result.summary_text
    assert "- 1 Broken()" in result.summary_text


def test_missing_external_data_leaves_dependents_pending_and_the_summary_names_it(
    tmp_path: Path,
) -> None:
    class Dump(luigi.ExternalTask):
        day = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"dump-{self.day}"))

    class Aggregate(luigi.Task):
        def requires(self):
            return [Dump(day=1), Dump(day=2)]

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "aggregate"))

        def run(self):
            with self.output().open("w") as f:
                f.write("ok")

    (tmp_path / "dump-1").write_text("x")
    result = luigi.build([Aggregate()], local_scheduler=True, detailed_summary=True)
    assert not (tmp_path / "aggregate").exists()
    assert result.status == luigi.LuigiStatusCode.MISSING_EXT
    text = result.summary_text
    assert "* 1 were missing external dependencies:" in text
    assert "Dump(day=2)" in text
    assert "had missing dependencies" in text
    # Scheduling itself succeeded: only data is missing.
    assert result.scheduling_succeeded is True

    (tmp_path / "dump-2").write_text("y")
    assert luigi.build([Aggregate()], local_scheduler=True) is True
    assert (tmp_path / "aggregate").read_text() == "ok"


def test_requires_returning_a_target_is_a_clear_error(tmp_path: Path) -> None:
    class Wrong(luigi.Task):
        def requires(self):
            return luigi.LocalTarget(str(tmp_path / "x"))

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "y"))

    with pytest.raises(Exception, match="Wrap it in an ExternalTask class"):
        luigi.build([Wrong()], local_scheduler=True)


def test_complete_raising_is_a_scheduling_failure_not_a_crash(tmp_path: Path) -> None:
    class Flaky(luigi.Task):
        def complete(self):
            raise OSError("storage unreachable")

    result = luigi.build([Flaky()], local_scheduler=True, detailed_summary=True)
    assert result.scheduling_succeeded is False
    assert result.status == luigi.LuigiStatusCode.SCHEDULING_FAILED
    assert "failed scheduling" in result.summary_text


def test_exception_mid_write_leaves_no_output_file(tmp_path: Path) -> None:
    class HalfWriter(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "out.txt"))

        def run(self):
            with self.output().open("w") as f:
                f.write("first half")
                raise RuntimeError("crash in the middle of writing")

    # build() reports False: a task failed.
    assert luigi.build([HalfWriter()], local_scheduler=True) is False
    assert not (tmp_path / "out.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_killed_task_process_mid_write_leaves_no_output_file(tmp_path: Path) -> None:
    class DiesWriting(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "out.txt"))

        def run(self):
            with self.output().open("w") as f:
                f.write("partial")
                f.flush()
                os._exit(9)

    result = luigi.build(
        [DiesWriting()], local_scheduler=True, workers=2, detailed_summary=True
    )
    assert result.status == luigi.LuigiStatusCode.FAILED
    assert not (tmp_path / "out.txt").exists()


def test_task_without_outputs_runs_every_time(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"

    class NoOutput(luigi.Task):
        def run(self):
            record_run(log, "ran")

    luigi.build([NoOutput()], local_scheduler=True)
    luigi.build([NoOutput()], local_scheduler=True)
    assert runs(log) == ["ran", "ran"]


def test_disabled_task_is_not_run(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"

    class Off(luigi.Task):
        disabled = True

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "off"))

        def run(self):
            record_run(log, "ran")

    luigi.build([Off()], local_scheduler=True)
    assert runs(log) == []
