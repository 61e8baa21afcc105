"""Luigi's ``luigi.scheduler`` names that trunkline's own scheduler does not need.

Code built on Luigi reaches into ``scheduler._state`` (a ``SimpleTaskState``)
and constructs Luigi's ``Task``/``Worker`` records; the names here keep that
working. :class:`LuigiStateViews` is mixed into trunkline's ``State`` so the
scheduler's ``_state`` answers ``SimpleTaskState``'s methods from trunkline's
records and indexes. ``SimpleTaskState.dump``/``load`` write JSON, never a
pickle: a pickled Luigi state file is read as "no prior state".
"""

from __future__ import annotations

import collections
import functools
import inspect
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, MutableSet
from typing import Any

from trunkline._scheduler.records import RetryPolicy
from trunkline._scheduler.status import STATUS_TO_UPSTREAM, UPSTREAM_SEVERITY, TaskStatus, WorkerState

logger = logging.getLogger("luigi.server")

UPSTREAM_SEVERITY_ORDER = tuple(status.value for status in UPSTREAM_SEVERITY)
UPSTREAM_SEVERITY_KEY = UPSTREAM_SEVERITY_ORDER.index
STATUS_TO_UPSTREAM_MAP = {status.value: upstream.value for status, upstream in STATUS_TO_UPSTREAM.items()}
# The family part of a task id: what precedes its first "(" or "_".
TASK_FAMILY_RE = re.compile(r"([^(_]+)[(_]")
# Luigi fills this from its @rpc_method decorator; trunkline's wire table is
# trunkline._protocol, so it stays as empty as the decorator leaves it.
RPC_METHODS: dict[str, Callable[..., Any]] = {}
_retry_policy_fields = list(RetryPolicy._fields)
# The scheduler methods Luigi's @rpc_method marks (trunkline's shell registers them).
LUIGI_RPC_NAMES = (
    "add_scheduler_message_response", "add_task", "add_task_batcher", "add_worker",
    "announce_scheduling_failure", "count_pending", "decrease_running_task_resources", "dep_graph",
    "disable_worker", "fetch_error", "forgive_failures", "get_running_task_resources",
    "get_scheduler_message_response", "get_task_progress_percentage", "get_task_status_message",
    "get_work", "graph", "has_task_history", "inverse_dep_graph", "is_pause_enabled", "is_paused",
    "mark_as_done", "pause", "ping", "prune", "re_enable_task", "report_task_statistics",
    "resource_list", "send_scheduler_message", "set_task_progress_percentage",
    "set_task_status_message", "set_worker_processes", "task_list", "task_search", "unpause",
    "update_metrics_task_started", "update_resource", "update_resources", "worker_list",
)


def _get_empty_retry_policy() -> RetryPolicy:
    return RetryPolicy(*[None] * len(_retry_policy_fields))


def _get_default(x: Any, default: Any) -> Any:
    return default if x is None else x


def rpc_method(**request_args: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Luigi's decorator that records a scheduler method as callable over RPC.

    Records a client-side function in :data:`RPC_METHODS` (it sends the call
    through the client's ``_request``) and returns the method unchanged."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        spec = inspect.getfullargspec(fn)
        names = spec.args[1:]
        defaults = dict(zip(reversed(names), reversed(spec.defaults or ())))

        @functools.wraps(fn)
        def remote(client: Any, *args: Any, **kwargs: Any) -> Any:
            arguments = {**defaults, **dict(zip(names, args)), **kwargs}
            missing = [name for name in names if name not in arguments]
            if missing:
                raise TypeError(f"{fn.__name__} is missing argument(s) {missing}")
            return client._request(f"/api/{fn.__name__}", arguments, **request_args)

        RPC_METHODS[fn.__name__] = remote
        return fn

    return decorate


class OrderedSet(MutableSet[Any]):
    """A set that remembers insertion order (Luigi's helper, on a dict)."""

    def __init__(self, iterable: Iterable[Any] | None = None) -> None:
        self._items: dict[Any, None] = dict.fromkeys(iterable or ())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[Any]:
        return iter(list(self._items)[::-1])

    def add(self, key: Any) -> None:
        self._items[key] = None

    def discard(self, key: Any) -> None:
        self._items.pop(key, None)

    def peek(self, last: bool = True) -> Any:
        if not self._items:
            raise KeyError("set is empty")
        return next(reversed(self._items)) if last else next(iter(self._items))

    def pop(self, last: bool = True) -> Any:
        key = self.peek(last)
        self.discard(key)
        return key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._items)!r})" if self._items else f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OrderedSet):
            return list(self) == list(other)
        return set(self) == other if isinstance(other, (set, frozenset)) else NotImplemented


