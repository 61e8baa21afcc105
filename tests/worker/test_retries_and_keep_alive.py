"""Retries (retry_count, retry_delay) and keep_alive, with the local scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.configuration import get_config


@pytest.fixture
def quick_retries() -> Iterator[None]:
    """A worker that stays alive and a scheduler that retries after 0.1 s."""
    config = get_config()
    values = {
        ("scheduler", "retry_delay"): "0.1",
        ("worker", "keep_alive"): "true",
        ("worker", "wait_interval"): "0.05",
        ("worker", "wait_jitter"): "0",
    }
    for section, _ in values:
        if not config.has_section(section):
            config.add_section(section)
    saved = {key: config.get(*key, None) for key in values}
    for (section, option), value in values.items():
        config.set(section, option, value)
    yield
    for (section, option), value in saved.items():
        if value is None:
            config.remove_option(section, option)
        else:
            config.set(section, option, value)


def test_task_failing_twice_then_succeeding_is_retried_and_completes(
    tmp_path: Path, quick_retries: None
) -> None:
    attempts = tmp_path / "attempts"

    class Flaky(luigi.Task):
        retry_count = 5

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "done"))

        def run(self):
            count = int(attempts.read_text()) if attempts.exists() else 0
            attempts.write_text(str(count + 1))
            if count < 2:
                raise RuntimeError(f"attempt {count + 1} fails")
            with self.output().open("w") as f:
                f.write("ok")

    result = luigi.build([Flaky()], local_scheduler=True, detailed_summary=True)
    assert attempts.read_text() == "3"
    assert (tmp_path / "done").exists()
    assert result.status == luigi.LuigiStatusCode.SUCCESS_WITH_RETRY


def test_task_is_disabled_after_retry_count_failures_and_the_worker_stops(
    tmp_path: Path, quick_retries: None
) -> None:
    attempts = tmp_path / "attempts"

    class AlwaysFails(luigi.Task):
        retry_count = 2

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "never"))

        def run(self):
            count = int(attempts.read_text()) if attempts.exists() else 0
            attempts.write_text(str(count + 1))
            raise RuntimeError("always")

    result = luigi.build([AlwaysFails()], local_scheduler=True, detailed_summary=True)
    assert attempts.read_text() == "2"
    assert result.status == luigi.LuigiStatusCode.FAILED


def test_without_keep_alive_a_failed_task_is_not_retried(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"

    class FailsOnce(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "done"))

        def run(self):
            attempts.write_text("1")
            raise RuntimeError("once")

    luigi.build([FailsOnce()], local_scheduler=True)
    assert attempts.read_text() == "1"
