"""Event callbacks fire at the same points as in Luigi."""

from __future__ import annotations

from pathlib import Path

import trunkline as luigi


def test_events_fire_for_start_success_failure_and_missing_dependencies(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    class Base(luigi.Task):
        pass

    class Missing(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "absent"))

    class Good(Base):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "good"))

        def run(self):
            with self.output().open("w") as f:
                f.write("g")

    class Bad(Base):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "bad"))

        def run(self):
            raise KeyError("bad")

    class Waits(Base):
        def requires(self):
            return Missing()

    class Root(luigi.WrapperTask):
        def requires(self):
            return [Good(), Bad(), Waits()]

    # Handlers go on this test's own classes, so they cannot leak into other tests.
    for cls in (Base, Missing):
        for event in (luigi.Event.START, luigi.Event.SUCCESS, luigi.Event.DEPENDENCY_MISSING):

            @cls.event_handler(event)
            def handler(task, *args, _event=event):
                seen.append((_event, task.task_family))

    @Base.event_handler(luigi.Event.FAILURE)
    def on_failure(task, exc):
        seen.append((luigi.Event.FAILURE, f"{task.task_family}:{type(exc).__name__}"))

    luigi.build([Root()], local_scheduler=True)
    assert (luigi.Event.START, "Good") in seen
    assert (luigi.Event.SUCCESS, "Good") in seen
    assert (luigi.Event.START, "Bad") in seen
    assert (luigi.Event.FAILURE, "Bad:KeyError") in seen
    assert (luigi.Event.SUCCESS, "Bad") not in seen
    assert (luigi.Event.DEPENDENCY_MISSING, "Missing") in seen
    assert (luigi.Event.START, "Waits") not in seen


def test_on_success_and_on_failure_hooks_are_called(tmp_path: Path) -> None:
    calls: list[str] = []

    class Hooked(luigi.Task):
        fail = luigi.BoolParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"hooked-{self.fail}"))

        def run(self):
            if self.fail:
                raise ValueError("asked to fail")
            with self.output().open("w") as f:
                f.write("x")

        def on_success(self):
            calls.append("success")

        def on_failure(self, exception):
            calls.append(f"failure:{exception}")
            return "explained"

    luigi.build([Hooked(fail=False), Hooked(fail=True)], local_scheduler=True)
    assert calls == ["success", "failure:asked to fail"] or calls == ["failure:asked to fail", "success"]
