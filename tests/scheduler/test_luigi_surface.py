"""What code written for Luigi reaches in trunkline.scheduler: names, patch points, hooks."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import luigi.batch_notifier
import luigi.metrics
import luigi.scheduler
import luigi.task_status
import pytest

import trunkline.batch_notifier
import trunkline.metrics
import trunkline.scheduler
import trunkline.task_status


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (trunkline.scheduler, luigi.scheduler),
        (trunkline.task_status, luigi.task_status),
        (trunkline.batch_notifier, luigi.batch_notifier),
        (trunkline.metrics, luigi.metrics),
    ],
)
def test_every_module_level_name_of_luigis_module_exists_with_the_same_kind(ours: Any, theirs: Any) -> None:
    for name, value in vars(theirs).items():
        if name.startswith("__"):
            continue
        assert hasattr(ours, name), name
        if isinstance(value, type):
            assert isinstance(getattr(ours, name), type), name
        elif callable(value):
            assert callable(getattr(ours, name)), name
        elif isinstance(value, dict):
            assert set(getattr(ours, name)) == set(value), name
        elif isinstance(value, (str, int, tuple)):
            assert getattr(ours, name) == value, name


def test_the_scheduler_reads_a_replaced_time_time(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={}, retry_delay=100, stable_done_cooldown_secs=0)
    monkeypatch.setattr(time, "time", lambda: 5.0)
    scheduler.add_task(worker="w", task_id="T")
    assert scheduler.task_list("", "")["T"]["start_time"] == 5.0
    scheduler.get_work(worker="w")
    scheduler.add_task(worker="w", task_id="T", status="FAILED")
    monkeypatch.setattr(time, "time", lambda: 105.0)
    assert scheduler.task_list("PENDING", "").keys() == {"T"}  # the retry delay measured on the replaced clock


def test_state_answers_simple_task_state_methods() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={})
    scheduler.add_task(worker="w", task_id="B", deps=["A"])
    state = scheduler._state
    assert state.get_task("B").deps == {"A"}
    assert state.get_task("missing", default=1) == 1
    assert {t.id for t in state.get_active_tasks()} == {"A", "B"}
    assert [t.id for t in state.get_active_tasks_by_status("PENDING")] == ["B"]
    assert state.get_worker("w").id == "w"
    assert [w.id for w in state.get_active_workers()] == ["w"]
    assert {t.id for t in state.get_worker("w").get_tasks(state, "PENDING")} == {"B"}


def test_a_disabled_task_mails_through_the_scheduler_modules_notifications() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={}, retry_count=1, disable_window=100)
    scheduler.add_task(worker="w", task_id="T", owners=["someone"])
    scheduler.get_work(worker="w")
    with mock.patch("trunkline.scheduler.notifications") as notifications:
        scheduler.add_task(worker="w", task_id="T", status="FAILED")
    subject = notifications.send_error_email.call_args[0][0]
    assert subject == "Luigi Scheduler: DISABLED T due to excessive failures"


def test_with_batch_emails_failures_go_to_the_batch_notifier_patched_in_the_scheduler_module() -> None:
    with mock.patch("trunkline.scheduler.BatchNotifier") as notifier_class:
        scheduler = trunkline.scheduler.Scheduler(resources={}, batch_emails=True)
        scheduler.add_task(worker="w", task_id="T", family="T", status="FAILED", expl='"boom"', owners=["o"])
        scheduler.announce_scheduling_failure(
            task_name="U()", family="U", params={}, expl="bad", owners=[], worker="w"
        )
    notifier = notifier_class.return_value
    notifier.add_failure.assert_called_once_with("T()", "T", {}, "boom", ["o"])
    notifier.add_scheduling_fail.assert_called_once_with("U()", "U", {}, "bad", [])


def test_metrics_collector_hears_of_started_done_and_failed_tasks() -> None:
    collector = mock.MagicMock()
    with mock.patch.object(trunkline.metrics.MetricsCollectors, "get", return_value=collector):
        scheduler = trunkline.scheduler.Scheduler(resources={})
    assert scheduler.metrics_collector is collector
    scheduler.add_task(worker="w", task_id="A")
    scheduler.add_task(worker="w", task_id="B")
    scheduler.get_work(worker="w")
    scheduler.add_task(worker="w", task_id="A", status="DONE")
    scheduler.get_work(worker="w")
    scheduler.add_task(worker="w", task_id="B", status="FAILED")
    assert [c.args[0].id for c in collector.handle_task_started.call_args_list] == ["A", "B"]
    assert [c.args[0].id for c in collector.handle_task_done.call_args_list] == ["A"]
    assert [c.args[0].id for c in collector.handle_task_failed.call_args_list] == ["B"]


def test_tasks_below_a_disabled_task_do_not_count_as_pending() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={})
    scheduler.add_task(worker="w", task_id="Root", deps=["Middle"])
    scheduler.add_task(worker="w", task_id="Middle", deps=["Broken"])
    scheduler.add_task(worker="w", task_id="Broken", status="DISABLED")
    scheduler.add_task(worker="w", task_id="Other")
    assert scheduler.count_pending("w")["n_pending_tasks"] == 1
    assert scheduler.get_work(worker="w")["n_pending_tasks"] == 1


def test_count_pending_lists_the_running_tasks_of_the_worker() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={})
    scheduler.add_task(worker="w", task_id="T")
    scheduler.add_task(worker="other", task_id="T")
    scheduler.get_work(worker="other")
    running = scheduler.count_pending("w")["running_tasks"]
    assert [(r["task_id"], r["worker"]) for r in running] == [("T", "other")]


def test_a_disabled_worker_is_detached_from_its_tasks() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={})
    scheduler.add_task(worker="w", task_id="T")
    scheduler.disable_worker("w")
    assert scheduler.task_list("", "")["T"]["workers"] == []
    assert scheduler.count_pending("w")["worker_state"] == "disabled"


def test_a_higher_priority_task_of_another_worker_keeps_its_resource() -> None:
    scheduler = trunkline.scheduler.Scheduler(resources={"db": 1})
    scheduler.get_work(worker="big")  # big is alive and asks for work
    scheduler.add_task(worker="big", task_id="Important", resources={"db": 1}, priority=10)
    scheduler.add_task(worker="small", task_id="Minor", resources={"db": 1}, priority=1)
    assert scheduler.get_work(worker="small")["task_id"] is None
    assert scheduler.get_work(worker="big")["task_id"] == "Important"


def test_a_status_message_is_stored_before_it_is_acknowledged(tmp_path: Any) -> None:
    path = tmp_path / "state.sqlite3"
    scheduler = trunkline.scheduler.Scheduler(resources={}, store=trunkline.scheduler.SqliteStore(path))
    scheduler.add_task(worker="w", task_id="T")
    scheduler.get_work(worker="w")
    scheduler.set_task_status_message("T", "half way")
    # no close(): as after a kill -9
    again = trunkline.scheduler.Scheduler(resources={}, store=trunkline.scheduler.SqliteStore(path))
    assert again.get_task_status_message("T")["statusMessage"] == "half way"


def test_dump_and_load_use_a_json_snapshot_not_a_pickle(tmp_path: Any) -> None:
    path = str(tmp_path / "state.json")
    first = trunkline.scheduler.Scheduler(resources={})
    first.add_task(worker="A", task_id="1")
    first.add_task(worker="B", task_id="2")
    assert first.get_work(worker="A")["task_id"] == "1"
    first._state._state_path = path
    first.dump()
    with open(path, encoding="utf-8") as written:
        assert written.read().startswith("{")
    second = trunkline.scheduler.Scheduler(resources={})
    second._state._state_path = path
    second.load()
    assert second.get_work(worker="B")["task_id"] == "2"
    assert second.task_list("RUNNING", "").keys() == {"1", "2"}  # 1 is still A's


def test_a_task_state_counts_its_failures_inside_the_disable_window() -> None:
    clock = [1000.0]
    with mock.patch("time.time", side_effect=lambda: clock[0]):
        scheduler = trunkline.scheduler.Scheduler(resources={}, retry_count=10, disable_window=60)
        scheduler.add_task(worker="w", task_id="T")
        for _ in range(2):
            scheduler.get_work(worker="w")
            scheduler.add_task(worker="w", task_id="T", status="FAILED")
        task = scheduler._state.get_task("T")
        assert task.num_failures() == 2
        clock[0] += 61  # both failures now lie outside the window
        assert task.num_failures() == 0
