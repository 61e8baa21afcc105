"""Registering tasks: ``add_task``'s rules, applied to the state.

A worker tells the scheduler about a task (its dependencies, resources,
priority, who may run it) and later about its outcome. The rules here are
Luigi's: a task is created on first mention; a worker cannot override a
status it does not own (only the worker running a task reports on that run);
a DONE task reported PENDING again within ``stable_done_cooldown_secs`` stays
DONE; priorities only go up and flow down to dependencies.
"""

from __future__ import annotations

from typing import Any

from trunkline._scheduler import checks
from trunkline._scheduler.records import RetryPolicy, TaskRecord, WorkerRecord
from trunkline._scheduler.state import State
from trunkline._scheduler.status import TaskStatus

_RUNNING_STATES = (TaskStatus.RUNNING, TaskStatus.BATCH_RUNNING)
# Read once: an Enum member's .value is a Python-level property.
_PENDING_VALUE = TaskStatus.PENDING.value
_RETRY_POLICY_FIELDS = frozenset(RetryPolicy._fields)


class TasksMixin:
    """``add_task`` and its helpers; part of :class:`trunkline._scheduler.core.SchedulerCore`."""

    _state: State
    _config: Any
    _retry_policies: dict[Any, RetryPolicy]
    _done_elsewhere: set[str]

    def _touch_worker(self, worker_id: str | None, **info: Any) -> WorkerRecord | None:
        if worker_id is None:
            return None
        worker: WorkerRecord = self._state.get_or_create_worker(str(worker_id))
        for key, value in info.items():
            if value is not None:
                worker.info[key] = value
        return worker

    def _generate_retry_policy(self, policy: dict[str, Any] | None) -> RetryPolicy:
        """The scheduler's defaults overlaid with a task's own (non-None) values; memoised."""
        if policy and not policy.keys() <= _RETRY_POLICY_FIELDS:
            unknown = sorted(policy.keys() - _RETRY_POLICY_FIELDS)
            raise TypeError(f"retry_policy_dict has unexpected keyword argument(s) {unknown}")
        key = (
            None
            if not policy
            else (policy.get("retry_count"), policy.get("disable_hard_timeout"), policy.get("disable_window"))
        )
        cached = self._retry_policies.get(key)
        if cached is None:
            default = self._state.default_retry_policy()
            cached = default if key is None else RetryPolicy(
                *(value if value is not None else fallback for value, fallback in zip(key, default))
            )
            self._retry_policies[key] = cached
        return cached

    def _add_task_from(self, worker: str, arguments: dict[str, Any]) -> None:
        """``add_task`` with its keyword arguments in a dict, for ``worker``."""
        get = arguments.get
        self._add_task(
            get("task_id"), get("status", _PENDING_VALUE), get("runnable", True),
            get("deps"), get("new_deps"), get("expl"), get("resources"), get("priority", 0),
            get("family", ""), get("module"), get("params"), get("param_visibilities"),
            get("accepts_messages", False), get("assistant", False), get("tracking_url"), worker,
            get("batchable"), get("batch_id"), get("retry_policy_dict"), get("owners"),
        )

    def _add_task(
        self,
        task_id: str | None,
        status_value: str,
        runnable: bool | None,
        deps: list[str] | None,
        new_deps: list[str] | None,
        expl: Any,
        resources: dict[str, int] | None,
        priority: float,
        family: str,
        module: str | None,
        params: dict[str, Any] | None,
        param_visibilities: dict[str, int] | None,
        accepts_messages: bool,
        assistant: bool,
        tracking_url: str | None,
        worker_id: str | None,
        batchable: bool | None,
        batch_id: str | None,
        retry_policy_dict: dict[str, Any] | None,
        owners: list[str] | None,
    ) -> None:
        checks.add_task_arguments(task_id, worker_id, priority, deps, new_deps, resources, params, family)
        assert task_id is not None and worker_id is not None
        # The dict lookup inline (add_task runs twice per task); checks.status explains a miss.
        status = checks.STATUS_BY_VALUE.get(status_value) if type(status_value) is str else None
        if status is None:
            status = checks.status(status_value)
        state = self._state
        worker = state.get_or_create_worker(worker_id)
        existing = state.tasks.get(task_id)
        if worker.disabled and (existing is None or existing.status is not TaskStatus.RUNNING):
            return  # a disabled worker may only report on what it already runs
        task = existing or state.get_or_create_task(task_id, TaskStatus.PENDING, priority)
        if not task.family:
            task.family = family
        if not task.module:
            task.module = module
        if param_visibilities and not task.param_visibilities:
            task.param_visibilities = dict(param_visibilities)
        if params and not task.params:
            task.params = dict(params)
        if batchable is not None:
            task.batchable = bool(batchable)
        if owners:
            task.owners = list(owners)
        if batch_id is not None:
            task.batch_id = batch_id
        if accepts_messages:
            task.accepts_messages = True
        if tracking_url is not None or task.status is not TaskStatus.RUNNING:
            task.tracking_url = tracking_url
            for member in self._batch_mates(task):
                member.tracking_url = tracking_url
        task.remove = None
        if expl is not None:
            task.expl = expl
            for member in self._batch_mates(task):
                member.expl = expl

        not_running = task.status not in _RUNNING_STATES
        started_a_run = status in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.RUNNING)
        on_this_worker = task.worker_running == worker_id
        if not (not_running or on_this_worker) and status is TaskStatus.DONE:
            self._done_elsewhere.add(task.id)
        if not_running or (started_a_run and on_this_worker) or new_deps:
            self._done_elsewhere.discard(task.id)
            cooling_down = (
                status is TaskStatus.PENDING
                and task.status is TaskStatus.DONE
                and existing is not None
                and self._state.now - task.updated < self._config.stable_done_cooldown_secs
            )
            if not cooling_down:
                if status is TaskStatus.RUNNING and task.status is not TaskStatus.RUNNING:
                    state.set_status(task, TaskStatus.RUNNING)
                    task.worker_running = worker_id
                    task.time_running = self._state.now
                    if batch_id is not None:
                        members = state.batches.setdefault(batch_id, set())
                        self._take_batch_resources(task, members)
                        members.add(task.id)
                else:
                    state.set_status(task, status)

        if deps is not None:
            state.set_deps(task, deps, replace=True, priority=priority)
        if new_deps:
            state.set_deps(task, new_deps, replace=False, priority=priority)
        if resources is not None:
            task.resources = dict(resources)
        if not assistant and not worker.disabled:
            state.add_stakeholders(task, worker_id)
        self._update_priority(task, priority)
        task.retry_policy = self._generate_retry_policy(retry_policy_dict)
        if runnable and status is not TaskStatus.FAILED and not worker.disabled:
            task.runnable = True
            state.add_runner(task, worker_id)
        state.touch(task)

    def _take_batch_resources(self, runner: TaskRecord, members: set[str]) -> None:
        """A batch's runner task runs on what its members were given (their resources)."""
        state = self._state
        for member_id in members:
            member = state.tasks.get(member_id)
            if member is not None and member is not runner and member.resources_running:
                state.replace_running_resources(runner, dict(member.resources_running))
                return

    def _batch_mates(self, task: TaskRecord) -> list[TaskRecord]:
        """The other tasks of the batch this task runs in (none if it is not in a running batch)."""
        if task.batch_id is None:
            return []
        ids = self._state.batches.get(task.batch_id, ())
        return [self._state.tasks[i] for i in ids if i != task.id and i in self._state.tasks]

    def _update_priority(self, task: TaskRecord, priority: float, worker: Any = None) -> None:
        """Raise a task's priority to at least ``priority`` and push the result to
        its dependencies, transitively (never lowers; iterative, so any depth works).

        (``worker`` is accepted for callers of Luigi's signature.)"""
        state = self._state
        stack = [task]
        while stack:
            current = stack.pop()
            if type(current.priority) not in (int, float):
                current.priority = 0  # a corrupted priority counts as the default
            if priority > current.priority:
                current.priority = priority
                state.touch(current)
                state.offer_if_ready(current)
            effective = current.priority
            for dep_id in current.deps:
                dep = state.tasks.get(dep_id)
                if dep is not None and effective > dep.priority:
                    priority = max(priority, effective)
                    stack.append(dep)