class Task:
    """Luigi's in-memory task record, for code that builds one directly.

    trunkline's scheduler keeps its own records (``TaskRecord``) with the same
    attribute names; this class exists for callers of Luigi's constructor."""

    def __init__(
        self,
        task_id: str,
        status: str,
        deps: Iterable[str] | None,
        resources: dict[str, int] | None = None,
        priority: float = 0,
        family: str = "",
        module: str | None = None,
        params: dict[str, Any] | None = None,
        param_visibilities: dict[str, Any] | None = None,
        accepts_messages: bool = False,
        tracking_url: str | None = None,
        status_message: str | None = None,
        progress_percentage: Any = None,
        retry_policy: Any = "notoptional",
    ) -> None:
        self.id = task_id
        self.stakeholders: set[str] = set()
        self.workers: OrderedSet = OrderedSet()
        self.deps = set(deps) if deps is not None else set()
        self.status = status
        self.time = time.time()
        self.updated = self.time
        self.retry: float | None = None
        self.remove: float | None = None
        self.worker_running: str | None = None
        self.time_running: float | None = None
        self.expl: Any = None
        self.priority = priority
        self.resources = resources or {}
        self.resources_running: dict[str, int] | None = None
        self.family = family
        self.module = module
        self.param_visibilities = param_visibilities or {}
        self.params: dict[str, Any] = {}
        self.public_params: dict[str, Any] = {}
        self.hidden_params: dict[str, Any] = {}
        self.set_params(params or {})
        self.accepts_messages = accepts_messages
        self.retry_policy = retry_policy
        self.failures: collections.deque[float] = collections.deque()
        self.first_failure_time: float | None = None
        self.tracking_url = tracking_url
        self.status_message = status_message
        self.progress_percentage = progress_percentage
        self.scheduler_message_responses: dict[str, Any] = {}
        self.scheduler_disable_time: float | None = None
        self.runnable = False
        self.batchable = False
        self.batch_id: str | None = None

    def __repr__(self) -> str:
        return f"Task({self.__dict__!r})"

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = dict(params)
        self.public_params = {k: v for k, v in params.items() if self.param_visibilities.get(k, 0) == 0}
        self.hidden_params = {k: v for k, v in params.items() if self.param_visibilities.get(k, 0) == 1}

    def is_batchable(self) -> bool:
        return self.batchable

    def add_failure(self) -> None:
        now = time.time()
        if self.first_failure_time is None:
            self.first_failure_time = now
        self.failures.append(now)

    def num_failures(self) -> int:
        window = self.retry_policy.disable_window
        horizon = time.time() - window
        while self.failures and self.failures[0] < horizon:
            self.failures.popleft()
        return len(self.failures)

    def has_excessive_failures(self) -> bool:
        if self.first_failure_time is not None and time.time() >= (
            self.first_failure_time + self.retry_policy.disable_hard_timeout
        ):
            return True
        return bool(self.num_failures() >= self.retry_policy.retry_count)

    def clear_failures(self) -> None:
        self.failures.clear()
        self.first_failure_time = None

    @property
    def pretty_id(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.public_params.items()))
        return f"{self.family}({shown})"


class Worker:
    """Luigi's in-memory worker record, for code that builds one directly."""

    def __init__(self, worker_id: Any, last_active: float | None = None) -> None:
        self.id = worker_id
        self.reference: Any = None
        self.last_active = last_active or time.time()
        self.last_get_work: float | None = None
        self.started = time.time()
        self.tasks: set[Any] = set()
        self.info: dict[str, Any] = {}
        self.disabled = False
        self.rpc_messages: list[dict[str, Any]] = []

    def add_info(self, info: dict[str, Any]) -> None:
        self.info.update(info)

    def update(self, worker_reference: Any, get_work: bool = False) -> None:
        if worker_reference:
            self.reference = worker_reference
        self.last_active = time.time()
        if get_work:
            self.last_get_work = self.last_active

    def prune(self, config: Any) -> bool:
        """Whether the worker has been silent for longer than the disconnect delay."""
        return bool(self.last_active + config.worker_disconnect_delay < time.time())

    def get_tasks(self, state: Any, *statuses: str) -> Iterable[Any]:
        return [task for task in self.tasks if not statuses or task.status in statuses]

    def is_trivial_worker(self, state: Any) -> bool:
        return not self.assistant and all(not task.resources for task in self.get_tasks(state, "PENDING"))

    @property
    def assistant(self) -> bool:
        return bool(self.info.get("assistant", False))

    @property
    def enabled(self) -> bool:
        return not self.disabled

    @property
    def state(self) -> str:
        return WorkerState.ACTIVE.value if self.enabled else WorkerState.DISABLED.value

    def add_rpc_message(self, name: str, **kwargs: Any) -> None:
        self.rpc_messages.append({"name": name, "kwargs": kwargs})

    def fetch_rpc_messages(self) -> list[dict[str, Any]]:
        messages, self.rpc_messages = self.rpc_messages, []
        return messages

    def __str__(self) -> str:
        return str(self.id)


