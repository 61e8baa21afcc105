"""Handing out work: Luigi's ``get_work``, answered from indexes.

Design
------
Each worker has a heap of its ready tasks (PENDING, every dependency DONE),
ordered by (-priority, time first heard of); assistants share one heap of all
ready tasks. ``get_work`` pops entries until one is current and fits the free
resources; entries that went stale (the task moved on) are dropped, and those
that do not fit yet are pushed back. So the cost of a call is O(log n) per
entry looked at, never a scan of every task, which is what keeps ``get_work``
flat as the graph grows (Luigi sorts every PENDING and RUNNING task per call).

A batch (Luigi's ``batchable`` tasks of a family with a registered batcher) is
built from the same worker's heap: the best ready task plus ready tasks of its
family whose non-batched parameters match, up to ``max_batch_size``.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any

from trunkline._scheduler.records import TaskRecord, WorkerRecord
from trunkline._scheduler.state import State
from trunkline._scheduler.status import TaskStatus, WorkerState

_ACTIVE_WORKER, _DISABLED_WORKER = WorkerState.ACTIVE.value, WorkerState.DISABLED.value


def _processes(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


class WorkMixin:
    """``get_work`` and its helpers; part of :class:`trunkline._scheduler.core.SchedulerCore`."""

    _state: State
    _config: Any
    _resources: dict[str, int]
    _paused: bool

    def _prune(self, requeue_lost: bool = False) -> None:
        raise NotImplementedError  # DeadlinesMixin

    def _prune_if_due(self, requeue_lost: bool = False) -> None:
        raise NotImplementedError  # DeadlinesMixin

    def _counts(self, worker: WorkerRecord) -> dict[str, Any]:
        n_pending, n_unique, n_last = worker.n_pending, worker.n_unique_pending, worker.n_pending_last_scheduled
        if self._state.disabled_ids and n_pending:
            # Tasks below a DISABLED task cannot run until someone re-enables it:
            # they do not count, so keep-alive workers may leave (Luigi's rule).
            for task in self._blocked_by_disabled():
                if worker.id in task.workers:
                    n_pending -= 1
                    n_unique -= len(task.workers) == 1
                    n_last -= next(reversed(task.workers)) == worker.id
        return {
            "n_pending_tasks": n_pending,
            "n_unique_pending": n_unique,
            "n_pending_last_scheduled": n_last,
            "running_tasks": [],
            "worker_state": _DISABLED_WORKER if worker.disabled else _ACTIVE_WORKER,
        }

    def _blocked_by_disabled(self) -> list[TaskRecord]:
        """PENDING tasks with a DISABLED task above them through PENDING tasks.

        Walks down from the DISABLED tasks only (rare), never the whole graph."""
        state = self._state
        seen: set[str] = set()
        blocked: list[TaskRecord] = []
        stack = list(state.by_status[TaskStatus.DISABLED])
        while stack:
            task = state.tasks.get(stack.pop())
            if task is None:
                continue
            for dependent_id in task.dependents:
                dependent = state.tasks.get(dependent_id)
                if dependent_id in seen or dependent is None or dependent.status is not TaskStatus.PENDING:
                    continue
                seen.add(dependent_id)
                blocked.append(dependent)
                stack.append(dependent_id)
        return blocked

    def _running_tasks_of(self, worker_id: str) -> list[dict[str, Any]]:
        """Running tasks this worker registered (Luigi's ``count_pending`` lists them)."""
        state = self._state
        result = []
        for task_id in state.running:
            task = state.tasks[task_id]
            if worker_id not in task.workers:
                continue
            other = state.workers.get(task.worker_running or "")
            if other is not None:
                result.append({"task_id": task.id, "worker": other.id, **other.info})
        return result

    def _disable_worker(self, worker: WorkerRecord) -> None:
        """A disabled worker gets no more work: it no longer counts as a runner of its tasks."""
        worker.disabled = True
        for task_id in list(worker.tasks):
            task = self._state.tasks.get(task_id)
            if task is not None:
                self._state.remove_runner(task, worker.id)
        worker.tasks.clear()

    def _fits(self, task: TaskRecord, also_taken: dict[str, int] | None = None) -> bool:
        if not task.resources:
            return True
        used = self._state.used_resources
        extra = also_taken or {}
        return all(
            used.get(name, 0) + extra.get(name, 0) + amount <= self._resources.get(name, 1)
            for name, amount in task.resources.items()
        )

    def _get_work(
        self,
        host: str | None = None,
        assistant: bool = False,
        current_tasks: list[str] | None = None,
        worker: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if not isinstance(worker, str) or not worker:
            raise ValueError(f"get_work needs worker as a non-empty string, got {worker!r}")
        record = self._state.get_or_create_worker(worker)
        record.last_get_work = self._state.now
        # Deadlines apply at every call, whatever their length (after the caller
        # counts as alive); a full prune only when configured, as in Luigi.
        if self._config.prune_on_get_work:
            self._prune(requeue_lost=True)
        else:
            self._prune_if_due(requeue_lost=True)
        if host is not None:
            record.info["host"] = host
        if assistant:
            record.assistant = True
        reply = self._counts(record)
        reply["task_id"] = None
        if record.disabled:
            return reply
        reply["running_tasks"] = self._running_tasks_for(record.id, assistant)
        if current_tasks is not None and self._state.running:
            self._reset_orphaned_batch_running_tasks(record.id)
        best = self._task_running_here_but_forgotten(record.id, current_tasks)
        if best is None and not self._paused:
            best = self._pop_best(record.id, assistant)
        if best is None:
            return reply
        if best.status is TaskStatus.PENDING:
            batch = self._batch_for(record, best, assistant)
            if len(batch) > 1:
                return self._hand_out_batch(record, batch, reply)
            self._state.set_status(best, TaskStatus.RUNNING)
            best.worker_running = record.id
            best.time_running = self._state.now
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
        forgotten = [
            task
            for task in (self._state.tasks[task_id] for task_id in self._state.running)
            if task.worker_running == worker_id and task.id not in known and task.status is TaskStatus.RUNNING
        ]
        # the best of them first, as it was handed out (Luigi's order)
        return min(forgotten, key=lambda t: (-t.priority, t.time, t.id), default=None)

    def _reset_orphaned_batch_running_tasks(self, worker_id: str) -> None:
        """Batch members this worker holds whose batch has no running runner go
        back to PENDING (the worker lost the batch, e.g. to a restart)."""
        state = self._state
        mine = [state.tasks[i] for i in state.running if state.tasks[i].worker_running == worker_id]
        live_batches = {t.batch_id for t in mine if t.status is TaskStatus.RUNNING}
        for task in mine:
            if task.status is TaskStatus.BATCH_RUNNING and task.batch_id not in live_batches:
                state.set_status(task, TaskStatus.PENDING)

    def _pop_best(self, worker_id: str, assistant: bool) -> TaskRecord | None:
        """The best ready task for this worker that fits the free resources, taken
        off its heap; None if there is none.

        With ready tasks that need resources about (``ready_with_resources``),
        Luigi's greedy reservation applies: walking ready tasks best first, one
        this worker cannot take (not its own, or it does not fit yet) reserves its
        resources for a live worker with a free process that can run it, so a
        lower-priority task does not take what a better one waits for. Only the
        tasks ranked ahead of the one handed out are looked at.
        """
        state = self._state
        heap = state.ready_for_assistants if assistant else state.ready.get(worker_id)
        if not heap:
            return None
        if self._top_current(state.ready_with_resources, None) is None:
            return self._pop_first_fitting(heap, worker_id, assistant)
        return self._pop_with_reservations(heap, worker_id, assistant)

    def _pop_first_fitting(self, heap: list[Any], worker_id: str, assistant: bool) -> TaskRecord | None:
        state = self._state
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

    def _top_current(self, heap: list[Any], worker_id: str | None) -> Any:
        """The best entry of ``heap`` that is still current (stale ones are dropped)."""
        while heap:
            if self._state.entry_is_current(heap[0], worker_id) is not None:
                return heap[0]
            heapq.heappop(heap)
        return None

    def _pop_with_reservations(self, heap: list[Any], worker_id: str, assistant: bool) -> TaskRecord | None:
        state = self._state
        shared = state.ready_with_resources
        now = state.now
        horizon = now - self._config.worker_disconnect_delay
        # Free processes of workers that asked for work lately (Luigi's "greedy workers").
        slots = {
            w.id: _processes(w.info.get("workers", 1))
            for w in state.workers.values()
            if w.last_get_work is not None and w.last_get_work > horizon
        }
        running = sorted(
            (((-t.priority, t.time), t) for t in (state.tasks[i] for i in state.running)), key=lambda pair: pair[0]
        )
        next_running = 0
        reserved: dict[str, int] = {}
        popped: list[tuple[list[Any], Any]] = []
        seen: set[str] = set()
        best = None
        own_filter = None if assistant else worker_id
        while True:
            own = self._top_current(heap, own_filter)
            other = self._top_current(shared, None)
            if own is None and other is None:
                break
            source, entry = (heap, own) if other is None or (own is not None and own < other) else (shared, other)
            popped.append((source, heapq.heappop(source)))
            task = state.tasks[entry[3]]
            if task.id in seen:
                continue
            seen.add(task.id)
            # Running tasks ranked ahead of this one hold their resources and a process.
            while next_running < len(running) and running[next_running][0] < (entry[0], entry[1]):
                holder = running[next_running][1]
                next_running += 1
                if holder.worker_running in slots:
                    slots[holder.worker_running] -= 1
                    for name, amount in (holder.resources_running or {}).items():
                        reserved[name] = reserved.get(name, 0) + amount
            if not self._fits_in(task, reserved):
                continue
            mine = (assistant and task.runnable) or worker_id in task.workers
            if mine and self._fits(task):
                best = task
                popped.pop()  # handed out: its entry stays off the heap
                break
            for candidate in [*task.workers, worker_id] if assistant else task.workers:
                if slots.get(candidate, 0) > 0:
                    slots[candidate] -= 1
                    for name, amount in task.resources.items():
                        reserved[name] = reserved.get(name, 0) + amount
                    break
        for source, entry in popped:
            heapq.heappush(source, entry)
        return best

    def _fits_in(self, task: TaskRecord, taken: dict[str, int]) -> bool:
        """Whether the task's resources fit beside ``taken`` (Luigi's ``_has_resources``)."""
        return all(
            taken.get(name, 0) + amount <= self._resources.get(name, 1) for name, amount in task.resources.items()
        )

    def _batch_for(self, worker: WorkerRecord, best: TaskRecord, assistant: bool = False) -> list[TaskRecord]:
        """``best`` and the ready tasks that may run in one batch with it, best first."""
        batcher = worker.batchers.get(best.family)
        if batcher is None or not best.batchable:
            return [best]
        batched_args, max_size = batcher
        key = {k: v for k, v in best.params.items() if k not in batched_args}
        heap = self._state.ready_for_assistants if assistant else self._state.ready.get(worker.id, [])
        found: dict[str, tuple[Any, TaskRecord]] = {}
        for entry in heap:
            task = self._state.entry_is_current(entry, None if assistant else worker.id)
            if task is None or task is best or task.family != best.family or not task.batchable:
                continue
            same_rest = {k: v for k, v in task.params.items() if k not in batched_args} == key
            if same_rest and task.resources == best.resources and (task.id not in found or entry < found[task.id][0]):
                found[task.id] = (entry, task)
        ranked = [task for _, task in sorted(found.values(), key=lambda pair: pair[0])]
        room = max_size - 1 if max_size != float("inf") else len(ranked)
        return [best, *ranked[: int(room)]]

    def _hand_out_batch(
        self, worker: WorkerRecord, batch: list[TaskRecord], reply: dict[str, Any]
    ) -> dict[str, Any]:
        batched_args = worker.batchers[batch[0].family][0]
        ids = [task.id for task in batch]
        batch_id = hashlib.md5("|".join(ids).encode("utf-8"), usedforsecurity=False).hexdigest()
        params = dict(batch[0].params)
        for name in batched_args:
            params[name] = [task.params.get(name) for task in batch]
        now = self._state.now
        for task in batch:
            self._state.set_status(task, TaskStatus.BATCH_RUNNING)
            task.worker_running = worker.id
            task.time_running = now
            task.batch_id = batch_id
        self._state.batches[batch_id] = set(ids)
        reply.update(
            task_id=None,
            task_family=batch[0].family,
            task_module=batch[0].module,
            task_params=params,
            batch_id=batch_id,
            batch_task_ids=ids,
        )
        return reply
