"""trunkline.scheduler: the central scheduler (Luigi's ``luigi.scheduler``).

This module is the shell around the pure core in :mod:`trunkline._scheduler`.
Every public method of :class:`Scheduler`

1. reads the clock once, afresh from ``time.time()`` (Luigi-era tests replace
   ``time.time`` itself, so no reference to it is kept), and hands that reading
   to the core as ``State.now``;
2. calls the core, which changes the state and returns effects instead of
   performing them;
3. saves what changed to the store before it answers, then carries the effects
   out: logging, e-mails through ``notifications`` / ``BatchNotifier`` and the
   metrics collector.

The names Luigi's tests patch (``notifications``, ``BatchNotifier``,
``Scheduler.get_work``, ``Scheduler.add_task``) are defined here and looked up
here at call time.
"""

from __future__ import annotations

import collections  # noqa: F401 - Luigi's module exposes it
import functools  # noqa: F401
import hashlib  # noqa: F401
import inspect  # noqa: F401
import itertools  # noqa: F401
import json
import logging
import os  # noqa: F401
import pickle  # noqa: F401 - a module-level name of Luigi's; trunkline never pickles state
import re  # noqa: F401
import sys
import time
import uuid  # noqa: F401
from collections.abc import Callable
from collections.abc import MutableSet as MutableSet  # Luigi's module exposes these names
from typing import Any

from trunkline import configuration, notifications
from trunkline import parameter as parameter
from trunkline import task_history as history  # noqa: F401 - Luigi's module exposes it
from trunkline._scheduler import checks, effects
from trunkline._scheduler import config as _config_module
from trunkline._scheduler import records as _records_module
from trunkline._scheduler import status as _status_module
from trunkline._scheduler import store as _store_module
from trunkline._scheduler.config import scheduler as scheduler
from trunkline._scheduler.core import SchedulerCore
from trunkline._scheduler.luigi_compat import (
    RPC_METHODS as RPC_METHODS,
)
from trunkline._scheduler.luigi_compat import (
    STATUS_TO_UPSTREAM_MAP as STATUS_TO_UPSTREAM_MAP,
)
from trunkline._scheduler.luigi_compat import (
    TASK_FAMILY_RE as TASK_FAMILY_RE,
)
from trunkline._scheduler.luigi_compat import (
    UPSTREAM_SEVERITY_KEY as UPSTREAM_SEVERITY_KEY,
)
from trunkline._scheduler.luigi_compat import (
    UPSTREAM_SEVERITY_ORDER as UPSTREAM_SEVERITY_ORDER,
)
from trunkline._scheduler.luigi_compat import LUIGI_RPC_NAMES
from trunkline._scheduler.luigi_compat import OrderedSet as OrderedSet
from trunkline._scheduler.state import SimpleTaskState as SimpleTaskState
from trunkline._scheduler.luigi_compat import Task as Task
from trunkline._scheduler.luigi_compat import Worker as Worker
from trunkline._scheduler.luigi_compat import _get_default as _get_default
from trunkline._scheduler.luigi_compat import _get_empty_retry_policy as _get_empty_retry_policy
from trunkline._scheduler.luigi_compat import _retry_policy_fields as _retry_policy_fields
from trunkline._scheduler.luigi_compat import rpc_method as rpc_method
from trunkline._scheduler.records import RetryPolicy as RetryPolicy
from trunkline._scheduler.records import TaskRecord, WorkerRecord
from trunkline._scheduler.status import TaskStatus as TaskStatus
from trunkline._scheduler.status import UpstreamStatus as UpstreamStatus
from trunkline._scheduler.status import WorkerState as WorkerState
from trunkline._scheduler.store import MemoryStore as MemoryStore
from trunkline._scheduler.store import SqliteStore as SqliteStore
from trunkline._scheduler.store import StateFileError as StateFileError
from trunkline._scheduler.store import Store as Store
from trunkline.batch_notifier import BatchNotifier as BatchNotifier
from trunkline.metrics import MetricsCollectors as MetricsCollectors
from trunkline.metrics import NoMetricsCollector as _NoMetricsCollector
from trunkline.parameter import ParameterVisibility as ParameterVisibility
from trunkline.task import Config as Config
from trunkline.task_status import BATCH_RUNNING as BATCH_RUNNING
from trunkline.task_status import DISABLED as DISABLED
from trunkline.task_status import DONE as DONE
from trunkline.task_status import FAILED as FAILED
from trunkline.task_status import PENDING as PENDING
from trunkline.task_status import RUNNING as RUNNING
from trunkline.task_status import SUSPENDED as SUSPENDED
from trunkline.task_status import UNKNOWN as UNKNOWN

