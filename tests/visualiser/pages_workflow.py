"""A workflow that leaves every status the visualiser shows, for its browser tests.

Outputs go under $VIS_ROOT. ``Slow`` and the ``Step`` tasks wait for release
files the tests create, so the tests decide when they finish.
"""

from __future__ import annotations

import os
import time

import trunkline as luigi

ROOT = os.environ.get("VIS_ROOT", ".")


def wait_for(name: str) -> None:
    while not os.path.exists(os.path.join(ROOT, name)):
        time.sleep(0.05)


class Extract(luigi.Task):
    day = luigi.IntParameter()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, f"extract-{self.day}.txt"))

    def run(self) -> None:
        self.set_status_message(f"extracting day {self.day}")
        self.set_progress_percentage(100)
        with self.output().open("w") as f:
            f.write("x")


class MissingDump(luigi.ExternalTask):
    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "never-arrives.txt"))


class Broken(luigi.Task):
    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "broken.txt"))

    def run(self) -> None:
        raise ValueError("the input had 3 columns, expected 4")


class Flaky(luigi.Task):
    """Disabled by the scheduler after its first failure."""

    retry_count = 1

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "flaky.txt"))

    def run(self) -> None:
        if not os.path.exists(os.path.join(ROOT, "flaky-fixed")):
            raise RuntimeError("flaky upstream")
        with self.output().open("w") as f:
            f.write("x")


class Slow(luigi.Task):
    resources = {"warehouse": 1}

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "slow.txt"))

    def run(self) -> None:
        self.set_status_message("loading the warehouse")
        wait_for("release-slow")
        with self.output().open("w") as f:
            f.write("x")


class Report(luigi.Task):
    def requires(self) -> list[luigi.Task]:
        return [Extract(day=d) for d in range(4)] + [Broken()]

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "report.txt"))

    def run(self) -> None:
        with self.output().open("w") as f:
            f.write("x")


class Waiting(luigi.Task):
    def requires(self) -> luigi.Task:
        return MissingDump()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, "waiting.txt"))

    def run(self) -> None:
        with self.output().open("w") as f:
            f.write("x")


class All(luigi.WrapperTask):
    def requires(self) -> list[luigi.Task]:
        return [Report(), Waiting(), Slow(), Flaky()]


class Step(luigi.Task):
    """Runs when release-step-<n> exists; step n needs step n-1."""

    n = luigi.IntParameter()

    def requires(self) -> list[luigi.Task]:
        return [Step(n=self.n - 1)] if self.n > 1 else []

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(ROOT, f"step-{self.n}.txt"))

    def run(self) -> None:
        wait_for(f"release-step-{self.n}")
        with self.output().open("w") as f:
            f.write("x")
