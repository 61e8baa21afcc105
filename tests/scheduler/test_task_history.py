"""Task history: what the scheduler records in DbTaskHistory, and reading it back."""

from __future__ import annotations

import logging
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import trunkline
from trunkline.configuration import get_config
from trunkline.db_task_history import DatabaseURLError, DbTaskHistory, TaskRecord, sqlite_path_from_url
from trunkline.scheduler import Scheduler
from trunkline.task_history import NopHistory, TaskHistory


class Clock:
    """A settable wall clock for the history's timestamps."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)  # every event a distinct, later time
        return self.now


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Any database other than SQLite and PostgreSQL goes through SQLAlchemy. To run that
# path here, SQLite is registered under two dialect names trunkline does not know:
# one as it is, one that cannot use INSERT ... RETURNING (as MySQL cannot).
try:
    from sqlalchemy.dialects import registry as _dialects
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
except ImportError:
    _dialects = None
else:

    class SqliteWithoutReturning(SQLiteDialect_pysqlite):
        insert_returning = False
        supports_statement_cache = True

    _dialects.register("tlviasqlalchemy", "sqlalchemy.dialects.sqlite.pysqlite", "SQLiteDialect_pysqlite")
    _dialects.register("tlnoreturning", __name__, "SqliteWithoutReturning")


@pytest.fixture(params=["sqlite", "postgresql", "sqlalchemy", "sqlalchemy-without-returning"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh history database: a SQLite file (directly, or through SQLAlchemy as
    any other database is), or a new PostgreSQL database on 127.0.0.1:5432
    (dropped afterwards; skipped where no PostgreSQL runs)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    if request.param.startswith("sqlalchemy"):
        if _dialects is None:
            pytest.skip("SQLAlchemy (the 'sqlalchemy' extra) is not installed")
        scheme = "tlviasqlalchemy" if request.param == "sqlalchemy" else "tlnoreturning"
        yield f"{scheme}:///{tmp_path / 'history.db'}"
        return
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the test extra) is needed for PostgreSQL history")
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        pytest.skip(f"no PostgreSQL accepts {POSTGRES_ADMIN_URL} here ({str(error).strip()})")
    name = f"trunkline_history_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def history(database_url: str) -> Iterator[DbTaskHistory]:
    recorded = DbTaskHistory(database_url)
    yield recorded
    recorded.close()


def statuses(record: TaskRecord) -> list[str]:
    """The record's events oldest first, repeated PENDING reports collapsed."""
    names = [event.event_name for event in reversed(record.events)]
    return [name for i, name in enumerate(names) if i == 0 or name != names[i - 1]]


def only(records: list[TaskRecord], name: str) -> TaskRecord:
    matching = [record for record in records if record.name == name]
    assert len(matching) == 1, f"expected one {name} run, got {matching}"
    return matching[0]


# -- a workflow through the in-process scheduler ------------------------------------------


def test_a_workflow_records_each_task_pending_running_then_done_or_failed(tmp_path: Path, history: DbTaskHistory) -> None:
    class Extract(trunkline.Task):
        day = trunkline.Parameter()

        def output(self) -> trunkline.LocalTarget:
            return trunkline.LocalTarget(str(tmp_path / f"extract-{len(self.day)}"))

        def run(self) -> None:
            with self.output().open("w") as f:
                f.write("data")

    class Broken(trunkline.Task):
        def output(self) -> trunkline.LocalTarget:
            return trunkline.LocalTarget(str(tmp_path / "never"))

        def run(self) -> None:
            raise RuntimeError("this task always fails")

    class Everything(trunkline.WrapperTask):
        def requires(self) -> list[trunkline.Task]:
            return [Extract(day="<b>2024-05-01</b> & co"), Broken()]

    class WithHistory:
        def create_local_scheduler(self) -> Scheduler:
            return Scheduler(prune_on_get_work=True, task_history_impl=history)

        def create_worker(self, scheduler: Any, worker_processes: int, assistant: bool = False) -> Any:
            from trunkline.worker import Worker

            return Worker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)

    trunkline.build([Everything()], worker_scheduler_factory=WithHistory(), local_scheduler=True)
    assert history.flush(30)

    runs = history.find_all_runs()
    extract = only(runs, "Extract")
    assert statuses(extract) == ["PENDING", "RUNNING", "DONE"]
    assert extract.host == socket.gethostname()
    assert {name: p.value for name, p in extract.parameters.items()} == {"day": "<b>2024-05-01</b> & co"}
    assert extract.task_id == Extract(day="<b>2024-05-01</b> & co").task_id
    assert statuses(only(runs, "Broken")) == ["PENDING", "RUNNING", "FAILED"]
    # the wrapper is never run: it is PENDING until its requirements are done
    assert statuses(only(runs, "Everything"))[0] == "PENDING"


