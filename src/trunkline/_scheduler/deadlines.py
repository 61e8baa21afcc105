"""Time passing: what falls due when the clock moves on.

Deadlines sit in heaps keyed by time (a worker's disconnect, a failed task's
retry, a disabled task's re-enable, an orphaned task's removal), so pruning
costs nothing when nothing is due. ``now`` is the call's clock reading, set on
the state by the shell; exact deadlines hold under a replaced clock.
"""

from __future__ import annotations

import heapq
from typing import Any

from trunkline._scheduler import effects
from trunkline._scheduler.records import TaskRecord
from trunkline._scheduler.state import State
from trunkline._scheduler.status import TaskStatus

_RUNNING_STATES = (TaskStatus.RUNNING, TaskStatus.BATCH_RUNNING)


class DeadlinesMixin:
    """``prune`` and its helpers; part of :class:`trunkline._scheduler.core.SchedulerCore`."""

    _state: State
    _config: Any
    _done_elsewhere: set[str]

    def _prune_if_due(self, requeue_lost: bool = False) -> None:
        """Drop silent workers and requeue lost runs when due: O(1) otherwise,
        so every worker call applies the disconnect delay at once, whatever its
        length. (Retries, re-enables and removals wait for ``prune``, as in Luigi.)"""
        state = self._state
        now = state.now
        if (state.worker_heap and state.worker_heap[0][0] <= now) or (state.lost_heap and state.lost_heap[0][0] <= now):
            self._requeue_lost_runs()
            self._drop_silent_workers(requeue_lost)

    def _prune(self, requeue_lost: bool = False) -> None:
        """Apply whatever is due: retries, disconnects, re-enables, removals.

        Retries come before disconnects so that a run lost to a silent worker
        shows as FAILED until the next call, which puts it back in the queue;
        with ``requeue_lost`` (a worker asking for work) it is back at once."""
        state = self._state
        now = self._state.now
        # Local schedulers prune on every get_work: one look at each heap's head
        # when nothing is due, instead of four calls.
        if not (
            (state.lost_heap and state.lost_heap[0][0] <= now)
            or (state.retry_heap and state.retry_heap[0][0] <= now)
            or (state.worker_heap and state.worker_heap[0][0] <= now)
            or (state.reenable_heap and state.reenable_heap[0][0] <= now)
            or (state.remove_heap and state.remove_heap[0][0] <= now)
        ):
            return
        self._requeue_lost_runs()
        while state.retry_heap and state.retry_heap[0][0] <= now:
            when, task_id = heapq.heappop(state.retry_heap)
            task = state.tasks.get(task_id)
            if task is not None and task.status is TaskStatus.FAILED and task.retry == when and self._config.retry_delay >= 0:
                state.set_status(task, TaskStatus.PENDING)
        self._drop_silent_workers(requeue_lost)
        self._apply_reenables_and_removals()

    def _requeue_lost_runs(self) -> None:
        state = self._state
        while state.lost_heap and state.lost_heap[0][0] <= state.now:
            when, task_id = heapq.heappop(state.lost_heap)
            task = state.tasks.get(task_id)
            if task is not None and task.status is TaskStatus.FAILED and task.retry == when:
                state.set_status(task, TaskStatus.PENDING)

    def _drop_silent_workers(self, requeue_lost: bool) -> None:
        state = self._state
        now = state.now
        while state.worker_heap and state.worker_heap[0][0] <= now:
            _, worker_id = heapq.heappop(state.worker_heap)
            worker = state.workers.get(worker_id)
            if worker is None:
                continue
            deadline = worker.last_active + self._config.worker_disconnect_delay
            if deadline > now:
                heapq.heappush(state.worker_heap, (deadline, worker_id))
                continue
            state.effects.append(effects.WorkerTimedOut(worker_id, self._config.worker_disconnect_delay))
            for task in state.remove_worker(worker_id):
                state.mark_for_removal(task, now + self._config.remove_delay)
            self._fail_tasks_of_dead_worker(worker_id, requeue_lost)

    def _apply_reenables_and_removals(self) -> None:
        state = self._state
        now = state.now
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
        while state.remove_heap and state.remove_heap[0][0] <= now:
            when, task_id = heapq.heappop(state.remove_heap)
            task = state.tasks.get(task_id)
            forced = task_id in state.forced_removals
            if task is not None and task.status not in _RUNNING_STATES and (
                forced or (task.remove == when and not task.stakeholders)
            ):
                state.forced_removals.discard(task_id)
                state.remove_task(task)

    def _fail_tasks_of_dead_worker(self, worker_id: str, requeue: bool = False) -> None:
        state = self._state
        # Batch runners first: their members follow them.
        lost = sorted(
            (state.tasks[i] for i in state.running if state.tasks[i].worker_running == worker_id),
            key=lambda t: t.status is not TaskStatus.RUNNING,
        )
        for task in lost:
            task_id = task.id
            if task.status not in _RUNNING_STATES:
                continue  # a batch member that followed its runner
            if task_id in self._done_elsewhere:
                self._done_elsewhere.discard(task_id)
                state.set_status(task, TaskStatus.DONE)
                continue
            task.expl = f"Worker {worker_id} stopped contacting the scheduler while running this task"
            state.lose_run(task, requeue)

    def _re_enable(self, task: TaskRecord) -> None:
        state = self._state
        state.touch(task)
        state.clear_disable(task)
        state.set_status(task, TaskStatus.FAILED)
        task.clear_failures()
