"""What a bad request, a failing disk or a vanished worker may not do to the scheduler."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from trunkline._scheduler import store as store_module
from trunkline.scheduler import Scheduler, SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, **config: Any) -> Scheduler:
    settings: dict[str, Any] = {"retry_delay": 900, "worker_disconnect_delay": 5, "stable_done_cooldown_secs": 0}
    settings.update(config)
    return Scheduler(clock=clock, resources={}, **settings)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"priority": math.nan}, "priority"),
        ({"priority": math.inf}, "priority"),
        ({"family": {}}, "family"),
        ({"resources": {"db": 1e999}}, "db"),
        ({"resources": {"db": "2"}}, "db"),
        ({"task_id": "bad\ud800id"}, "task_id"),
    ],
)
def test_a_malformed_add_task_is_refused_naming_the_field_and_changes_nothing(
    arguments: dict[str, Any], field: str
) -> None:
    scheduler = make(Clock())
    call: dict[str, Any] = {"worker": "w", "task_id": "T", **arguments}
    with pytest.raises(ValueError, match=field):
        scheduler.add_task(**call)
    assert scheduler.task_list("", "") == {}


def test_update_resources_refuses_numbers_that_are_not_whole_or_too_big() -> None:
    scheduler = make(Clock())
    with pytest.raises(ValueError, match="cpu"):
        scheduler.update_resources(cpu=1e999)
    assert scheduler.resource_list() == []
    assert scheduler.update_resource("cpu", 10**30) is False


def test_dependencies_may_be_given_as_a_tuple() -> None:
    scheduler = make(Clock())
    scheduler.add_task(worker="w", task_id="B", deps=("A",))
    scheduler.add_task(worker="w", task_id="A")
    assert scheduler.get_work(worker="w")["task_id"] == "A"


def test_a_record_that_cannot_be_written_does_not_stop_later_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    path = tmp_path / "state.sqlite3"
    scheduler = make(clock, store=SqliteStore(path))
    real = store_module._task_to_json

    def fails_for_poison(task: Any) -> str:
        if task.id == "poison":
            return "\ud800"  # what a lone surrogate makes of a row: SQLite cannot encode it
        return real(task)

    monkeypatch.setattr(store_module, "_task_to_json", fails_for_poison)
    with pytest.raises(store_module.StoreWriteError, match="poison"):
        scheduler.add_task(worker="w", task_id="poison")
    scheduler.add_task(worker="w", task_id="good")  # the store still writes
    scheduler.close()

    again = make(clock, store=SqliteStore(path))
    assert "good" in again.task_list("", "")
    again.close()


def test_a_write_that_fails_once_is_saved_with_the_next_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    scheduler = make(clock, store=store)
    real_write = store._write
    calls = {"n": 0}

    def disk_hiccup(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        real_write(*args)

    monkeypatch.setattr(store, "_write", disk_hiccup)
    with pytest.raises(OSError):
        scheduler.add_task(worker="w", task_id="first")
    scheduler.add_task(worker="w", task_id="second")
    scheduler.close()

    again = make(clock, store=SqliteStore(path))
    assert {"first", "second"} <= set(again.task_list("", ""))
    again.close()


def test_state_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    scheduler = make(Clock(), store=SqliteStore(path))
    scheduler.add_task(worker="w", task_id="T", params={"password": "x"})
    for name in os.listdir(tmp_path):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode & 0o077 == 0, f"{name} is {oct(mode)}"
    scheduler.close()


def test_a_vanished_workers_task_is_back_in_the_queue_once_its_disconnect_delay_passes() -> None:
    clock = Clock()
    scheduler = make(clock, worker_disconnect_delay=5)
    scheduler.add_task(worker="doomed", task_id="T")
    scheduler.add_task(worker="rescuer", task_id="T")
    assert scheduler.get_work(worker="doomed")["task_id"] == "T"
    clock.now += 3
    assert scheduler.get_work(worker="rescuer")["task_id"] is None  # still the doomed worker's
    clock.now += 3  # the doomed worker has been silent for 6 s > 5 s; no prune timer needed
    assert scheduler.get_work(worker="rescuer")["task_id"] == "T"


def test_a_lost_run_is_not_a_failure_until_it_happens_retry_count_times() -> None:
    clock = Clock()
    scheduler = make(clock, worker_disconnect_delay=5, retry_count=3)
    for attempt in range(3):
        worker = f"w{attempt}"
        scheduler.add_task(worker=worker, task_id="Crashes")
        assert scheduler.get_work(worker=worker)["task_id"] == "Crashes"
        clock.now += 10  # the task kills its worker
        scheduler.prune()
        clock.now += 1
        status = "DISABLED" if attempt == 2 else "PENDING"
        assert scheduler.task_list(status, "").keys() == {"Crashes"}, attempt