# -- the scheduler API driven directly -------------------------------------------------------


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[Scheduler, DbTaskHistory, Clock]]:
    clock = Clock()
    recorded = DbTaskHistory(database_url, clock=clock)
    scheduler = Scheduler(task_history_impl=recorded, resources={}, retry_delay=0, stable_done_cooldown_secs=0)
    yield scheduler, recorded, clock
    recorded.close()


def test_running_records_the_host_of_the_worker_that_took_the_task(clocked: tuple[Scheduler, DbTaskHistory, Clock]) -> None:
    scheduler, history, _ = clocked
    scheduler.add_task(task_id="T_1", worker="w1", family="T", params={"n": "1"})
    scheduler.add_task(task_id="T_1", worker="w2", family="T", params={"n": "1"})
    assert scheduler.get_work(worker="w2", host="render-07")["task_id"] == "T_1"
    scheduler.add_task(task_id="T_1", worker="w2", status="DONE")
    record = history.find_task_by_task_id("T_1")
    assert record is not None
    assert record.host == "render-07"
    assert [e.event_name for e in reversed(record.events)] == ["PENDING", "PENDING", "RUNNING", "DONE"]


def test_a_repeated_done_report_is_one_event_but_every_pending_report_is_recorded(
    clocked: tuple[Scheduler, DbTaskHistory, Clock],
) -> None:
    scheduler, history, _ = clocked
    scheduler.add_task(task_id="A", worker="w", family="A", status="DONE")
    scheduler.add_task(task_id="A", worker="w", family="A", status="DONE")
    scheduler.add_task(task_id="B", worker="w", family="B")
    scheduler.add_task(task_id="B", worker="w", family="B")
    assert [e.event_name for e in only(history.find_all_runs(), "A").events] == ["DONE"]
    assert [e.event_name for e in only(history.find_all_runs(), "B").events] == ["PENDING", "PENDING"]


def test_forgiving_a_failure_and_marking_done_are_recorded(clocked: tuple[Scheduler, DbTaskHistory, Clock]) -> None:
    scheduler, history, _ = clocked
    scheduler.add_task(task_id="F", worker="w", family="F")
    scheduler.get_work(worker="w", host="h1")
    scheduler.add_task(task_id="F", worker="w", status="FAILED")
    scheduler.forgive_failures(task_id="F")
    scheduler.get_work(worker="w", host="h1")
    scheduler.add_task(task_id="F", worker="w", status="FAILED")
    scheduler.mark_as_done(task_id="F")
    record = history.find_task_by_task_id("F")
    assert record is not None
    assert statuses(record) == ["PENDING", "RUNNING", "FAILED", "PENDING", "RUNNING", "FAILED", "DONE"]


