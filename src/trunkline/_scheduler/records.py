"""What the scheduler knows about one task and one worker."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from trunkline._scheduler.status import TaskStatus


class RetryPolicy(NamedTuple):
    """When a failing task is disabled: after retry_count failures within
    disable_window seconds, or disable_hard_timeout seconds after its first failure."""

    retry_count: Any
    disable_hard_timeout: Any
    disable_window: Any


@dataclass(slots=True, eq=False)
class TaskRecord:
    id: str
    status: TaskStatus
    priority: float
    time: float  # when the scheduler first heard of it
    retry_policy: RetryPolicy
    deps: set[str] = field(default_factory=set)
    # reverse edges: tasks that list this one in their deps
    dependents: set[str] = field(default_factory=set)
    # how many deps are not DONE (unknown deps count as not DONE)
    unfinished_deps: int = 0
    stakeholders: set[str] = field(default_factory=set)
    # workers that may run it; dict for insertion order (the last is "last scheduled")
    workers: dict[str, None] = field(default_factory=dict)
    family: str = ""
    module: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    param_visibilities: dict[str, int] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)
    resources_running: dict[str, int] | None = None
    updated: float = 0.0
    retry: float | None = None
    remove: float | None = None
    worker_running: str | None = None
    time_running: float | None = None
    expl: Any = None
    failures: deque[float] = field(default_factory=deque)
    first_failure_time: float | None = None
    # runs lost in a row to workers that vanished (not failures; see State.lose_run)
    lost_runs: int = 0
    scheduler_disable_time: float | None = None
    runnable: bool = False
    tracking_url: str | None = None
    status_message: str | None = None
    progress_percentage: Any = None
    accepts_messages: bool = False
    batchable: bool = False
    batch_id: str | None = None
    owners: list[str] = field(default_factory=list)
    scheduler_message_responses: dict[str, Any] = field(default_factory=dict)
    # bumped whenever the task's place in a ready queue may change (lazy deletion)
    ready_version: int = 0

    @property
    def public_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if self.param_visibilities.get(k, 0) == 0}

    @property
    def hidden_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if self.param_visibilities.get(k, 0) == 1}

    @property
    def pretty_id(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.public_params.items()))
        return f"{self.family}({shown})"

    def add_failure(self, now: float | None = None, window: float | None = None) -> None:
        # (now and window default to the clock and the task's policy for
        # callers of Luigi's Task.add_failure(); the scheduler always passes them)
        if now is None:
            now = time.time()
        if window is None:
            window = self.retry_policy.disable_window
        if self.first_failure_time is None:
            self.first_failure_time = now
        self.failures.append(now)
        while self.failures and self.failures[0] < now - window:
            self.failures.popleft()

    def num_failures(self, now: float | None = None) -> int:
        """Failures inside the disable window (Luigi's Task.num_failures(), which
        code and tests reading scheduler._state call)."""
        if now is None:
            now = time.time()
        since = now - self.retry_policy.disable_window
        return sum(1 for t in self.failures if t >= since)

    def has_excessive_failures(self, now: float | None = None) -> bool:
        if now is None:
            now = time.time()
        policy = self.retry_policy
        if self.first_failure_time is not None and now >= self.first_failure_time + policy.disable_hard_timeout:
            return True
        return bool(self.num_failures(now) >= policy.retry_count)

    def clear_failures(self) -> None:
        self.failures.clear()
        self.first_failure_time = None


@dataclass(slots=True, eq=False)
class WorkerRecord:
    id: str
    started: float
    last_active: float
    # when it last asked for work (get_work); not stored: a restart forgets it
    last_get_work: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    reference: Any = None
    disabled: bool = False
    # ids of tasks this worker may run (it is in their workers)
    tasks: set[str] = field(default_factory=set)
    rpc_messages: list[dict[str, Any]] = field(default_factory=list)
    # incremental counts for get_work's answer
    n_pending: int = 0
    n_unique_pending: int = 0
    n_pending_last_scheduled: int = 0
    batchers: dict[str, tuple[list[str], float]] = field(default_factory=dict)
    assistant: bool = False

    def __str__(self) -> str:
        return self.id

    # -- Luigi's Worker API, for code that reads scheduler._state --------------------
    @property
    def enabled(self) -> bool:
        return not self.disabled

    @property
    def state(self) -> str:
        return "disabled" if self.disabled else "active"

    def get_tasks(self, state: Any, *statuses: str) -> list[TaskRecord]:
        """This worker's tasks (those it may run), optionally only those in ``statuses``."""
        found = (state.tasks.get(task_id) for task_id in self.tasks)
        return [task for task in found if task is not None and (not statuses or task.status in statuses)]

    def is_trivial_worker(self, state: Any) -> bool:
        """No assistant, and none of its pending tasks needs resources."""
        return not self.assistant and all(not task.resources for task in self.get_tasks(state, "PENDING"))

    def add_info(self, info: dict[str, Any]) -> None:
        self.info.update(info)

    def add_rpc_message(self, name: str, **kwargs: Any) -> None:
        self.rpc_messages.append({"name": name, "kwargs": kwargs})

    def fetch_rpc_messages(self) -> list[dict[str, Any]]:
        messages, self.rpc_messages = self.rpc_messages, []
        return messages
