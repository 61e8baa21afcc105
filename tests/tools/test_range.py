"""Range tools: which instances of a daily (hourly, monthly) task are missing."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import trunkline as luigi
from trunkline.local_target import LocalFileSystem
from trunkline.tools.range import RangeDaily, RangeDailyBase, RangeHourly, RangeMonthly

NOW = int(datetime.datetime(2024, 3, 31, 12, tzinfo=datetime.timezone.utc).timestamp())


class CountingFileSystem(LocalFileSystem):
    def __init__(self) -> None:
        self.exists_calls = 0
        self.listdir_calls = 0

    def exists(self, path: str) -> bool:
        self.exists_calls += 1
        return super().exists(path)

    def listdir(self, path: str) -> Any:
        self.listdir_calls += 1
        return super().listdir(path)


def daily_task(root: Path, fs: LocalFileSystem, layout: str = "{date:%Y-%m-%d}.txt") -> type:
    """A daily task whose output path under ``root`` is ``layout``, on ``fs``."""

    class CountedTarget(luigi.LocalTarget):
        pass

    CountedTarget.fs = fs

    class Daily(luigi.Task):
        date = luigi.DateParameter()

        def output(self):
            return CountedTarget(str(root / layout.format(date=self.date)))

    return Daily


def test_range_daily_over_three_years_lists_the_directory_once(tmp_path: Path) -> None:
    fs = CountingFileSystem()
    Daily = daily_task(tmp_path, fs)
    start = datetime.date(2021, 4, 1)
    for i in range(1000):
        (tmp_path / f"{start + datetime.timedelta(days=i):%Y-%m-%d}.txt").write_text("x")
    span = RangeDaily(of=Daily, start=start, days_back=4000, now=NOW, task_limit=10_000)
    missing = span.requires()
    days_in_window = (datetime.date(2024, 3, 31) - start).days + 1
    assert len(missing) == days_in_window - 1000
    assert missing[0] == Daily(start + datetime.timedelta(days=1000))
    assert fs.listdir_calls == 1
    assert fs.exists_calls <= 1  # the directory itself, not one per date


def test_the_base_range_checks_each_date_and_agrees(tmp_path: Path) -> None:
    fs = CountingFileSystem()
    Daily = daily_task(tmp_path, fs)
    for day in (1, 2, 4):
        (tmp_path / f"2024-03-{day:02d}.txt").write_text("x")
    bulk = RangeDaily(of=Daily, start=datetime.date(2024, 3, 1), stop=datetime.date(2024, 3, 6), now=NOW)
    one_by_one = RangeDailyBase(of=Daily, start=datetime.date(2024, 3, 1), stop=datetime.date(2024, 3, 6), now=NOW)
    assert [t.date.day for t in bulk.requires()] == [t.date.day for t in one_by_one.requires()] == [3, 5]


def test_task_limit_and_reverse_choose_which_missing_dates(tmp_path: Path) -> None:
    Daily = daily_task(tmp_path, LocalFileSystem())
    oldest = RangeDaily(of=Daily, start=datetime.date(2024, 3, 1), task_limit=3, now=NOW)
    newest = RangeDaily(of=Daily, start=datetime.date(2024, 3, 1), task_limit=3, reverse=True, now=NOW)
    assert [t.date.day for t in oldest.requires()] == [1, 2, 3]
    assert [t.date.day for t in newest.requires()] == [31, 30, 29]  # the window runs up to now


def test_bulk_complete_is_used_when_the_task_has_it(tmp_path: Path) -> None:
    asked: list[list[datetime.date]] = []

    class Bulk(luigi.Task):
        date = luigi.DateParameter()

        @classmethod
        def bulk_complete(cls, dates):
            dates = list(dates)
            asked.append(dates)
            return [d for d in dates if d.day % 2 == 0]

    span = RangeDaily(of=Bulk, start=datetime.date(2024, 3, 1), stop=datetime.date(2024, 3, 7), now=NOW)
    assert [t.date.day for t in span.requires()] == [1, 3, 5]
    assert len(asked) == 1


def test_hourly_and_monthly_windows(tmp_path: Path) -> None:
    class Hourly(luigi.Task):
        hour = luigi.DateHourParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "h" / f"{self.hour:%Y%m%d%H}"))

    class Monthly(luigi.Task):
        month = luigi.MonthParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "m" / f"{self.month:%Y-%m}"))

    hours = RangeHourly(of=Hourly, start=datetime.datetime(2024, 3, 31, 6), now=NOW, hours_back=24).requires()
    assert [t.hour.hour for t in hours] == list(range(6, 12))
    months = RangeMonthly(of=Monthly, start=datetime.date(2023, 11, 1), now=NOW).requires()
    assert [t.month.strftime("%Y-%m") for t in months] == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_bad_ranges_are_clear_errors(tmp_path: Path) -> None:
    Daily = daily_task(tmp_path, LocalFileSystem())
    with pytest.raises(luigi.parameter.ParameterException, match="At least one of start and stop"):
        RangeDaily(of=Daily, now=NOW).requires()
    with pytest.raises(luigi.parameter.ParameterException, match="start > stop"):
        RangeDaily(of=Daily, start=datetime.date(2024, 3, 5), stop=datetime.date(2024, 3, 1), now=NOW).requires()


def test_range_daily_from_the_command_line_runs_the_missing_days(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(
        textwrap.dedent(
            f"""
            import trunkline as luigi

            class Stamp(luigi.Task):
                date = luigi.DateParameter()

                def output(self):
                    return luigi.LocalTarget({str(tmp_path)!r} + f"/out/{{self.date}}")

                def run(self):
                    with self.output().open("w") as f:
                        f.write("x")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "flow", "RangeDaily", "--of", "Stamp",
         "--start", "2024-03-25", "--stop", "2024-03-30", "--now", str(NOW),
         "--local-scheduler", "--log-level", "WARNING"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"2024-03-{d}" for d in range(25, 30)]


def test_dates_in_directories_list_only_the_window_not_the_whole_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = CountingFileSystem()
    Nested = daily_task(tmp_path, fs, layout="{date:%Y/%m/%d}/part.csv")

    # Three years of history on disk; the window is the 30 days across new year,
    # so the directory common to its paths is the dataset's root.
    first = datetime.date(2021, 4, 1)
    for i in range(3 * 365):
        day = first + datetime.timedelta(days=i)
        if day <= datetime.date(2024, 1, 5):
            (tmp_path / f"{day:%Y/%m/%d}").mkdir(parents=True)
            (tmp_path / f"{day:%Y/%m/%d}" / "part.csv").write_text("x")
    walked: list[str] = []
    real_walk = os.walk

    def counting_walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        for entry in real_walk(top, *args, **kwargs):
            walked.append(entry[0])
            yield entry

    now = int(datetime.datetime(2024, 1, 15, 12, tzinfo=datetime.timezone.utc).timestamp())
    span = RangeDaily(of=Nested, start=first, days_back=30, now=now, task_limit=1000)
    monkeypatch.setattr(os, "walk", counting_walk)
    missing = span.requires()
    monkeypatch.undo()
    window = [datetime.date(2024, 1, 15) - datetime.timedelta(days=i) for i in range(31)]
    assert sorted(task.date for task in missing) == sorted(d for d in window if d > datetime.date(2024, 1, 5))
    assert fs.listdir_calls <= 31  # one per day of the window at most
    assert len(walked) <= 31  # nothing outside the window was walked
    assert str(tmp_path) not in walked
