"""The seed example: daily dumps arrive from outside; aggregations over 3, 7 and
14 days are computed for each of the last 10 days, as soon as their dumps exist.

Run it as often as you like (cron every minute is the intended use): finished
aggregations are never recomputed, and aggregations whose dumps have not
arrived yet wait for the next run.

    python examples/daily_aggregation.py --local-scheduler --paths-root data
    trunkline --module daily_aggregation RunAll --local-scheduler   # same, from examples/
"""

from __future__ import annotations

import datetime

import trunkline as luigi


class paths(luigi.Config):  # noqa: N801 - a config section: [paths] root = ...
    root = luigi.Parameter(default="data", description="Directory holding dumps and results")


class DataDump(luigi.ExternalTask):
    """A dump some other system drops into <root>/dumps/ once a day."""

    date = luigi.DateParameter()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(f"{paths().root}/dumps/{self.date:%Y-%m-%d}.txt")


class AggregationTask(luigi.Task):
    """Sums the numbers of the `window` dumps ending on `date`."""

    date = luigi.DateParameter()
    window = luigi.IntParameter()

    def requires(self) -> list[DataDump]:
        return [DataDump(self.date - datetime.timedelta(days=i)) for i in range(self.window)]

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(f"{paths().root}/aggregated/{self.date:%Y-%m-%d}-{self.window}.txt")

    def run(self) -> None:
        total = 0
        for dump in self.input():
            with dump.open("r") as lines:
                total += sum(int(line) for line in lines if line.strip())
        with self.output().open("w") as out:  # atomic: appears whole or not at all
            out.write(f"{total}\n")


class RunAll(luigi.WrapperTask):
    """Aggregations over 3, 7 and 14 days for each of the `days` days up to `date`."""

    date = luigi.DateParameter(default=datetime.date.today())
    days = luigi.IntParameter(default=10)

    def requires(self):  # type: ignore[no-untyped-def]
        for window in (3, 7, 14):
            for back in range(self.days):
                yield AggregationTask(self.date - datetime.timedelta(days=back), window)


if __name__ == "__main__":
    luigi.run(main_task_cls=RunAll)