logger = logging.getLogger("luigi.server")

UPSTREAM_RUNNING = UpstreamStatus.RUNNING.value
UPSTREAM_MISSING_INPUT = UpstreamStatus.MISSING_INPUT.value
UPSTREAM_FAILED = UpstreamStatus.FAILED.value
UPSTREAM_DISABLED = UpstreamStatus.DISABLED.value
WORKER_STATE_ACTIVE = WorkerState.ACTIVE.value
WORKER_STATE_DISABLED = WorkerState.DISABLED.value

# Code written before the core moved to trunkline._scheduler imports these
# submodule paths (``from trunkline.scheduler.status import TaskStatus``).
for _short, _module in (
    ("status", _status_module),
    ("store", _store_module),
    ("config", _config_module),
    ("_records", _records_module),
):
    sys.modules.setdefault(f"{__name__}.{_short}", _module)

_RUNNING_STATES = (TaskStatus.RUNNING, TaskStatus.BATCH_RUNNING)
_FAILED_VALUE = TaskStatus.FAILED.value


class Scheduler(SchedulerCore):
    """One view of the graph for every worker; hands each task to one worker at a time.

    ``clock`` replaces ``time.time()`` (tests); ``store`` keeps the state across
    restarts (the server passes a :class:`SqliteStore`; the default keeps it in
    memory).
    """

    def __init__(
        self,
        config: Any = None,
        resources: dict[str, int] | None = None,
        task_history_impl: Any = None,
        *,
        clock: Callable[[], float] | None = None,
        store: Store | None = None,
        **kwargs: Any,
    ) -> None:
        config = config if config is not None else scheduler(**kwargs)
        if task_history_impl is None and config.record_task_history:
            from trunkline import db_task_history

            task_history_impl = db_task_history.DbTaskHistory()
        super().__init__(
            config,
            dict(resources) if resources is not None else dict(configuration.get_config().getintdict("resources")),
            history=task_history_impl,
        )
        self._clock = clock
        self._task_history = task_history_impl
        self._email_batcher = BatchNotifier() if config.batch_emails else None
        self._state._metrics_collector = MetricsCollectors.get(config.metrics_collector, config.metrics_custom_import)
        self._state.report_status_changes = not _is_no_op_collector(self._state._metrics_collector)
        self._store = store if store is not None else MemoryStore()
        self._begin()
        self._store.load_into(self)

    # -- the shell's two steps around every call ----------------------------------------
    def _begin(self) -> float:
        """Read the clock once for this call and give the reading to the core."""
        clock = self._clock
        # time.time looked up now, not saved: tests replace it (or this module's time).
        now = time.time() if clock is None else clock()
        self._state.now = now
        return now

    def _commit(self) -> None:
        """Save what the call changed, then carry out the effects it produced."""
        self._store.save(self)
        state = self._state
        if state.effects:
            pending, state.effects = state.effects, []
            for effect in pending:
                self._carry_out(effect)

    def _carry_out(self, effect: effects.Effect) -> None:
        if isinstance(effect, effects.WorkerTimedOut):
            logger.info("Worker %s timed out (no contact for >= %ss)", effect.worker_id, effect.delay)
        elif isinstance(effect, effects.TaskDisabled):
            if self._email_batcher is None:
                notifications.send_error_email(
                    f"Luigi Scheduler: DISABLED {effect.task_id} due to excessive failures",
                    f"{effect.task_id} failed {effect.failures} times in the last {effect.window} seconds, "
                    f"so it is being disabled for {self._config.disable_persist} seconds",
                )
        elif isinstance(effect, effects.StatusChanged):
            task = self._state.tasks.get(effect.task_id)
            collector = self._state._metrics_collector
            if task is None:
                return
            if effect.new == DISABLED:
                collector.handle_task_disabled(task, self._config)
            elif effect.new == DONE:
                collector.handle_task_done(task)
            elif effect.new == FAILED:
                collector.handle_task_failed(task)
            elif effect.new == RUNNING:
                collector.handle_task_started(task)

    def _persist(self) -> None:
        self._store.save(self)

    def close(self) -> None:
        self._store.close()

    def load(self) -> None:
        """Luigi's ``load``: read the JSON snapshot at ``_state._state_path`` if one is set
        (the store, if any, already loaded at construction)."""
        self._begin()
        self._state.load()
        self._commit()

    def dump(self) -> None:
        """Luigi's ``dump``: save, write the JSON snapshot if ``_state._state_path`` is
        set, and send the batched e-mails."""
        self._store.save(self)
        self._state.dump()
        if self._email_batcher is not None:
            self._email_batcher.send_email()

    # -- workers ----------------------------------------------------------------------
    def add_worker(self, worker: str, info: Any, **kwargs: Any) -> None:
        self._begin()
        record = self._touch(worker)
        pairs = info.items() if isinstance(info, dict) else info
        for key, value in pairs:
            record.info[key] = value
        self._commit()

    def disable_worker(self, worker: str) -> None:
        self._begin()
        self._disable_worker(self._touch(worker))
        self._commit()

    def set_worker_processes(self, worker: str, n: int) -> None:
        self._begin()
        self._touch(worker).rpc_messages.append({"name": "set_worker_processes", "kwargs": {"n": n}})
        self._commit()

    def ping(self, worker: str | None = None, **kwargs: Any) -> dict[str, Any]:
        self._begin()
        record = self._touch_worker(worker)
        if record is None:
            return {"rpc_messages": []}
        messages, record.rpc_messages = record.rpc_messages, []
        self._commit()
        return {"rpc_messages": messages}

    def _touch(self, worker: Any) -> WorkerRecord:
        if not isinstance(worker, str) or not worker:
            raise ValueError(f"worker must be a non-empty string, got {worker!r}")
        record = self._touch_worker(worker)
        assert record is not None
        return record

    def update_resources(self, **resources: int) -> None:
        self._begin()
        self._resources.update(checks.resource_amounts("resources", resources))
        self._state.resources_changed = True
        self._commit()

    def update_resource(self, resource: str, amount: int) -> bool:
        if not isinstance(resource, str) or type(amount) is not int or not 0 <= amount < 2**63:
            return False
        self._begin()
        self._resources[resource] = amount
        self._state.resources_changed = True
        self._commit()
        return True

    # -- registering tasks ---------------------------------------------------------------
    def add_task(
        self,
        task_id: str | None = None,
        status: str = TaskStatus.PENDING.value,
        runnable: bool | None = True,
        deps: list[str] | None = None,
        new_deps: list[str] | None = None,
        expl: Any = None,
        resources: dict[str, int] | None = None,
        priority: float = 0,
        family: str = "",
        module: str | None = None,
        params: dict[str, Any] | None = None,
        param_visibilities: dict[str, int] | None = None,
        accepts_messages: bool = False,
        assistant: bool = False,
        tracking_url: str | None = None,
        worker: str | None = None,
        batchable: bool | None = None,
        batch_id: str | None = None,
        retry_policy_dict: dict[str, Any] | None = None,
        owners: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Tell the scheduler about a task, or about its new status."""
        self._begin()
        self._add_task(
            task_id, status, runnable, deps, new_deps, expl, resources, priority, family, module,
            params, param_visibilities, accepts_messages, assistant, tracking_url, worker,
            batchable, batch_id, retry_policy_dict, owners,
        )
        if status == _FAILED_VALUE and self._email_batcher is not None:
            self._batch_failure(task_id, worker, expl, owners)
        self._commit()

    def add_tasks(self, worker: str, tasks: list[dict[str, Any]], **kwargs: Any) -> None:
        """trunkline's batched ``add_task``: the same as one call per item."""
        self._begin()
        for item in tasks:
            self._add_task_from(worker, item)
            if item.get("status") == _FAILED_VALUE and self._email_batcher is not None:
                self._batch_failure(item.get("task_id"), worker, item.get("expl"), item.get("owners"))
        self._commit()

    def _unbatched_params(self, task: TaskRecord, worker_id: Any) -> dict[str, Any]:
        record = self._state.workers.get(worker_id) if isinstance(worker_id, str) else None
        batcher = record.batchers.get(task.family) if record is not None else None
        if not batcher:
            return dict(task.params)
        return {k: v for k, v in task.params.items() if k not in batcher[0]}

    def _batch_failure(self, task_id: Any, worker_id: Any, expl: Any, owners: Any) -> None:
        task = self._state.tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or self._email_batcher is None:
            return
        params = self._unbatched_params(task, worker_id)
        try:
            expl_raw = json.loads(expl)
        except (TypeError, ValueError):
            expl_raw = expl
        self._email_batcher.add_failure(task.pretty_id, task.family, params, expl_raw, owners)
        if task.status is TaskStatus.DISABLED:
            self._email_batcher.add_disable(task.pretty_id, task.family, params, owners)

    def add_task_batcher(
        self, worker: str, task_family: str, batched_args: list[str], max_batch_size: float = float("inf")
    ) -> None:
        self._begin()
        self._touch(worker).batchers[task_family] = (list(batched_args), max_batch_size)
        self._commit()

    def announce_scheduling_failure(
        self, task_name: str = "", family: str = "", params: Any = None, expl: Any = None, owners: Any = None,
        **kwargs: Any,
    ) -> None:
        """A worker could not schedule a task (its requires() or complete() raised);
        with ``batch_emails`` it goes into the next batched e-mail, as in Luigi."""
        if self._email_batcher is None:
            return
        worker = kwargs.get("worker")
        record = self._state.workers.get(worker) if isinstance(worker, str) else None
        batcher = record.batchers.get(family) if record is not None else None
        shown = dict(params or {})
        if batcher:
            shown = {k: v for k, v in shown.items() if k not in batcher[0]}
        self._email_batcher.add_scheduling_fail(task_name, family, shown, expl, owners)

    # -- handing out work ---------------------------------------------------------------
    def count_pending(self, worker: str) -> dict[str, Any]:
        self._begin()
        reply = self._counts(self._touch(worker))
        reply["running_tasks"] = self._running_tasks_of(worker)
        self._commit()
        return reply

    def get_work(
        self,
        host: str | None = None,
        assistant: bool = False,
        current_tasks: list[str] | None = None,
        worker: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        self._begin()
        reply = self._get_work(host=host, assistant=assistant, current_tasks=current_tasks, worker=worker)
        self._commit()
        return reply

    def work_cycle(
        self,
        worker: str | None = None,
        host: str | None = None,
        reports: list[dict[str, Any]] | None = None,
        want: int = 1,
        assistant: bool = False,
        current_tasks: list[str] | None = None,
        release: list[str] | None = None,
        follow_on: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """trunkline's one-round-trip cycle: reports in, leases out (see ``_scheduler.leasing``)."""
        self._begin()
        reply = self._work_cycle(worker, host, reports, want, assistant, current_tasks, release, follow_on)
        self._commit()
        return reply

    # -- time passing ---------------------------------------------------------------------
    def prune(self) -> None:
        """Apply whatever is due: disconnects, retries, re-enables, removals."""
        self._begin()
        self._prune()
        if self._email_batcher is not None:
            self._email_batcher.update()
        self._commit()

    # -- actions from people -----------------------------------------------------------------
    def re_enable_task(self, task_id: str) -> dict[str, Any]:
        self._begin()
        task = self._state.tasks.get(task_id)
        if task is None or task.status is not TaskStatus.DISABLED:
            return {}
        self._re_enable(task)
        self._commit()
        return self._serialize_task(task_id)

    def forgive_failures(self, task_id: str | None = None) -> dict[str, Any]:
        self._begin()
        task = self._state.tasks.get(task_id or "")
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status is TaskStatus.FAILED:
            self._state.set_status(task, TaskStatus.PENDING)
            task.clear_failures()
            self._commit()
        return {"task_id": task_id, "status": task.status.value}

    def mark_as_done(self, task_id: str | None = None) -> dict[str, Any]:
        self._begin()
        task = self._state.tasks.get(task_id or "")
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status in (TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.DISABLED):
            self._state.set_status(task, TaskStatus.DONE)
            self._commit()
        return {"task_id": task_id, "status": task.status.value}

    def is_pause_enabled(self) -> dict[str, bool]:
        return {"enabled": bool(self._config.pause_enabled)}

    def is_paused(self) -> dict[str, bool]:
        return {"paused": self._paused}

    def pause(self) -> None:
        if self._config.pause_enabled:
            self._begin()
            self._paused = True
            self._state.resources_changed = True
            self._commit()

    def unpause(self) -> None:
        self._begin()
        self._paused = False
        self._state.resources_changed = True
        self._commit()

    # -- running tasks report ---------------------------------------------------------------------
    def set_task_status_message(self, task_id: str, status_message: str) -> None:
        self._begin()
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.touch(task)
            task.status_message = status_message
            for member in self._batch_members(task):
                self._state.touch(member)
                member.status_message = status_message
            self._commit()  # stored before it is acknowledged

    def get_task_status_message(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "statusMessage": task.status_message if task else ""}

    def set_task_progress_percentage(self, task_id: str, progress_percentage: Any) -> None:
        self._begin()
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.touch(task)
            task.progress_percentage = progress_percentage
            for member in self._batch_members(task):
                self._state.touch(member)
                member.progress_percentage = progress_percentage
            self._commit()

    def get_task_progress_percentage(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "progressPercentage": task.progress_percentage if task else None}

    def decrease_running_task_resources(self, task_id: str, decrease_resources: dict[str, int]) -> None:
        self._begin()
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.decrease_running_resources(task, decrease_resources)
            for member in self._batch_members(task):
                self._state.decrease_running_resources(member, decrease_resources)
            self._commit()

    def get_running_task_resources(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "resources": task.resources_running if task else None}

    def _batch_members(self, task: TaskRecord) -> list[TaskRecord]:
        if task.batch_id is None:
            return []
        ids = self._state.batches.get(task.batch_id, set())
        return [self._state.tasks[i] for i in ids if i in self._state.tasks and i != task.id]

    # -- metrics --------------------------------------------------------------------------------
    def update_metrics_task_started(self, task: Any) -> None:
        self._state._metrics_collector.handle_task_started(task)

    def report_task_statistics(self, task_id: str, statistics: Any) -> None:
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state._metrics_collector.handle_task_statistics(task, statistics)

    @property
    def metrics_collector(self) -> Any:
        """The collector fed by this scheduler (the server's ``/metrics`` handler reads it)."""
        return self._state._metrics_collector

    # -- messages to running tasks -------------------------------------------------------------
    def send_scheduler_message(self, worker: str, task: str, content: Any) -> dict[str, Any]:
        if not self._config.send_messages:
            return {"message_id": None}
        record = self._state.workers.get(worker)
        if record is None:
            return {"message_id": None}
        self._message_seq += 1
        message_id = str(uuid.uuid4())
        record.rpc_messages.append(
            {
                "name": "dispatch_scheduler_message",
                "kwargs": {"task_id": task, "message_id": message_id, "content": content},
            }
        )
        return {"message_id": message_id}

    def add_scheduler_message_response(self, task_id: str, message_id: str, response: Any) -> None:
        task = self._state.tasks.get(task_id)
        if task is not None:
            task.scheduler_message_responses[message_id] = response

    def get_scheduler_message_response(self, task_id: str, message_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        response = task.scheduler_message_responses.pop(message_id, None) if task else None
        return {"response": response}

    def has_task_history(self) -> bool:
        return self._task_history is not None

    @property
    def task_history(self) -> Any:
        """The TaskHistory recording this scheduler's tasks, or None (Luigi's name)."""
        return self._task_history


def _is_no_op_collector(collector: Any) -> bool:
    # The real class, taken at import: a patched NoMetricsCollector counts as listening.
    return type(collector) is _NoMetricsCollector


# RPC_METHODS holds a client function per RPC method, as Luigi's @rpc_method fills it.
for _method_name in LUIGI_RPC_NAMES:
    rpc_method()(getattr(Scheduler, _method_name))

for _cls in (Scheduler, RetryPolicy, scheduler, TaskStatus, UpstreamStatus, WorkerState, MemoryStore):
    _cls.__module__ = __name__

__all__ = [
    "BATCH_RUNNING",
    "BatchNotifier",
    "DISABLED",
    "DONE",
    "FAILED",
    "MemoryStore",
    "MetricsCollectors",
    "PENDING",
    "RUNNING",
    "RetryPolicy",
    "SUSPENDED",
    "Scheduler",
    "SimpleTaskState",
    "SqliteStore",
    "StateFileError",
    "Store",
    "Task",
    "TaskStatus",
    "UNKNOWN",
    "UPSTREAM_DISABLED",
    "UPSTREAM_FAILED",
    "UPSTREAM_MISSING_INPUT",
    "UPSTREAM_RUNNING",
    "UpstreamStatus",
    "WORKER_STATE_ACTIVE",
    "WORKER_STATE_DISABLED",
    "Worker",
    "WorkerState",
    "scheduler",
]