class LuigiStateViews:
    """``SimpleTaskState``'s methods, answered from trunkline's state (mixed into ``State``)."""

    tasks: dict[str, Any]
    workers: dict[str, Any]
    by_status: dict[TaskStatus, set[str]]
    batches: dict[str, set[str]]
    _state_path: str | None = None

    def get_or_create_worker(self, worker_id: str) -> Any:
        raise NotImplementedError  # State

    def get_active_tasks(self) -> Iterable[Any]:
        return self.tasks.values()

    def get_active_tasks_by_status(self, *statuses: str) -> Iterator[Any]:
        for status in statuses:
            for task_id in list(self.by_status[TaskStatus(status)]):
                yield self.tasks[task_id]

    def get_active_task_count_for_status(self, status: str | None) -> int:
        return len(self.by_status[TaskStatus(status)]) if status else len(self.tasks)

    def get_batch_running_tasks(self, batch_id: str) -> list[Any]:
        return [self.tasks[i] for i in self.batches.get(batch_id, ()) if i in self.tasks]

    def get_batcher(self, worker_id: str, family: str) -> tuple[Any, Any]:
        worker = self.workers.get(worker_id)
        found = worker.batchers.get(family) if worker is not None else None
        return found if found is not None else (None, 1)

    def set_batcher(self, worker_id: str, family: str, batcher_args: list[str], max_batch_size: Any) -> None:
        self.get_or_create_worker(worker_id).batchers[family] = (list(batcher_args), max_batch_size)

    def num_pending_tasks(self) -> int:
        return len(self.by_status[TaskStatus.PENDING]) + len(self.by_status[TaskStatus.RUNNING])

    def get_task(self, task_id: str, default: Any = None, setdefault: Any = None) -> Any:
        return self.tasks.get(task_id, default)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.tasks

    def get_active_workers(self, last_active_lt: float | None = None, last_get_work_gt: float | None = None) -> Iterator[Any]:
        for worker in list(self.workers.values()):
            if last_active_lt is not None and worker.last_active >= last_active_lt:
                continue
            yield worker

    def get_assistants(self, last_active_lt: float | None = None) -> list[Any]:
        return [w for w in self.get_active_workers(last_active_lt) if w.assistant]

    def get_worker_ids(self) -> list[str]:
        return list(self.workers)

    def get_worker(self, worker_id: str) -> Any:
        return self.workers.get(worker_id) or self.get_or_create_worker(worker_id)

    def get_state(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        batchers = {w.id: dict(w.batchers) for w in self.workers.values() if w.batchers}
        return self.tasks, self.workers, batchers

    def dump(self) -> None:
        """Write every task and worker to ``_state_path`` as JSON (trunkline never pickles)."""
        if not self._state_path:
            return
        from trunkline._scheduler.store import write_snapshot

        try:
            write_snapshot(self._state_path, self)
        except OSError:
            logger.warning("Failed saving scheduler state to %s", self._state_path, exc_info=True)

    def load(self) -> None:
        """Read what :meth:`dump` wrote; anything else (a pickle, junk) starts empty."""
        if not self._state_path or not os.path.exists(self._state_path):
            return
        from trunkline._scheduler.store import read_snapshot

        found = read_snapshot(self._state_path)
        if found is None:
            logger.warning("%s is not a trunkline state snapshot; starting from empty state", self._state_path)
            return
        self.rebuild(*found)

    def rebuild(self, tasks: Iterable[Any], workers: Iterable[Any]) -> None:
        raise NotImplementedError  # State