def test_retries_and_a_vanished_worker_are_recorded_but_a_re_enable_is_not_a_failure(tmp_path: Path) -> None:
    now = [1_000_000.0]
    history = DbTaskHistory(f"sqlite:///{tmp_path / 'h.db'}")
    scheduler = Scheduler(
        task_history_impl=history, resources={}, clock=lambda: now[0],
        retry_delay=10, worker_disconnect_delay=60, retry_count=2, disable_persist=100, stable_done_cooldown_secs=0,
    )
    scheduler.add_task(task_id="T", worker="w1", family="T")
    scheduler.get_work(worker="w1", host="doomed")
    now[0] += 61  # w1 goes silent while running T: the run is lost (FAILED), not a failure of T
    scheduler.prune()
    now[0] += 1  # back in the queue at once, no retry_delay
    scheduler.prune()
    scheduler.add_task(task_id="T", worker="w2", family="T")
    scheduler.get_work(worker="w2", host="h2")
    scheduler.add_task(task_id="T", worker="w2", status="FAILED")  # first failure of T itself
    assert scheduler.task_list("FAILED", "").keys() == {"T"}
    now[0] += 11  # due for its retry
    scheduler.prune()
    scheduler.get_work(worker="w2", host="h2")
    scheduler.add_task(task_id="T", worker="w2", status="FAILED")  # second failure: disabled
    assert scheduler.task_list("DISABLED", "").keys() == {"T"}
    scheduler.re_enable_task("T")
    record = history.find_task_by_task_id("T")
    history.close()
    assert record is not None
    # the lost run, its requeue, w2's PENDING report, two runs that failed; nothing after the disable
    assert [e.event_name for e in reversed(record.events)] == [
        "PENDING", "RUNNING", "FAILED", "PENDING", "PENDING", "RUNNING", "FAILED", "PENDING", "RUNNING", "FAILED",
    ]
    assert record.host == "h2"


def test_a_failing_history_is_logged_and_the_scheduler_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(TaskHistory):
        def task_scheduled(self, task: Any) -> None:
            raise OSError("disk on fire")

        def task_started(self, task: Any, worker_host: str | None) -> None:
            raise OSError("disk on fire")

        def task_finished(self, task: Any, successful: bool) -> None:
            raise OSError("disk on fire")

    scheduler = Scheduler(task_history_impl=Exploding(), resources={})
    with caplog.at_level(logging.WARNING):
        scheduler.add_task(task_id="T", worker="w", family="T")
        assert scheduler.get_work(worker="w")["task_id"] == "T"
        scheduler.add_task(task_id="T", worker="w", status="DONE")
    assert scheduler.task_list("DONE", "").keys() == {"T"}
    assert "Could not record PENDING of task T" in caplog.text


def test_has_task_history_says_whether_history_is_recorded() -> None:
    assert Scheduler(resources={}).has_task_history() is False
    assert Scheduler(resources={}, task_history_impl=NopHistory()).has_task_history() is True


# -- the read API ----------------------------------------------------------------------------------


def test_the_find_api_answers_by_name_parameters_id_and_recency(clocked: tuple[Scheduler, DbTaskHistory, Clock]) -> None:
    scheduler, history, clock = clocked
    scheduler.add_task(task_id="Old", worker="w", family="Report", params={"day": "2024-04-01"}, status="DONE")
    clock.now += timedelta(days=2)
    scheduler.add_task(task_id="New", worker="w", family="Report", params={"day": "2024-04-03", "n": "3"})
    scheduler.add_task(task_id="Other", worker="w", family="Other", params={"day": "2024-04-03"})

    assert [r.task_id for r in history.find_all_by_name("Report")] == ["Old", "New"]
    assert [r.task_id for r in history.find_all_by_name("Report", params={"n": "3"})] == ["New"]
    assert [r.task_id for r in history.find_all_by_parameters("Report", day="2024-04-03")] == ["New"]
    assert [r.task_id for r in history.find_all_by_parameters("Report", n=3)] == ["New"]  # compared as strings
    assert history.find_all_by_parameters("Report", day="1999-01-01") == []
    assert history.find_all_by_name("Nothing") == []

    # the last 24 hours, most recently updated first
    assert [r.task_id for r in history.find_latest_runs()] == ["Other", "New"]
    assert [r.task_id for r in history.find_all_runs()] == ["Old", "New", "Other"]
    events = history.find_all_events()
    assert [e.event_name for e in events] == ["DONE", "PENDING", "PENDING"]
    assert events[0].ts < events[1].ts

    new = history.find_all_by_parameters("Report", day="2024-04-03")[0]
    assert history.find_task_by_id(new.id) == new
    assert history.find_task_by_id(str(new.id)) == new  # as it comes from a URL
    assert history.find_task_by_id(9999) is None
    assert history.find_task_by_id("not-a-number") is None
    assert history.find_task_by_task_id("missing") is None
    assert history.find_task_names() == ["Other", "Report"]


