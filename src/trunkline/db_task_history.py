"""Task history in a SQLite database (Luigi's ``luigi.db_task_history``).

The central scheduler records every status change of every task when
``[scheduler] record_task_history = true``; this module stores them in the
database named by ``[task_history] db_connection`` (default
``sqlite:///luigi-task-hist.db``, a file in the scheduler's working directory)
and reads them back for the history pages.

Tables (the same names and columns as Luigi's, so either tool can read a file
the other wrote):

* ``tasks``: one row per task the scheduler saw while this history was open —
  ``id`` (the row id, used in ``/history/by_id/<id>``), ``task_id`` (the
  scheduler's task id), ``name`` (the task family), ``host`` (where it last ran);
* ``task_parameters``: the task's parameters as strings (``task_id`` is the row id);
* ``task_events``: ``event_name`` PENDING / RUNNING / DONE / FAILED with its
  local-time timestamp ``ts``, as the scheduler saw them.

Writing never blocks or breaks the scheduler: a call only puts the event on a
queue; one background thread writes what has queued in one transaction, logs
(and drops) what it cannot write, and drops events beyond ``max_queued`` if the
database falls behind. ``close()`` writes what is still queued. Reads first
wait (briefly) for the events queued before them, so a caller reads its writes.

SQLite URLs (``sqlite:///path``) use the standard library's sqlite3;
PostgreSQL URLs (``postgresql://user@host/database``) use psycopg 3, which is
then needed (``pip install 'psycopg[binary]'``). Any other URL SQLAlchemy
understands (``mysql+pymysql://...``, ``mssql+pyodbc://...``) goes through
SQLAlchemy, as in Luigi (``pip install 'trunkline[sqlalchemy]'`` and the
database's driver).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from trunkline import configuration, task_history  # noqa: F401 - Luigi's module has both names
from trunkline.configuration import get_config
from trunkline.task_history import TaskHistory
from trunkline.task_status import DONE, FAILED, PENDING, RUNNING  # noqa: F401 - as in Luigi's module

logger = logging.getLogger("luigi-interface")

DEFAULT_DB_CONNECTION = "sqlite:///luigi-task-hist.db"
# Luigi stores TIMESTAMP columns in SQLite as this text, which also sorts by time.
_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_BATCH_LIMIT = 5000

__all__ = [
    "DEFAULT_DB_CONNECTION",
    "DatabaseURLError",
    "DbTaskHistory",
    "TaskEvent",
    "TaskParameter",
    "TaskRecord",
    "postgres_conninfo_from_url",
    "sqlite_path_from_url",
]

# Luigi's tables; only the auto-numbered id column is spelled per database.
_SCHEMA_TEMPLATE = """
CREATE TABLE IF NOT EXISTS tasks (
    id {id_column},
    task_id VARCHAR(200),
    name VARCHAR(128),
    host VARCHAR(128)
);
CREATE TABLE IF NOT EXISTS task_parameters (
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    name VARCHAR(128) NOT NULL,
    value TEXT,
    PRIMARY KEY (task_id, name)
);
CREATE TABLE IF NOT EXISTS task_events (
    id {id_column},
    task_id INTEGER REFERENCES tasks (id),
    event_name VARCHAR(20),
    ts TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_task_events_task_id ON task_events (task_id);
CREATE INDEX IF NOT EXISTS ix_task_events_ts ON task_events (ts);
CREATE INDEX IF NOT EXISTS ix_tasks_name ON tasks (name);
"""
_SCHEMA = _SCHEMA_TEMPLATE.format(id_column="INTEGER NOT NULL PRIMARY KEY")
_POSTGRES_SCHEMA = _SCHEMA_TEMPLATE.format(id_column="SERIAL PRIMARY KEY")
# After the tables: a database written by an old Luigi gains tasks.task_id first.
_TASK_ID_INDEX = "CREATE INDEX IF NOT EXISTS ix_tasks_task_id ON tasks (task_id)"


class DatabaseURLError(ValueError):
    """``[task_history] db_connection`` names a database this module cannot use."""


# -- what the read API returns (Luigi's attribute names) ------------------------------


@dataclass(slots=True)
class TaskParameter:
    task_id: int
    name: str
    value: str | None


@dataclass(slots=True)
class TaskEvent:
    id: int
    task_id: int
    event_name: str
    ts: datetime.datetime


@dataclass(slots=True)
class TaskRecord:
    """One task as recorded: its parameters by name and its events, newest first."""

    id: int
    task_id: str | None
    name: str
    host: str | None
    parameters: dict[str, TaskParameter] = field(default_factory=dict)
    events: list[TaskEvent] = field(default_factory=list)


# -- the database URL ---------------------------------------------------------------------


def _without_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url


_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


def postgres_conninfo_from_url(url: str) -> str | None:
    """The libpq URL for a PostgreSQL ``db_connection`` (SQLAlchemy's driver
    suffix dropped), or None when the URL is not PostgreSQL's."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _POSTGRES_SCHEMES:
        return None
    return f"postgresql://{rest}"


def _is_sqlite_url(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


def _sqlalchemy_engine(url: str) -> Any:
    """A SQLAlchemy engine for ``url``; a DatabaseURLError naming what to install otherwise."""
    try:
        import sqlalchemy
    except ImportError:
        raise DatabaseURLError(
            f"[task_history] db_connection = {_without_password(url)!r}: trunkline stores task history in SQLite "
            "or PostgreSQL itself; any other database goes through SQLAlchemy: pip install 'trunkline[sqlalchemy]' "
            "(and the database's driver). Or use 'sqlite:///luigi-task-hist.db' or 'postgresql://user@host/database'."
        ) from None
    try:
        return sqlalchemy.create_engine(url, pool_pre_ping=True)
    except Exception as error:  # a malformed URL, a driver that is not installed
        raise DatabaseURLError(
            f"[task_history] db_connection = {_without_password(url)!r}: {error}. SQLite "
            "('sqlite:///luigi-task-hist.db') and PostgreSQL ('postgresql://user@host/database') need no "
            "more; another database needs its SQLAlchemy driver installed."
        ) from error


def sqlite_path_from_url(url: str) -> str:
    """The file a ``sqlite:///relative`` or ``sqlite:////absolute`` URL names
    (``:memory:`` for ``sqlite://``); a clear :class:`DatabaseURLError` otherwise."""
    scheme = url.split(":", 1)[0]
    if scheme.split("+", 1)[0].lower() != "sqlite":
        raise DatabaseURLError(
            f"[task_history] db_connection = {_without_password(url)!r} is not a SQLite URL; "
            "task history is stored in SQLite or PostgreSQL only. "
            "Use a URL like 'sqlite:///luigi-task-hist.db' (relative), 'sqlite:////var/lib/trunkline/history.db' "
            "(absolute) or 'postgresql://user@host/database'."
        )
    rest = url[len(scheme) + 3 :] if url[len(scheme) :].startswith("://") else None
    if rest == "" or rest == "/:memory:":
        return ":memory:"
    if rest is None or not rest.startswith("/") or rest == "/":
        raise DatabaseURLError(
            f"[task_history] db_connection = {url!r}: expected 'sqlite:///relative/path.db' or "
            f"'sqlite:////absolute/path.db' (three slashes, then the path)."
        )
    path = rest[1:]
    if "?" in path:
        raise DatabaseURLError(
            f"[task_history] db_connection = {url!r}: query options after '?' are not supported; give just the path."
        )
    return path


# -- the writer's queue ---------------------------------------------------------------------


class _Event(NamedTuple):
    event_name: str
    task_id: str
    family: str
    params: Any
    host: str | None
    ts: datetime.datetime


_STOP = object()


class _PostgresConnection:
    """A psycopg connection used the way this module uses sqlite3's: ``?``
    placeholders, ``execute``/``executemany`` on the connection, explicit
    ``BEGIN``/``COMMIT`` (the connection itself is in autocommit mode)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    @staticmethod
    def _sql(statement: str) -> str:
        return statement.replace("?", "%s")

    def execute(self, statement: str, args: Iterable[Any] = ()) -> Any:
        return self._raw.execute(self._sql(statement), tuple(args))

    def executemany(self, statement: str, rows: Iterable[Iterable[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if rows:
            with self._raw.cursor() as cursor:
                cursor.executemany(self._sql(statement), rows)

    @property
    def in_transaction(self) -> bool:
        return bool(self._raw.info.transaction_status != 0)  # 0: IDLE

    def rollback(self) -> None:
        self._raw.execute("ROLLBACK")

    def close(self) -> None:
        self._raw.close()


class _SqlAlchemyConnection:
    """A SQLAlchemy connection used the way this module uses sqlite3's: ``?``
    placeholders become named binds; ``BEGIN``/``COMMIT`` the connection's own;
    ``INSERT ... RETURNING id`` the inserted key where the dialect cannot return."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._conn = engine.connect()
        self._returning = bool(getattr(engine.dialect, "insert_returning", False))

    @staticmethod
    def _bind(statement: str, args: Iterable[Any]) -> tuple[Any, dict[str, Any]]:
        from sqlalchemy import text

        values = list(args)
        parts = statement.split("?")
        sql = parts[0] + "".join(f":p{index}{part}" for index, part in enumerate(parts[1:]))
        return text(sql), {f"p{index}": value for index, value in enumerate(values)}

    def execute(self, statement: str, args: Iterable[Any] = ()) -> Any:
        keyword = statement.strip().upper()
        if keyword == "BEGIN":
            if not self._conn.in_transaction():
                self._conn.begin()
            return None
        if keyword == "COMMIT":
            self._conn.commit()
            return None
        if statement.endswith(" RETURNING id") and not self._returning:
            sql, binds = self._bind(statement[: -len(" RETURNING id")], args)
            result = self._conn.execute(sql, binds)
            return _Inserted(result.lastrowid)  # the DB-API's id of the row just inserted
        sql, binds = self._bind(statement, args)
        return self._conn.execute(sql, binds)

    def executemany(self, statement: str, rows: Iterable[Iterable[Any]]) -> None:
        bound = [self._bind(statement, row) for row in rows]
        if bound:
            self._conn.execute(bound[0][0], [binds for _sql, binds in bound])

    @property
    def in_transaction(self) -> bool:
        return bool(self._conn.in_transaction())

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


class _Inserted:
    """What ``cursor.fetchone()`` of ``INSERT ... RETURNING id`` gives, for a dialect without RETURNING."""

    def __init__(self, key: Any) -> None:
        self._key = key

    def fetchone(self) -> tuple[Any]:
        return (self._key,)


def _sqlalchemy_schema(engine: Any) -> None:
    """Luigi's three tables and their indexes, spelled by SQLAlchemy for ``engine``'s database."""
    from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, TIMESTAMP

    metadata = MetaData()
    tasks = Table(
        "tasks", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("task_id", String(200)), Column("name", String(128)), Column("host", String(128)),
    )
    Table(
        "task_parameters", metadata,
        Column("task_id", Integer, ForeignKey("tasks.id"), primary_key=True),
        Column("name", String(128), primary_key=True), Column("value", Text),
    )
    events = Table(
        "task_events", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("task_id", Integer, ForeignKey("tasks.id")), Column("event_name", String(20)),
        Column("ts", TIMESTAMP, nullable=False),
    )
    Index("ix_task_events_task_id", events.c.task_id)
    Index("ix_task_events_ts", events.c.ts)
    Index("ix_tasks_name", tasks.c.name)
    Index("ix_tasks_task_id", tasks.c.task_id)
    metadata.create_all(engine)


class DbTaskHistory(TaskHistory):
    """Records the scheduler's task events in SQLite or PostgreSQL and answers queries over them."""

    CURRENT_SOURCE_VERSION = 1

    def __init__(
        self,
        connection_string: str | None = None,
        *,
        clock: Callable[[], datetime.datetime] = datetime.datetime.now,
        max_queued: int = 100_000,
        read_wait_seconds: float = 5.0,
    ) -> None:
        if connection_string is None:
            connection_string = get_config().get("task_history", "db_connection", DEFAULT_DB_CONNECTION)
        self.connection_string = connection_string
        self._clock = clock
        self._max_queued = max_queued
        self._read_wait_seconds = read_wait_seconds
        self._postgres = postgres_conninfo_from_url(connection_string)
        # Neither SQLite nor PostgreSQL: whatever SQLAlchemy can reach, as Luigi accepts.
        self._engine: Any = None
        if self._postgres is None and not _is_sqlite_url(connection_string):
            self._engine = _sqlalchemy_engine(connection_string)
        path = sqlite_path_from_url(connection_string) if self._postgres is None and self._engine is None else ""
        if self._postgres is not None or self._engine is not None:
            self._target, self._uri = "", False
        elif path == ":memory:":
            # one shared in-memory database for the writer and the readers,
            # alive while _keepalive is open
            self._target, self._uri = f"file:trunkline-history-{id(self)}?mode=memory&cache=shared", True
        else:
            self._target, self._uri = path, False
            _create_private(path)
        # An in-memory SQLite database lives as long as one connection to it.
        self._keepalive: Any = self._open_and_create_schema()
        if path != ":memory:" and self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        # task id -> [row id, host last recorded]; only the writer thread touches it
        self._rows: dict[str, list[Any]] = {}
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sequence = itertools.count(1)
        self._enqueued = 0
        self._handled = 0
        self._handled_changed = threading.Condition()
        self._closed = False
        self.dropped_events = 0
        self._writer = threading.Thread(target=self._write_loop, name="trunkline-task-history", daemon=True)
        self._writer.start()

    # -- connections -----------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._engine is not None:
            return _SqlAlchemyConnection(self._engine)
        if self._postgres is not None:
            import psycopg

            return _PostgresConnection(psycopg.connect(self._postgres, autocommit=True, connect_timeout=10))
        conn = sqlite3.connect(self._target, uri=self._uri, timeout=10.0, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _timestamp(self, moment: datetime.datetime) -> Any:
        # SQLite has no time type: Luigi stores this text there, which sorts by time.
        return moment if self._postgres is not None or self._engine is not None else moment.strftime(_TS_FORMAT)

    def _open_and_create_schema(self) -> Any:
        if self._engine is not None:
            try:
                _sqlalchemy_schema(self._engine)
            except Exception as error:  # each driver has its own errors
                raise DatabaseURLError(
                    f"cannot use the task history database {_without_password(self.connection_string)!r}: "
                    f"{str(error).strip()[:300]}"
                ) from error
            return None
        if self._postgres is not None:
            return self._open_postgres()
        try:
            conn = self._connect()
            if not self._uri:
                conn.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
            if "task_id" not in columns:  # a database written by an old Luigi
                logger.warning("Task history %s: adding the tasks.task_id column", self.connection_string)
                conn.execute("ALTER TABLE tasks ADD COLUMN task_id VARCHAR(200)")
            conn.execute(_TASK_ID_INDEX)
            return conn
        except sqlite3.Error as error:
            raise DatabaseURLError(
                f"cannot use the task history database {self.connection_string!r} "
                f"(file {self._target!r}): {error}. Check that its directory exists and is writable, "
                f"or set [task_history] db_connection to another sqlite:/// path."
            ) from error

    def _open_postgres(self) -> None:
        try:
            import psycopg
        except ImportError:
            raise DatabaseURLError(
                f"[task_history] db_connection = {_without_password(self.connection_string)!r} needs psycopg 3 "
                "for PostgreSQL: pip install 'psycopg[binary]'"
            ) from None
        try:
            conn = self._connect()
            try:
                conn.execute("BEGIN")
                for statement in [*filter(str.strip, _POSTGRES_SCHEMA.split(";")), _TASK_ID_INDEX]:
                    conn.execute(statement)
                conn.execute("COMMIT")
            finally:
                conn.close()
        except psycopg.Error as error:
            raise DatabaseURLError(
                f"cannot use the task history database {_without_password(self.connection_string)!r}: "
                f"{str(error).strip()}. Check that PostgreSQL runs there and the user may create tables."
            ) from error

    # -- TaskHistory: called by the scheduler; cheap, never raises ----------------------------
    def task_scheduled(self, task: Any) -> None:
        self._put("PENDING", task, None)

    def task_finished(self, task: Any, successful: bool) -> None:
        self._put("DONE" if successful else "FAILED", task, None)

    def task_started(self, task: Any, worker_host: str | None) -> None:
        self._put("RUNNING", task, worker_host)

    def _put(self, event_name: str, task: Any, host: str | None) -> None:
        try:
            if self._closed:
                logger.debug("Task history is closed; %s of %s not recorded", event_name, task.id)
                return
            if self._enqueued - self._handled >= self._max_queued:
                self.dropped_events += 1
                if self.dropped_events == 1 or self.dropped_events % 10_000 == 0:
                    logger.warning(
                        "Task history %s is %d events behind; %d events dropped so far",
                        self.connection_string, self._max_queued, self.dropped_events,
                    )
                return
            self._queue.put(_Event(event_name, task.id, task.family, task.params, host, self._clock()))
            self._enqueued = next(self._sequence)
        except Exception:
            logger.warning("Could not queue a task history event", exc_info=True)

    # -- the writer thread -----------------------------------------------------------------
    def _write_loop(self) -> None:
        conn: Any = None
        try:
            conn = self._connect()
        except Exception:
            logger.exception("Task history %s: cannot open the database; events will not be recorded", self.connection_string)
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH_LIMIT:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            events = [item for item in batch if item is not _STOP]
            if events and conn is not None:
                try:
                    self._write(conn, events)
                except Exception:
                    logger.exception("Task history %s: could not write %d events; they are lost", self.connection_string, len(events))
                    try:
                        if conn.in_transaction:
                            conn.rollback()
                    except Exception:
                        pass  # the next batch starts a fresh transaction or fails the same way
            with self._handled_changed:
                self._handled += len(events)
                self._handled_changed.notify_all()
            if stop:
                break
        if conn is not None:
            conn.close()

    def _write(self, conn: Any, events: list[_Event]) -> None:
        new_rows: dict[str, list[Any]] = {}
        conn.execute("BEGIN")
        for event in events:
            row = new_rows.get(event.task_id) or self._rows.get(event.task_id)
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO tasks (task_id, name, host) VALUES (?, ?, ?) RETURNING id",
                    (event.task_id, event.family, event.host),
                )
                row = new_rows[event.task_id] = [cursor.fetchone()[0], event.host]
                conn.executemany(
                    "INSERT INTO task_parameters (task_id, name, value) VALUES (?, ?, ?)",
                    [(row[0], str(name), _as_text(value)) for name, value in (event.params or {}).items()],
                )
            elif event.host and event.host != row[1]:
                conn.execute("UPDATE tasks SET host = ? WHERE id = ?", (event.host, row[0]))
                row = new_rows[event.task_id] = [row[0], event.host]
            conn.execute(
                "INSERT INTO task_events (task_id, event_name, ts) VALUES (?, ?, ?)",
                (row[0], event.event_name, self._timestamp(event.ts)),
            )
        conn.execute("COMMIT")
        self._rows.update(new_rows)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event queued so far is written (or dropped); False on timeout."""
        target = self._enqueued
        with self._handled_changed:
            return self._handled_changed.wait_for(lambda: self._handled >= target, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the writer. Later events are ignored."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._writer.join(timeout)
        if self._writer.is_alive():
            logger.warning("Task history %s: gave up waiting for the writer after %.0f s", self.connection_string, timeout)
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        if self._engine is not None:
            self._engine.dispose()

    # -- reads (Luigi's names; ``session`` is accepted for compatibility and ignored) -------------
    @contextmanager
    def _session(self, session: Any = None) -> Iterator[Any]:
        """Luigi's session scope, for code that wraps its queries in one: the
        reads below open their own connection, so this only hands ``session`` back."""
        yield session if session is not None else self

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        if not self._closed:
            self.flush(self._read_wait_seconds)
        with closing(self._connect()) as conn:
            yield conn

    def find_all_by_parameters(self, task_name: str, session: Any = None, **task_params: Any) -> list[TaskRecord]:
        """Runs of the family ``task_name`` whose parameters include ``task_params``
        (compared as strings), in the order they were first recorded."""
        where = ["name = ?", "EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = tasks.id)"]
        args: list[Any] = [task_name]
        for name, value in task_params.items():
            where.append("EXISTS (SELECT 1 FROM task_parameters p WHERE p.task_id = tasks.id AND p.name = ? AND p.value = ?)")
            args.extend([name, _as_text(value)])
        with self._reading() as conn:
            records = _load(conn, " AND ".join(where), args)
        return sorted(records, key=lambda r: (r.events[-1].ts, r.events[-1].id))

    def find_all_by_name(self, task_name: str, session: Any = None, params: dict[str, Any] | None = None) -> list[TaskRecord]:
        """Every run of the family ``task_name`` (optionally with these parameters)."""
        return self.find_all_by_parameters(task_name, **(params or {}))

    def find_latest_runs(self, session: Any = None) -> list[TaskRecord]:
        """Runs with an event in the past 24 hours, the most recently updated first."""
        since = self._timestamp(self._clock() - datetime.timedelta(days=1))
        with self._reading() as conn:
            records = _load(conn, "id IN (SELECT task_id FROM task_events WHERE ts >= ?)", [since])
        return sorted(records, key=lambda r: (r.events[0].ts, r.events[0].id), reverse=True)

    def find_all_runs(self, session: Any = None) -> list[TaskRecord]:
        """Every recorded run, in row order."""
        with self._reading() as conn:
            return _load(conn, "1 = 1", [])

    def find_all_events(self, session: Any = None) -> list[TaskEvent]:
        """Every recorded event, oldest first."""
        with self._reading() as conn:
            rows = conn.execute("SELECT id, task_id, event_name, ts FROM task_events ORDER BY id")
            return [_event(row) for row in rows]

    def find_task_by_id(self, id: Any, session: Any = None) -> TaskRecord | None:  # noqa: A002 - Luigi's name
        """The run with this row id, or None."""
        try:
            row_id = int(id)
        except (TypeError, ValueError):
            return None
        if not 0 <= row_id < 2**63:  # no row has it, and SQLite cannot even bind it
            return None
        with self._reading() as conn:
            records = _load(conn, "id = ?", [row_id])
        return records[0] if records else None

    def find_task_by_task_id(self, task_id: str, session: Any = None) -> TaskRecord | None:
        """The latest run of the scheduler task ``task_id``, or None."""
        with self._reading() as conn:
            records = _load(conn, "id = (SELECT MAX(id) FROM tasks WHERE task_id = ?)", [task_id])
        return records[0] if records else None

    def find_events_by_name(self, task_name: str) -> list[tuple[TaskRecord, TaskEvent]]:
        """Every event of every run of the family ``task_name``, oldest first (for /tasklist)."""
        with self._reading() as conn:
            records = _load(conn, "name = ?", [task_name])
        pairs = [(record, event) for record in records for event in record.events]
        return sorted(pairs, key=lambda pair: pair[1].id)

    def find_task_names(self) -> list[str]:
        """The distinct family names recorded, sorted."""
        with self._reading() as conn:
            return [row[0] for row in conn.execute("SELECT DISTINCT name FROM tasks WHERE name IS NOT NULL ORDER BY name")]


def _create_private(path: str) -> None:
    """Create the SQLite file 0600 if it does not exist yet: it holds task parameters
    and error messages, and SQLite gives its -wal/-shm files the same permissions."""
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return  # sqlite3 reports the missing directory itself
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def _event(row: Iterable[Any]) -> TaskEvent:
    event_id, row_id, name, ts = row
    return TaskEvent(id=event_id, task_id=row_id, event_name=name, ts=_parse_ts(ts))


def _parse_ts(text: Any) -> datetime.datetime:
    return text if isinstance(text, datetime.datetime) else datetime.datetime.fromisoformat(str(text))


def _load(conn: Any, where: str, args: list[Any]) -> list[TaskRecord]:
    """The tasks matching ``where`` (SQL over ``tasks``) with their parameters and events."""
    records: dict[int, TaskRecord] = {}
    for row_id, task_id, name, host in conn.execute(f"SELECT id, task_id, name, host FROM tasks WHERE {where} ORDER BY id", args):
        records[row_id] = TaskRecord(id=row_id, task_id=task_id, name=name, host=host)
    if not records:
        return []
    subquery = f"SELECT id FROM tasks WHERE {where}"
    for row_id, name, value in conn.execute(
        f"SELECT task_id, name, value FROM task_parameters WHERE task_id IN ({subquery})", args
    ):
        records[row_id].parameters[name] = TaskParameter(task_id=row_id, name=name, value=value)
    for row in conn.execute(
        f"SELECT id, task_id, event_name, ts FROM task_events WHERE task_id IN ({subquery}) ORDER BY ts DESC, id DESC",
        args,
    ):
        event = _event(row)
        records[event.task_id].events.append(event)
    return list(records.values())


def __getattr__(name: str) -> Any:
    """``sqlalchemy`` and ``reflection``, the names Luigi's module imported, for code
    that reaches them through it: imported on first use, as SQLAlchemy is optional."""
    if name in ("sqlalchemy", "reflection"):
        try:
            import sqlalchemy
            from sqlalchemy.engine import reflection
        except ImportError:
            raise AttributeError(
                f"trunkline.db_task_history.{name} needs SQLAlchemy: pip install 'trunkline[sqlalchemy]'"
            ) from None
        return sqlalchemy if name == "sqlalchemy" else reflection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
