"""The Scheduler: Luigi's RPC methods over the state in :mod:`._state`.

Every public method takes plain data and returns plain JSON-able data, so the
same object serves the in-process worker and the HTTP service. Time comes only
from the clock given at construction; changes reach the store (if any) before
a method returns.
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import logging
import time
from collections.abc import Callable
from typing import Any

from trunkline.configuration import get_config
from trunkline.scheduler._leasing import MAX_SHARERS, check_work_cycle_arguments, share
from trunkline.scheduler._queries import QueriesMixin
from trunkline.scheduler._records import RetryPolicy, TaskRecord, WorkerRecord
from trunkline.scheduler._state import State
from trunkline.scheduler.config import scheduler as scheduler_config
from trunkline.scheduler.status import TaskStatus, WorkerState
from trunkline.scheduler.store import MemoryStore, Store

logger = logging.getLogger("luigi.server")

_RUNNING_STATES = (TaskStatus.RUNNING, TaskStatus.BATCH_RUNNING)


_STATUS_BY_VALUE: dict[Any, TaskStatus] = {status.value: status for status in TaskStatus}
# Read once: an Enum member's .value is a Python-level property.
_PENDING_VALUE = TaskStatus.PENDING.value
_ACTIVE_WORKER, _DISABLED_WORKER = WorkerState.ACTIVE.value, WorkerState.DISABLED.value


def _status(value: Any) -> TaskStatus:
    try:
        return _STATUS_BY_VALUE[value]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown task status {value!r}; expected one of {[s.value for s in TaskStatus]}"
        ) from None


_STR_TYPES = frozenset({str})


def _all_str(values: list[Any]) -> bool:
    # set(map(type, ...)) runs in C: ids are checked at no per-item Python cost
    # (the generator only runs for str subclasses, or to find what is wrong).
    return not values or set(map(type, values)) <= _STR_TYPES or all(isinstance(v, str) for v in values)


def _check_add_task_arguments(
    task_id: Any, worker_id: Any, priority: Any, deps: Any, new_deps: Any, resources: Any, params: Any
) -> None:
    """Reject malformed arguments before anything changes (they may come off the wire)."""
    if not isinstance(task_id, str) or not task_id:
        raise ValueError(f"add_task needs task_id as a non-empty string, got {task_id!r}")
    if not isinstance(worker_id, str) or not worker_id:
        raise ValueError(f"add_task needs worker as a non-empty string, got {worker_id!r}")
    # (a plain int, the usual priority, passes at the first test; bool is an int but not a priority)
    if type(priority) is not int and (isinstance(priority, bool) or not isinstance(priority, (int, float))):
        raise ValueError(f"priority must be a number, got {priority!r}")
    for name, value in (("deps", deps), ("new_deps", new_deps)):
        if value is not None and (not isinstance(value, list) or not _all_str(value)):
            raise ValueError(f"{name} must be a list of task ids, got {value!r}")
    if resources is not None and (
        not isinstance(resources, dict)
        or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in resources.items())
    ):
        raise ValueError(f"resources must map names to whole numbers, got {resources!r}")
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"params must be an object, got {params!r}")


class Scheduler(QueriesMixin):
    """One view of the graph for every worker; hands each task to one worker at a time."""

    def __init__(
        self,
        config: Any = None,
        resources: dict[str, int] | None = None,
        task_history_impl: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        store: Store | None = None,
        **kwargs: Any,
    ) -> None:
        self._config = config if config is not None else scheduler_config(**kwargs)
        self._clock = clock
        self._state = State(clock, self._config, history=task_history_impl)
        self._resources: dict[str, int] = (
            dict(resources) if resources is not None else dict(get_config().getintdict("resources"))
        )
        self._task_history = task_history_impl
        self._paused = False
        self._message_seq = 0
        self._retry_policies: dict[Any, RetryPolicy] = {}
        # Running tasks another worker found complete (its DONE was not applied:
        # only the running worker reports on a run). Should the running worker
        # vanish, the task is DONE rather than FAILED: its outputs are there. Kept
        # in memory only; a restart forgets them and such a task fails as usual.
        self._done_elsewhere: set[str] = set()
        self._store = store if store is not None else MemoryStore()
        self._store.load_into(self)

    # -- plumbing ------------------------------------------------------------------
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

    def _persist(self) -> None:
        self._store.save(self)

    def close(self) -> None:
        self._store.close()

    # -- workers ----------------------------------------------------------------------
    def add_worker(self, worker: str, info: Any, **kwargs: Any) -> None:
        record = self._touch_worker(worker)
        assert record is not None
        pairs = info.items() if isinstance(info, dict) else info
        for key, value in pairs:
            record.info[key] = value
        self._persist()

    def disable_worker(self, worker: str) -> None:
        record = self._touch_worker(worker)
        assert record is not None
        record.disabled = True
        self._persist()

    def set_worker_processes(self, worker: str, n: int) -> None:
        record = self._touch_worker(worker)
        assert record is not None
        record.rpc_messages.append({"name": "set_worker_processes", "kwargs": {"n": n}})

    def ping(self, worker: str | None = None, **kwargs: Any) -> dict[str, Any]:
        record = self._touch_worker(worker)
        if record is None:
            return {"rpc_messages": []}
        messages, record.rpc_messages = record.rpc_messages, []
        return {"rpc_messages": messages}

    def update_resources(self, **resources: int) -> None:
        self._resources.update({k: int(v) for k, v in resources.items()})
        self._persist()

    def update_resource(self, resource: str, amount: int) -> bool:
        if not isinstance(amount, int) or amount < 0:
            return False
        self._resources[resource] = amount
        self._persist()
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
        self._add_task(
            task_id, status, runnable, deps, new_deps, expl, resources, priority, family, module,
            params, param_visibilities, accepts_messages, assistant, tracking_url, worker,
            batchable, batch_id, retry_policy_dict, owners,
        )
        self._persist()

    def add_tasks(self, worker: str, tasks: list[dict[str, Any]], **kwargs: Any) -> None:
        """trunkline's batched ``add_task``: the same as one call per item."""
        for item in tasks:
            self._add_task_from(worker, item)
        self._persist()

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
        _check_add_task_arguments(task_id, worker_id, priority, deps, new_deps, resources, params)
        assert task_id is not None and worker_id is not None
        status = _status(status_value)
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
        task.remove = None
        if expl is not None:
            task.expl = expl

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
                and self._clock() - task.updated < self._config.stable_done_cooldown_secs
            )
            if not cooling_down:
                if status is TaskStatus.RUNNING and task.status is not TaskStatus.RUNNING:
                    state.set_status(task, TaskStatus.RUNNING)
                    task.worker_running = worker_id
                    task.time_running = self._clock()
                    if batch_id is not None:
                        state.batches.setdefault(batch_id, set()).add(task.id)
                else:
                    state.set_status(task, status)

        if deps is not None:
            state.set_deps(task, deps, replace=True, priority=priority)
        if new_deps:
            state.set_deps(task, new_deps, replace=False, priority=priority)
        if resources is not None:
            task.resources = dict(resources)
        if not assistant:
            state.add_stakeholders(task, worker_id)
        self._update_priority(task, priority)
        task.retry_policy = self._generate_retry_policy(retry_policy_dict)
        if runnable and status is not TaskStatus.FAILED:
            task.runnable = True
            state.add_runner(task, worker_id)
        state.touch(task)

    def _update_priority(self, task: TaskRecord, priority: float) -> None:
        """Raise a task's priority to at least ``priority`` and push the result to
        its dependencies, transitively (never lowers; iterative, so any depth works)."""
        state = self._state
        stack = [task]
        while stack:
            current = stack.pop()
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

    def add_task_batcher(
        self, worker: str, task_family: str, batched_args: list[str], max_batch_size: float = float("inf")
    ) -> None:
        record = self._touch_worker(worker)
        assert record is not None
        record.batchers[task_family] = (list(batched_args), max_batch_size)

    def announce_scheduling_failure(self, **kwargs: Any) -> None:
        """Only feeds batched e-mails in Luigi; accepted and ignored here."""

    # -- handing out work ---------------------------------------------------------------
    def count_pending(self, worker: str) -> dict[str, Any]:
        record = self._touch_worker(worker)
        assert record is not None
        return self._counts(record)

    def _counts(self, worker: WorkerRecord) -> dict[str, Any]:
        return {
            "n_pending_tasks": worker.n_pending,
            "n_unique_pending": worker.n_unique_pending,
            "n_pending_last_scheduled": worker.n_pending_last_scheduled,
            "running_tasks": [],
            "worker_state": _DISABLED_WORKER if worker.disabled else _ACTIVE_WORKER,
        }

    def _fits(self, task: TaskRecord, also_taken: dict[str, int] | None = None) -> bool:
        if not task.resources:
            return True
        used = self._state.used_resources
        extra = also_taken or {}
        return all(
            used.get(name, 0) + extra.get(name, 0) + amount <= self._resources.get(name, 1)
            for name, amount in task.resources.items()
        )

    def get_work(
        self,
        host: str | None = None,
        assistant: bool = False,
        current_tasks: list[str] | None = None,
        worker: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if worker is None:
            raise ValueError("get_work needs a worker")
        if self._config.prune_on_get_work:
            self.prune()
        record = self._state.get_or_create_worker(str(worker))
        if host is not None:
            record.info["host"] = host
        if assistant:
            record.assistant = True
        reply = self._counts(record)
        reply["task_id"] = None
        if record.disabled:
            return reply
        reply["running_tasks"] = self._running_tasks_for(record.id, assistant)
        best = self._task_running_here_but_forgotten(record.id, current_tasks)
        if best is None and not self._paused:
            best = self._pop_best(record.id, assistant)
        if best is None:
            return reply
        if best.status is TaskStatus.PENDING:
            batch = self._batch_for(record, best)
            if len(batch) > 1:
                return self._hand_out_batch(record, batch, reply)
            self._state.set_status(best, TaskStatus.RUNNING)
            best.worker_running = record.id
            best.time_running = self._clock()
        self._persist()
        reply.update(task_id=best.id, task_family=best.family, task_module=best.module, task_params=best.params)
        return reply

    def _running_tasks_for(self, worker_id: str, assistant: bool) -> list[dict[str, Any]]:
        result = []
        for task_id in self._state.running:
            task = self._state.tasks[task_id]
            if not (assistant or worker_id in task.workers):
                continue
            other = self._state.workers.get(task.worker_running or "")
            if other is not None:
                result.append({"task_id": task.id, "worker": other.id, **other.info})
        return result

    def _task_running_here_but_forgotten(
        self, worker_id: str, current_tasks: list[str] | None
    ) -> TaskRecord | None:
        if current_tasks is None:
            return None
        known = set(current_tasks)
        for task_id in self._state.running:
            task: TaskRecord = self._state.tasks[task_id]
            if task.worker_running == worker_id and task_id not in known and task.status is TaskStatus.RUNNING:
                return task
        return None

    def _pop_best(self, worker_id: str, assistant: bool) -> TaskRecord | None:
        state = self._state
        heap = state.ready_for_assistants if assistant else state.ready.get(worker_id)
        if not heap:
            return None
        postponed = []
        best = None
        while heap:
            entry = heapq.heappop(heap)
            task = state.entry_is_current(entry, None if assistant else worker_id)
            if task is None:
                continue
            if not self._fits(task):
                postponed.append(entry)
                continue
            best = task
            break
        for entry in postponed:
            heapq.heappush(heap, entry)
        return best

    def _batch_for(self, worker: WorkerRecord, best: TaskRecord) -> list[TaskRecord]:
        batcher = worker.batchers.get(best.family)
        if batcher is None or not best.batchable:
            return [best]
        batched_args, max_size = batcher
        key = {k: v for k, v in best.params.items() if k not in batched_args}
        batch = [best]
        for entry in list(self._state.ready.get(worker.id, ())):
            if len(batch) >= max_size:
                break
            task = self._state.entry_is_current(entry, worker.id)
            if task is None or task is best or task in batch or task.family != best.family:
                continue
            same_rest = {k: v for k, v in task.params.items() if k not in batched_args} == key
            if same_rest and task.resources == best.resources and task.batchable:
                batch.append(task)
        return batch

    def _hand_out_batch(
        self, worker: WorkerRecord, batch: list[TaskRecord], reply: dict[str, Any]
    ) -> dict[str, Any]:
        batched_args = worker.batchers[batch[0].family][0]
        ids = [task.id for task in batch]
        batch_id = hashlib.md5("|".join(ids).encode("utf-8"), usedforsecurity=False).hexdigest()
        params = dict(batch[0].params)
        for name in batched_args:
            params[name] = [task.params.get(name) for task in batch]
        now = self._clock()
        for task in batch:
            self._state.set_status(task, TaskStatus.BATCH_RUNNING)
            task.worker_running = worker.id
            task.time_running = now
            task.batch_id = batch_id
        self._state.batches[batch_id] = set(ids)
        self._persist()
        reply.update(
            task_id=None,
            task_family=batch[0].family,
            task_module=batch[0].module,
            task_params=params,
            batch_id=batch_id,
            batch_task_ids=ids,
        )
        return reply

    # -- trunkline's work cycle: reports in, leases out (see _leasing) ------------------------
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
        """Apply a worker's reports in order, give back its ``release``d leases, then
        lease it up to ``want`` runnable tasks (each RUNNING for it, as get_work does).

        The answer carries get_work's counts, ``running_tasks`` (filled only when
        nothing is leased), ``tasks`` (the leases, in the order to run them) and
        ``lease_seconds`` (how long an unstarted lease stays the worker's to start).

        With ``follow_on`` (a worker that runs its leases one after another), the
        lease may also hold tasks whose only unfinished dependencies are earlier
        in the same lease; each such entry lists them under ``after``, and the
        worker gives the task back unstarted unless all of them succeeded.
        """
        check_work_cycle_arguments(worker, host, reports, want, assistant, current_tasks, release, follow_on)
        assert worker is not None
        if self._config.prune_on_get_work:
            self.prune()
        record = self._touch_worker(worker, host=host)
        assert record is not None
        for report in reports or ():
            self._add_task_from(worker, report)
        for task_id in release or ():
            self._release(worker, task_id)
        if record.batchers and want > 0:
            # Batches are built per get_work; a batching worker takes one at a time.
            reply = self.get_work(host=host, assistant=assistant, current_tasks=current_tasks, worker=worker)
            reply["tasks"] = [self._lease_entry(self._state.tasks[reply["task_id"]])] if reply["task_id"] else []
            reply["lease_seconds"] = self._lease_seconds()
            self._persist()
            return reply
        if assistant:
            record.assistant = True
        reply = self._counts(record)
        reply["tasks"] = []
        reply["lease_seconds"] = self._lease_seconds()
        if record.disabled:
            self._persist()
            return reply
        leased = self._forgotten_leases(worker, current_tasks)
        limit = min(want, max(1, self._config.lease_max_tasks)) - len(leased)
        if limit > 0 and not self._paused:
            fresh = self._lease(record, assistant, limit)
            if follow_on and not assistant and len(fresh) < limit and self._sharers(record) == 1:
                fresh.extend(self._follow_ons(record, fresh, limit - len(fresh)))
            leased.extend(fresh)
        self._persist()
        if not leased:
            # What runs elsewhere matters to a worker given nothing (its summary
            # names the other workers); with leases it would only add bytes.
            reply["running_tasks"] = self._running_tasks_for(record.id, assistant)
        reply["tasks"] = self._lease_entries(leased)
        return reply

    def _follow_ons(self, record: WorkerRecord, leased: list[TaskRecord], limit: int) -> list[TaskRecord]:
        """The links of chains that start in this lease: dependents waiting on one
        task only, leased here, that are PENDING and the worker's to run. Taken
        breadth first, each after its dependency, and only when no other live
        worker wants work (so nobody idles while one worker queues up what becomes
        ready). A task waiting on several (a fan-in's sink) is left to become
        ready as usual, so other workers still see it pending and stay."""
        state = self._state
        in_lease = {task.id for task in leased}
        queue = collections.deque(leased)
        tentative: dict[str, int] = {}
        taken: list[TaskRecord] = []
        now = self._clock()
        while queue and len(taken) < limit:
            for dependent_id in sorted(queue.popleft().dependents):
                dependent = state.tasks.get(dependent_id)
                if (
                    dependent is None
                    or dependent.id in in_lease
                    or dependent.status is not TaskStatus.PENDING
                    or dependent.unfinished_deps != 1
                    or record.id not in dependent.workers
                    or dependent.batchable
                    or not all(
                        dep_id in in_lease or (dep is not None and dep.status is TaskStatus.DONE)
                        for dep_id in dependent.deps
                        for dep in (state.tasks.get(dep_id),)
                    )
                    or not self._fits(dependent, tentative)
                ):
                    continue
                for name, amount in dependent.resources.items():
                    tentative[name] = tentative.get(name, 0) + amount
                state.set_status(dependent, TaskStatus.RUNNING)
                dependent.worker_running = record.id
                dependent.time_running = now
                in_lease.add(dependent.id)
                taken.append(dependent)
                queue.append(dependent)
                if len(taken) >= limit:
                    break
        return taken

    def _lease_entries(self, leased: list[TaskRecord]) -> list[dict[str, Any]]:
        """The leases in an order that runs dependencies first, each naming under
        ``after`` the leased tasks it needs (empty for a task that is ready)."""
        held = {task.id: task for task in leased}
        emitted: set[str] = set()
        entries: list[dict[str, Any]] = []
        waiting = list(leased)
        while waiting:
            still_waiting = []
            for task in waiting:
                after = sorted(dep_id for dep_id in task.deps if dep_id in held)
                if all(dep_id in emitted for dep_id in after):
                    entries.append({**self._lease_entry(task), "after": after})
                    emitted.add(task.id)
                else:
                    still_waiting.append(task)
            if len(still_waiting) == len(waiting):  # a cycle: hand out the rest as they are
                entries.extend({**self._lease_entry(task), "after": []} for task in still_waiting)
                break
            waiting = still_waiting
        return entries

    def _lease_seconds(self) -> float:
        return float(self._config.worker_disconnect_delay) / 2

    @staticmethod
    def _lease_entry(task: TaskRecord) -> dict[str, Any]:
        return {"task_id": task.id, "task_family": task.family, "task_module": task.module, "task_params": task.params}

    def _release(self, worker_id: str, task_id: str) -> None:
        """A lease the worker will not start goes back to the ready queue."""
        task = self._state.tasks.get(task_id)
        if task is not None and task.status is TaskStatus.RUNNING and task.worker_running == worker_id:
            self._state.set_status(task, TaskStatus.PENDING)

    def _forgotten_leases(self, worker_id: str, current_tasks: list[str] | None) -> list[TaskRecord]:
        """Tasks RUNNING for the worker that it does not hold (e.g. an answer lost
        to a scheduler restart): they are its leases again."""
        if current_tasks is None:
            return []
        held = set(current_tasks)
        found = []
        for task_id in self._state.running:
            task = self._state.tasks[task_id]
            if task.worker_running == worker_id and task.status is TaskStatus.RUNNING and task_id not in held:
                found.append(task)
        return found

    def _sharers(self, record: WorkerRecord) -> int:
        """Live workers that may want the same ready tasks: contacted us within the
        disconnect delay, not disabled, with pending work (the caller counts)."""
        horizon = self._clock() - self._config.worker_disconnect_delay
        count = 1
        for other in self._state.workers.values():
            if other is not record and not other.disabled and other.n_pending > 0 and other.last_active >= horizon:
                count += 1
                if count >= MAX_SHARERS:
                    break
        return count

    def _lease(self, record: WorkerRecord, assistant: bool, limit: int) -> list[TaskRecord]:
        """Take the best ready tasks that fit, keep this worker's share, mark them RUNNING."""
        state = self._state
        heap = state.ready_for_assistants if assistant else state.ready.get(record.id)
        if not heap:
            return []
        sharers = self._sharers(record)
        wanted = limit * sharers
        found: list[tuple[Any, TaskRecord]] = []
        postponed = []
        seen: set[str] = set()
        tentative: dict[str, int] = {}
        while heap and len(found) < wanted:
            entry = heapq.heappop(heap)
            task = state.entry_is_current(entry, None if assistant else record.id)
            if task is None or task.id in seen:
                continue
            seen.add(task.id)
            if not self._fits(task, tentative):
                postponed.append(entry)
                continue
            for name, amount in task.resources.items():
                tentative[name] = tentative.get(name, 0) + amount
            found.append((entry, task))
        keep = share(len(found), sharers, limit)
        for entry, _ in found[keep:]:
            heapq.heappush(heap, entry)
        for entry in postponed:
            heapq.heappush(heap, entry)
        now = self._clock()
        leased = []
        for _, task in found[:keep]:
            state.set_status(task, TaskStatus.RUNNING)
            task.worker_running = record.id
            task.time_running = now
            leased.append(task)
        return leased

    # -- time passing ---------------------------------------------------------------------
    def prune(self) -> None:
        """Apply whatever is due: disconnects, retries, re-enables, removals."""
        state = self._state
        now = self._clock()
        changed = False
        while state.worker_heap and state.worker_heap[0][0] <= now:
            _, worker_id = heapq.heappop(state.worker_heap)
            worker = state.workers.get(worker_id)
            if worker is None:
                continue
            deadline = worker.last_active + self._config.worker_disconnect_delay
            if deadline > now:
                heapq.heappush(state.worker_heap, (deadline, worker_id))
                continue
            logger.info("Worker %s timed out (no contact for >= %ss)", worker_id, self._config.worker_disconnect_delay)
            for task in state.remove_worker(worker_id):
                state.mark_for_removal(task, now + self._config.remove_delay)
            self._fail_tasks_of_dead_worker(worker_id)
            changed = True
        while state.retry_heap and state.retry_heap[0][0] <= now:
            when, task_id = heapq.heappop(state.retry_heap)
            task = state.tasks.get(task_id)
            if task is not None and task.status is TaskStatus.FAILED and task.retry == when and self._config.retry_delay >= 0:
                state.set_status(task, TaskStatus.PENDING)
                changed = True
        while state.reenable_heap and state.reenable_heap[0][0] <= now:
            _, task_id = heapq.heappop(state.reenable_heap)
            task = state.tasks.get(task_id)
            if (
                task is not None
                and task.status is TaskStatus.DISABLED
                and task.scheduler_disable_time is not None
                and now - task.scheduler_disable_time >= self._config.disable_persist
            ):
                self._re_enable(task)
                changed = True
        while state.remove_heap and state.remove_heap[0][0] <= now:
            when, task_id = heapq.heappop(state.remove_heap)
            task = state.tasks.get(task_id)
            if task is not None and task.remove == when and not task.stakeholders and task.status not in _RUNNING_STATES:
                state.remove_task(task)
                changed = True
        if changed:
            self._persist()

    def _fail_tasks_of_dead_worker(self, worker_id: str) -> None:
        state = self._state
        for task_id in list(state.running):
            task = state.tasks[task_id]
            if task.worker_running != worker_id:
                continue
            if task_id in self._done_elsewhere:
                self._done_elsewhere.discard(task_id)
                state.set_status(task, TaskStatus.DONE)
                continue
            task.expl = f"Worker {worker_id} stopped contacting the scheduler while running this task"
            state.set_status(task, TaskStatus.FAILED)

    def _re_enable(self, task: TaskRecord) -> None:
        state = self._state
        state.touch(task)
        state.clear_disable(task)
        state.set_status(task, TaskStatus.FAILED)
        task.clear_failures()

    # -- actions from people -----------------------------------------------------------------
    def re_enable_task(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        if task is None or task.status is not TaskStatus.DISABLED:
            return {}
        self._re_enable(task)
        self._persist()
        return self._serialize_task(task_id)

    def forgive_failures(self, task_id: str | None = None) -> dict[str, Any]:
        task = self._state.tasks.get(task_id or "")
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status is TaskStatus.FAILED:
            self._state.set_status(task, TaskStatus.PENDING)
            task.clear_failures()
            self._persist()
        return {"task_id": task_id, "status": task.status.value}

    def mark_as_done(self, task_id: str | None = None) -> dict[str, Any]:
        task = self._state.tasks.get(task_id or "")
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status in (TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.DISABLED):
            self._state.set_status(task, TaskStatus.DONE)
            self._persist()
        return {"task_id": task_id, "status": task.status.value}

    def is_pause_enabled(self) -> dict[str, bool]:
        return {"enabled": bool(self._config.pause_enabled)}

    def is_paused(self) -> dict[str, bool]:
        return {"paused": self._paused}

    def pause(self) -> None:
        if self._config.pause_enabled:
            self._paused = True
            self._persist()

    def unpause(self) -> None:
        self._paused = False
        self._persist()

    # -- running tasks report ---------------------------------------------------------------------
    def set_task_status_message(self, task_id: str, status_message: str) -> None:
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.touch(task)
            task.status_message = status_message
            for member in self._batch_members(task):
                member.status_message = status_message

    def get_task_status_message(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "statusMessage": task.status_message if task else ""}

    def set_task_progress_percentage(self, task_id: str, progress_percentage: Any) -> None:
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.touch(task)
            task.progress_percentage = progress_percentage
            for member in self._batch_members(task):
                member.progress_percentage = progress_percentage

    def get_task_progress_percentage(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "progressPercentage": task.progress_percentage if task else None}

    def decrease_running_task_resources(self, task_id: str, decrease_resources: dict[str, int]) -> None:
        task = self._state.tasks.get(task_id)
        if task is not None:
            self._state.decrease_running_resources(task, decrease_resources)
            for member in self._batch_members(task):
                self._state.decrease_running_resources(member, decrease_resources)

    def get_running_task_resources(self, task_id: str) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        return {"taskId": task_id, "resources": task.resources_running if task else None}

    def _batch_members(self, task: TaskRecord) -> list[TaskRecord]:
        if task.batch_id is None:
            return []
        ids = self._state.batches.get(task.batch_id, set())
        return [self._state.tasks[i] for i in ids if i in self._state.tasks and i != task.id]

    def update_metrics_task_started(self, task: Any) -> None:
        """Metrics collectors are not wired yet; accepted for Luigi workers."""

    def report_task_statistics(self, task_id: str, statistics: Any) -> None:
        """Statistics are accepted for Luigi compatibility; not kept."""

    # -- messages to running tasks -------------------------------------------------------------
    def send_scheduler_message(self, worker: str, task: str, content: Any) -> dict[str, Any]:
        if not self._config.send_messages:
            return {"message_id": None}
        record = self._state.workers.get(worker)
        if record is None:
            return {"message_id": None}
        self._message_seq += 1
        message_id = f"{self._clock():.6f}-{self._message_seq}"
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