def test_events_written_before_close_are_read_by_the_next_history_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    first = DbTaskHistory(url)
    scheduler = Scheduler(task_history_impl=first, resources={})
    for n in range(50):
        scheduler.add_task(task_id=f"T_{n}", worker="w", family="T", params={"n": str(n)})
    first.close()  # writes what is still queued

    second = DbTaskHistory(url)
    try:
        assert len(second.find_all_runs()) == 50
        assert [e.event_name for e in second.find_all_events()] == ["PENDING"] * 50
    finally:
        second.close()


def test_a_locked_database_neither_blocks_nor_breaks_the_scheduler(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    history = DbTaskHistory(f"sqlite:///{path}", max_queued=3)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer now waits for this lock
    try:
        scheduler = Scheduler(task_history_impl=history, resources={})
        for n in range(10):
            scheduler.add_task(task_id=f"T_{n}", worker="w", family="T")
        assert scheduler.count_pending("w")["n_pending_tasks"] == 10
        assert history.dropped_events == 7  # at most max_queued events wait for the database
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert history.flush(30)
    assert len(history.find_all_events()) == 3
    history.close()


def test_a_write_that_fails_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "broken.db"
    history = DbTaskHistory(f"sqlite:///{path}")
    with sqlite3.connect(path) as other:
        other.execute("DROP TABLE task_events")
    with caplog.at_level(logging.ERROR):
        Scheduler(task_history_impl=history, resources={}).add_task(task_id="T", worker="w", family="T")
        assert history.flush(30)
    assert "could not write 1 events" in caplog.text
    history.close()


# -- the database URL ------------------------------------------------------------------------------


def test_sqlite_urls_name_relative_absolute_and_in_memory_databases() -> None:
    assert sqlite_path_from_url("sqlite:///luigi-task-hist.db") == "luigi-task-hist.db"
    assert sqlite_path_from_url("sqlite:////var/lib/history.db") == "/var/lib/history.db"
    assert sqlite_path_from_url("sqlite://") == ":memory:"
    with pytest.raises(DatabaseURLError, match="three slashes"):
        sqlite_path_from_url("sqlite:/history.db")


def test_a_database_whose_driver_is_missing_is_refused_naming_the_url_without_its_password() -> None:
    """Another database goes through SQLAlchemy; without it or the driver (MySQLdb here)
    the error says what would work."""
    with pytest.raises(DatabaseURLError) as raised:
        DbTaskHistory("mysql://luigi:s3cret@127.0.0.1/history")
    message = str(raised.value)
    assert "mysql://luigi:***@127.0.0.1/history" in message
    assert "s3cret" not in message
    assert "sqlite:///" in message and "postgresql://" in message  # says what would work


def test_an_unreachable_postgresql_is_a_clear_error_at_start_without_the_password() -> None:
    pytest.importorskip("psycopg", reason="psycopg (the test extra) is needed for PostgreSQL history")
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DatabaseURLError) as raised:
        DbTaskHistory(f"postgresql://luigi:s3cret@127.0.0.1:{port}/history")
    message = str(raised.value)
    assert f"postgresql://luigi:***@127.0.0.1:{port}/history" in message
    assert "s3cret" not in message


def test_an_unusable_sqlite_path_is_a_clear_error_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'history.db'}"
    with pytest.raises(DatabaseURLError, match="cannot use the task history database") as raised:
        DbTaskHistory(url)
    assert url in str(raised.value)


def test_without_an_argument_the_database_comes_from_the_task_history_section(tmp_path: Path) -> None:
    config = get_config()
    if not config.has_section("task_history"):
        config.add_section("task_history")
    config.set("task_history", "db_connection", f"sqlite:///{tmp_path / 'configured.db'}")
    try:
        history = DbTaskHistory()
        history.close()
    finally:
        config.remove_option("task_history", "db_connection")
    assert (tmp_path / "configured.db").exists()


def test_an_in_memory_database_is_shared_by_the_writer_and_the_readers() -> None:
    history = DbTaskHistory("sqlite://")
    try:
        Scheduler(task_history_impl=history, resources={}).add_task(task_id="T", worker="w", family="T")
        assert [r.task_id for r in history.find_all_runs()] == ["T"]
    finally:
        history.close()
