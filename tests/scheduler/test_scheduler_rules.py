"""The scheduler's rules, driven with a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.scheduler import Scheduler, SqliteStore, StateFileError


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(clock: Clock, **config: object) -> Scheduler:
    defaults: dict[str, object] = {"retry_delay": 100, "worker_disconnect_delay": 60, "remove_delay": 600, "stable_done_cooldown_secs": 0}
    defaults.update(config)
    return Scheduler(clock=clock, resources={}, **defaults)


def work(s: Scheduler, worker: str = "w1", **kwargs: object) -> str | None:
    return s.get_work(worker=worker, **kwargs)["task_id"]


def wait(s: Scheduler, clock: Clock, seconds: float, *workers: str) -> None:
    """Let time pass while the workers ping, as their keep-alive threads do."""
    for _ in range(int(seconds // 10) + 1):
        clock.advance(min(10, seconds))
        seconds -= 10
        for worker in workers:
            s.ping(worker=worker)


def test_a_task_runs_only_after_its_dependencies_are_done(clock: Clock) -> None:
    s = make(clock)
    s.add_task(worker="w1", task_id="B", deps=["A"])
    s.add_task(worker="w1", task_id="A")
    assert work(s) == "A"
    assert work(s) is None  # B waits for A
    s.add_task(worker="w1", task_id="A", status="DONE")
    assert work(s) == "B"


def test_a_task_is_handed_to_only_one_worker_at_a_time(clock: Clock) -> None:
    s = make(clock)
    for worker in ("w1", "w2"):
        s.add_task(worker=worker, task_id="T")
    assert work(s, "w1") == "T"
    reply = s.get_work(worker="w2")
    assert reply["task_id"] is None
    assert reply["running_tasks"][0]["worker"] == "w1"


def test_higher_priority_runs_first_and_priority_reaches_dependencies(clock: Clock) -> None:
    s = make(clock)
    s.add_task(worker="w1", task_id="low", priority=0)
    s.add_task(worker="w1", task_id="dep", priority=0)
    s.add_task(worker="w1", task_id="urgent", priority=10, deps=["dep"])
    assert work(s) == "dep"  # inherited priority 10
    assert s.task_list()["dep"]["priority"] == 10


def test_failed_task_becomes_pending_after_retry_delay(clock: Clock) -> None:
    s = make(clock, prune_on_get_work=True)
    s.add_task(worker="w1", task_id="T")
    assert work(s) == "T"
    s.add_task(worker="w1", task_id="T", status="FAILED", expl='"boom"')
    assert work(s) is None
    assert s.count_pending("w1")["n_pending_tasks"] == 1  # FAILED still counts: it will be retried
    wait(s, clock, 101, "w1")
    assert work(s) == "T"


def test_task_is_disabled_after_retry_count_failures_and_re_enabled_later(clock: Clock) -> None:
    s = make(clock, prune_on_get_work=True, retry_count=2, disable_persist=1000)
    s.add_task(worker="w1", task_id="T")
    for _ in range(2):
        assert work(s) == "T"
        s.add_task(worker="w1", task_id="T", status="FAILED")
        wait(s, clock, 101, "w1")
    assert s.task_list(status="DISABLED").keys() == {"T"}
    assert work(s) is None
    wait(s, clock, 1000, "w1")
    s.prune()
    assert "T" not in s.task_list(status="DISABLED")


def test_silent_worker_loses_its_running_task_to_another(clock: Clock) -> None:
    s = make(clock, prune_on_get_work=True, retry_delay=0)
    s.add_task(worker="w1", task_id="T")
    s.add_task(worker="w2", task_id="T")
    assert work(s, "w1") == "T"
    for _ in range(3):
        clock.advance(30)
        s.ping(worker="w2")  # w2 keeps in touch, w1 does not
    assert work(s, "w2") == "T"


def test_resources_limit_concurrent_tasks(clock: Clock) -> None:
    s = Scheduler(clock=clock, resources={"db": 1})
    s.add_task(worker="w1", task_id="A", resources={"db": 1})
    s.add_task(worker="w1", task_id="B", resources={"db": 1})
    s.add_task(worker="w1", task_id="C")
    first = work(s)
    assert first in ("A", "B")
    assert work(s) == "C"
    assert work(s) is None
    s.add_task(worker="w1", task_id=first, status="DONE")
    assert work(s) in ("A", "B")


def test_add_tasks_is_the_same_as_add_task_for_each(clock: Clock) -> None:
    one, many = make(clock), make(clock)
    calls = [{"task_id": "A", "deps": ["B"], "priority": 3}, {"task_id": "B", "family": "Fam", "params": {"x": "1"}}]
    for call in calls:
        one.add_task(worker="w", **call)
    many.add_tasks(worker="w", tasks=calls)
    assert one.task_list() == many.task_list()
    assert work(one, "w") == work(many, "w") == "B"


def test_pause_stops_handing_out_work(clock: Clock) -> None:
    s = make(clock)
    s.add_task(worker="w1", task_id="T")
    s.pause()
    assert work(s) is None and s.is_paused() == {"paused": True}
    s.unpause()
    assert work(s) == "T"


def test_state_survives_in_the_sqlite_store(clock: Clock, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    s = Scheduler(clock=clock, store=SqliteStore(path), retry_delay=100)
    s.add_task(worker="w1", task_id="A", family="Fam", params={"n": "1"}, priority=5)
    s.add_task(worker="w1", task_id="B", deps=["A"])
    assert work(s) == "A"
    s.add_task(worker="w1", task_id="A", status="DONE")
    s.add_task(worker="w1", task_id="C")
    assert work(s) in ("B", "C")
    s.close()

    again = Scheduler(clock=clock, store=SqliteStore(path), retry_delay=100)
    listed = again.task_list()
    assert listed["A"]["status"] == "DONE" and listed["A"]["params"] == {"n": "1"} and listed["A"]["priority"] == 5
    assert sorted(t["status"] for t in listed.values()) == ["DONE", "PENDING", "RUNNING"]
    # the pending one can still be handed out, and the running one is not handed out twice
    assert work(again, "w1") in ("B", "C")
    assert work(again, "w1") is None


def test_a_file_that_is_not_a_state_file_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a database, just some notes\n" * 100)
    with pytest.raises(StateFileError, match="not a trunkline scheduler state file"):
        SqliteStore(bogus)
