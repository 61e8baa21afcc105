"""Where the scheduler's state goes so that it survives a restart.

The scheduler calls ``save(scheduler)`` after every change it acknowledges and
``load_into(scheduler)`` once at construction. :class:`MemoryStore` keeps
nothing (the local scheduler lives as long as its run).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import deque
from typing import Any, Protocol

from trunkline._scheduler.records import RetryPolicy, TaskRecord, WorkerRecord
from trunkline._scheduler.status import TaskStatus


class Store(Protocol):
    def load_into(self, scheduler: Any) -> None: ...

    def save(self, scheduler: Any) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Keeps nothing: the state lives and dies with the scheduler object."""

    def load_into(self, scheduler: Any) -> None:
        return None

    def save(self, scheduler: Any) -> None:
        # Nothing is written, so nothing needs remembering as changed.
        state = scheduler._state
        if state.dirty_tasks:
            state.dirty_tasks.clear()
        if state.dirty_workers:
            state.dirty_workers.clear()
        if state.deleted_tasks:
            state.deleted_tasks.clear()
        if state.deleted_workers:
            state.deleted_workers.clear()
        state.resources_changed = False

    def close(self) -> None:
        return None


SCHEMA_VERSION = 1


def write_snapshot(path: str, state: Any) -> None:
    """Every task and worker as JSON in one file (Luigi's ``dump``; never a pickle)."""
    snapshot = {
        "trunkline_snapshot": SCHEMA_VERSION,
        "tasks": [_task_to_json(task) for task in state.tasks.values()],
        "workers": [_worker_to_json(worker) for worker in state.workers.values()],
    }
    tmp = f"{path}.tmp"
    with open(os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        json.dump(snapshot, out)
    os.replace(tmp, path)


def read_snapshot(path: str) -> tuple[list[TaskRecord], list[WorkerRecord]] | None:
    """What :func:`write_snapshot` wrote, or None for anything else (a pickle, junk, no file)."""
    try:
        with open(path, encoding="utf-8") as source:
            snapshot = json.load(source)
        if not isinstance(snapshot, dict) or "trunkline_snapshot" not in snapshot:
            return None
        return (
            [_task_from_json(text) for text in snapshot["tasks"]],
            [_worker_from_json(text) for text in snapshot["workers"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


class StoreWriteError(Exception):
    """Some changed records could not be saved; everything else was (the store stays usable)."""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeError:
        return False
    return True


class StateFileError(Exception):
    """The state file is not a trunkline scheduler state file (or is from a newer version)."""


def _task_to_json(task: TaskRecord) -> str:
    return json.dumps(
        {
            "id": task.id,
            "status": task.status.value,
            "priority": task.priority,
            "time": task.time,
            "retry_policy": list(task.retry_policy),
            "deps": sorted(task.deps),
            "stakeholders": sorted(task.stakeholders),
            "workers": list(task.workers),
            "family": task.family,
            "module": task.module,
            "params": task.params,
            "param_visibilities": task.param_visibilities,
            "resources": task.resources,
            "resources_running": task.resources_running,
            "updated": task.updated,
            "retry": task.retry,
            "remove": task.remove,
            "worker_running": task.worker_running,
            "time_running": task.time_running,
            "expl": task.expl,
            "failures": list(task.failures),
            "first_failure_time": task.first_failure_time,
            "lost_runs": task.lost_runs,
            "scheduler_disable_time": task.scheduler_disable_time,
            "runnable": task.runnable,
            "tracking_url": task.tracking_url,
            "status_message": task.status_message,
            "progress_percentage": task.progress_percentage,
            "accepts_messages": task.accepts_messages,
            "batchable": task.batchable,
            "batch_id": task.batch_id,
            "owners": task.owners,
        },
        default=str,
    )


def _task_from_json(text: str) -> TaskRecord:
    data = json.loads(text)
    return TaskRecord(
        id=data["id"],
        status=TaskStatus(data["status"]),
        priority=data["priority"],
        time=data["time"],
        retry_policy=RetryPolicy(*data["retry_policy"]),
        deps=set(data["deps"]),
        stakeholders=set(data["stakeholders"]),
        workers=dict.fromkeys(data["workers"]),
        family=data["family"],
        module=data["module"],
        params=data["params"],
        param_visibilities=data["param_visibilities"],
        resources=data["resources"],
        resources_running=data["resources_running"],
        updated=data["updated"],
        retry=data["retry"],
        remove=data["remove"],
        worker_running=data["worker_running"],
        time_running=data["time_running"],
        expl=data["expl"],
        failures=deque(data["failures"]),
        first_failure_time=data["first_failure_time"],
        lost_runs=data.get("lost_runs", 0),
        scheduler_disable_time=data["scheduler_disable_time"],
        runnable=data["runnable"],
        tracking_url=data["tracking_url"],
        status_message=data["status_message"],
        progress_percentage=data["progress_percentage"],
        accepts_messages=data["accepts_messages"],
        batchable=data["batchable"],
        batch_id=data["batch_id"],
        owners=data["owners"],
    )


def _worker_to_json(worker: WorkerRecord) -> str:
    return json.dumps(
        {
            "id": worker.id,
            "started": worker.started,
            "info": worker.info,
            "disabled": worker.disabled,
            "batchers": {family: [args, size if size != float("inf") else None] for family, (args, size) in worker.batchers.items()},
            "assistant": worker.assistant,
        },
        default=str,
    )


def _worker_from_json(text: str) -> WorkerRecord:
    data = json.loads(text)
    return WorkerRecord(
        id=data["id"],
        started=data["started"],
        last_active=data["started"],
        info=data["info"],
        disabled=data["disabled"],
        batchers={f: (args, float("inf") if size is None else size) for f, (args, size) in data["batchers"].items()},
        assistant=data["assistant"],
    )


def _create_private(path: str) -> None:
    """Create the state file readable by its owner only (it holds parameters and errors).

    SQLite creates its -wal and -shm files with the main file's permissions."""
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class SqliteStore:
    """The scheduler's state in a SQLite file (WAL), written before each answer.

    Each RPC call's changes are one transaction: the rows of the tasks and
    workers it touched (JSON, never pickle) and the scheduler's settings. A
    ``kill -9`` loses nothing that was acknowledged; a restarted scheduler
    reads every row back and rebuilds its indexes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        _create_private(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._create_or_check_schema()
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.chmod(self.path + suffix, 0o600)
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"{self.path} is not a trunkline scheduler state file ({exc}). "
                "Point --state-path at a new file, or move this one away."
            ) from exc

    def _create_or_check_schema(self) -> None:
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            self._db.executescript(
                """
                BEGIN;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE tasks (id TEXT PRIMARY KEY, record TEXT NOT NULL);
                CREATE TABLE workers (id TEXT PRIMARY KEY, record TEXT NOT NULL);
                COMMIT;
                """
            )
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            return
        if "meta" not in tables:
            raise StateFileError(f"{self.path} is a SQLite file, but not a trunkline scheduler state file")
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or int(row[0]) > SCHEMA_VERSION:
            raise StateFileError(
                f"{self.path} was written by a newer trunkline (schema {row[0] if row else '?'}); upgrade trunkline"
            )

    def load_into(self, scheduler: Any) -> None:
        tasks = [_task_from_json(r[0]) for r in self._db.execute("SELECT record FROM tasks")]
        workers = [_worker_from_json(r[0]) for r in self._db.execute("SELECT record FROM workers")]
        scheduler._state.rebuild(tasks, workers)
        for key, value in self._db.execute("SELECT key, value FROM meta WHERE key IN ('paused', 'resources')"):
            if key == "paused":
                scheduler._paused = value == "1"
            elif key == "resources":
                scheduler._resources.update(json.loads(value))

    def save(self, scheduler: Any) -> None:
        state = scheduler._state
        if not (
            state.dirty_tasks or state.dirty_workers or state.deleted_tasks or state.deleted_workers
            or state.resources_changed
        ):
            return
        try:
            self._write(scheduler, self._rows(state, skip=set()))
        except Exception:
            # A row that cannot be written (say, text SQLite cannot encode) must
            # not wedge the store: every later save would fail on it again. Write
            # everything else, drop the rows that cannot be written from the
            # changed sets (they stay in memory, unsaved), and report the failure.
            bad = self._unwritable(state)
            if not bad:
                raise  # not a bad row (disk full, I/O error): the changes stay pending
            self._write(scheduler, self._rows(state, skip=bad))
            self._clear(state)
            raise StoreWriteError(f"could not save {sorted(bad)!r}: the records cannot be written") from None
        self._clear(state)

    @staticmethod
    def _clear(state: Any) -> None:
        state.dirty_tasks.clear()
        state.dirty_workers.clear()
        state.deleted_tasks.clear()
        state.deleted_workers.clear()
        state.resources_changed = False

    @staticmethod
    def _rows(state: Any, skip: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        tasks = [(i, _task_to_json(state.tasks[i])) for i in state.dirty_tasks if i in state.tasks and i not in skip]
        workers = [(i, _worker_to_json(state.workers[i])) for i in state.dirty_workers if i in state.workers and i not in skip]
        return tasks, workers

    @staticmethod
    def _unwritable(state: Any) -> set[str]:
        """Ids among the changed records whose row cannot be encoded."""
        bad: set[str] = set()
        for ids, records, to_json in (
            (state.dirty_tasks, state.tasks, _task_to_json),
            (state.dirty_workers, state.workers, _worker_to_json),
            (state.deleted_tasks, {}, None),
            (state.deleted_workers, {}, None),
        ):
            for record_id in ids:
                try:
                    record_id.encode("utf-8")
                    if to_json is not None and record_id in records:
                        to_json(records[record_id]).encode("utf-8")
                except (UnicodeError, TypeError, ValueError):
                    bad.add(record_id)
        return bad

    def _write(self, scheduler: Any, rows: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        state = scheduler._state
        tasks, workers = rows
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO tasks VALUES (?, ?)", tasks)
            db.executemany("DELETE FROM tasks WHERE id = ?", [(i,) for i in state.deleted_tasks if _encodable(i)])
            db.executemany("INSERT OR REPLACE INTO workers VALUES (?, ?)", workers)
            db.executemany("DELETE FROM workers WHERE id = ?", [(i,) for i in state.deleted_workers if _encodable(i)])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('paused', ?)", ("1" if scheduler._paused else "0",))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('resources', ?)", (json.dumps(scheduler._resources),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()
