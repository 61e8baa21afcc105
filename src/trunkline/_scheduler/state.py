"""The scheduler's state and its indexes; every status change goes through here.

Invariants
----------
* ``tasks[id].status`` is the one truth; ``by_status``, ``running``,
  ``used_resources`` and every worker's pending counters are derived from it and
  change only inside :meth:`State.set_status` / :meth:`State.set_workers`.
* ``task.unfinished_deps`` is the number of ids in ``task.deps`` that are not
  DONE (an id with no record counts as not DONE); ``task.dependents`` are the
  reverse edges. A task is *ready* when it is PENDING with no unfinished deps.
* A ready task has an entry in the ready heap of each worker in
  ``task.workers`` and in the assistants' heap. Entries are never removed
  eagerly: a popped entry whose version or conditions no longer hold is
  dropped (lazy deletion). So becoming ready, and picking the best ready task,
  cost O(log n) — never a scan of all tasks, which is what makes Luigi's
  scheduler quadratic over a run.
* Deadlines (a worker's disconnect, a failed task's retry, a disabled task's
  re-enable, an orphaned task's removal) sit in heaps keyed by time, so pruning
  costs nothing when nothing is due.

* Ready tasks that need resources also sit in ``ready_with_resources``, so
  get_work's greedy reservation looks only at those (see ``work``).
* Time: the shell sets ``now`` once per call; nothing here reads a clock.
  What the shell must do afterwards (e-mails, metrics, logging) is appended
  to ``effects``; the changed ids (``dirty_*``) tell the store what to write.

Counting tasks below a DISABLED task out of a worker's pending count walks
down from the DISABLED tasks only when there are any (see ``work._counts``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from typing import Any

from trunkline._scheduler import effects
from trunkline._scheduler.luigi_compat import LuigiStateViews
from trunkline._scheduler.records import RetryPolicy, TaskRecord, WorkerRecord
from trunkline._scheduler.status import TaskStatus
from trunkline.task_history import record_status_change

_PENDING = TaskStatus.PENDING
# Statuses a worker still waits for (Luigi counts FAILED: it will be retried).
_COUNTED_AS_PENDING = (TaskStatus.PENDING, TaskStatus.FAILED)
_RUNNING_STATES = (TaskStatus.RUNNING, TaskStatus.BATCH_RUNNING)

# How long after a lost run the task is back in the queue (seconds).
LOST_RUN_RETRY = 0.001

ReadyEntry = tuple[float, float, int, str, int]  # (-priority, time, seq, task id, version)


class IllegalTransition(Exception):
    """A status change the scheduler refuses (e.g. disabling a running task)."""


class State(LuigiStateViews):
    def __init__(self, config: Any, history: Any = None, now: float = 0.0) -> None:
        # The time of the call being served: the shell reads the clock once per
        # call and sets it here, so the core never reads a clock itself.
        self.now = now
        self.config = config
        # what the shell must do after the call (see effects); drained by the shell
        self.effects: list[effects.Effect] = []
        # whether status changes are reported as effects (only when a metrics
        # collector listens: the hot path pays nothing otherwise)
        self.report_status_changes = False
        # the scheduler's own settings (resources, paused) changed: the store saves them
        self.resources_changed = False
        # Luigi's name for the metrics collector fed by the scheduler (set by the shell)
        self._metrics_collector: Any = None
        # a trunkline.task_history.TaskHistory told of status changes, or None (off: no cost)
        self.history = history
        # the worker whose call is being served: a RUNNING history event records its host
        self.serving_worker: WorkerRecord | None = None
        self.tasks: dict[str, TaskRecord] = {}
        self.workers: dict[str, WorkerRecord] = {}
        self.by_status: dict[TaskStatus, set[str]] = {status: set() for status in TaskStatus}
        self.running: set[str] = set()
        # by_status[DISABLED], kept at hand: an Enum key costs a Python-level hash
        self.disabled_ids = self.by_status[TaskStatus.DISABLED]
        self.used_resources: dict[str, int] = {}
        self.ready: dict[str, list[ReadyEntry]] = {}
        self.ready_for_assistants: list[ReadyEntry] = []
        # ready tasks that need resources (for get_work's greedy reservation)
        self.ready_with_resources: list[ReadyEntry] = []
        self.retry_heap: list[tuple[float, str]] = []
        # lost runs of vanished workers, due back in the queue (see lose_run)
        self.lost_heap: list[tuple[float, str]] = []
        self.reenable_heap: list[tuple[float, str]] = []
        self.remove_heap: list[tuple[float, str]] = []
        self.worker_heap: list[tuple[float, str]] = []
        self.batches: dict[str, set[str]] = {}
        # tasks removed when due even with stakeholders (failed batch runners)
        self.forced_removals: set[str] = set()
        # dependents of ids whose record was removed, restored if the id returns
        self.orphan_dependents: dict[str, set[str]] = {}
        self._seq = itertools.count()
        # worker ids whose stakeholdings must be dropped (index: worker -> task ids)
        self.stakes: dict[str, set[str]] = {}
        # what changed since the store last saved
        self.dirty_tasks: set[str] = set()
        self.dirty_workers: set[str] = set()
        self.deleted_tasks: set[str] = set()
        self.deleted_workers: set[str] = set()

    @property
    def _tasks(self) -> dict[str, TaskRecord]:
        """Luigi's name for the task map. Assigning a new map replaces every task."""
        return self.tasks

    @_tasks.setter
    def _tasks(self, replacement: dict[str, TaskRecord]) -> None:
        for task in list(self.tasks.values()):
            self.remove_task(task)
        self.orphan_dependents.clear()
        if replacement:
            self.rebuild(replacement.values(), [])

    def touch(self, task: TaskRecord) -> None:
        self.dirty_tasks.add(task.id)

    # -- records ---------------------------------------------------------------
    def default_retry_policy(self) -> RetryPolicy:
        c = self.config
        return RetryPolicy(c.retry_count, c.disable_hard_timeout, c.disable_window)

    def get_or_create_task(self, task_id: str, status: TaskStatus, priority: float = 0) -> TaskRecord:
        task = self.tasks.get(task_id)
        if task is not None:
            return task
        now = self.now
        task = TaskRecord(
            id=task_id,
            status=status,
            priority=priority,
            time=now,
            updated=now,
            retry_policy=self.default_retry_policy(),
        )
        self.tasks[task_id] = task
        self.by_status[status].add(task_id)
        self.dirty_tasks.add(task_id)
        self.deleted_tasks.discard(task_id)
        for dependent_id in self.orphan_dependents.pop(task_id, ()):
            dependent = self.tasks.get(dependent_id)
            if dependent is not None and task_id in dependent.deps:
                task.dependents.add(dependent_id)
        if status is TaskStatus.DONE:
            self._dependents_gain_done(task)
        return task

    def get_or_create_worker(self, worker_id: str) -> WorkerRecord:
        worker = self.workers.get(worker_id)
        now = self.now
        self.dirty_workers.add(worker_id)
        self.deleted_workers.discard(worker_id)
        if worker is None:
            worker = WorkerRecord(id=worker_id, started=now, last_active=now)
            self.workers[worker_id] = worker
            self.ready[worker_id] = []
            self.stakes[worker_id] = set()
            heapq.heappush(self.worker_heap, (now + self.config.worker_disconnect_delay, worker_id))
        else:
            if now < worker.last_active:  # a clock set back (tests do): deadline moves back too
                heapq.heappush(self.worker_heap, (now + self.config.worker_disconnect_delay, worker_id))
            worker.last_active = now
        self.serving_worker = worker
        return worker

    # -- dependencies --------------------------------------------------------------
    def set_deps(self, task: TaskRecord, deps: Iterable[str], replace: bool, priority: float) -> None:
        self.dirty_tasks.add(task.id)
        new = set(deps)
        if replace:
            for dep_id in task.deps - new:
                task.deps.discard(dep_id)
                dep = self.tasks.get(dep_id)
                if dep is not None:
                    dep.dependents.discard(task.id)
                if dep is None or dep.status is not TaskStatus.DONE:
                    task.unfinished_deps -= 1
        for dep_id in new - task.deps:
            task.deps.add(dep_id)
            dep = self.get_or_create_task(dep_id, TaskStatus.UNKNOWN, priority)
            dep.dependents.add(task.id)
            if dep.status is not TaskStatus.DONE:
                task.unfinished_deps += 1
        self.offer_if_ready(task)

    def _dependents_gain_done(self, task: TaskRecord) -> None:
        for dependent_id in task.dependents:
            dependent = self.tasks[dependent_id]
            dependent.unfinished_deps -= 1
            if dependent.unfinished_deps == 0:
                self.offer_if_ready(dependent)

    def _dependents_lose_done(self, task: TaskRecord) -> None:
        for dependent_id in task.dependents:
            self.tasks[dependent_id].unfinished_deps += 1

    # -- readiness -----------------------------------------------------------------
    def is_ready(self, task: TaskRecord) -> bool:
        return task.status is _PENDING and task.unfinished_deps == 0

    def offer_if_ready(self, task: TaskRecord, only_worker: str | None = None) -> None:
        """Put a ready task into the ready heaps (of one worker, or of all of its workers)."""
        if not self.is_ready(task) or not (task.workers or task.runnable):
            return
        if only_worker is None:
            task.ready_version += 1
        entry = (-task.priority, task.time, next(self._seq), task.id, task.ready_version)
        targets = [only_worker] if only_worker is not None else list(task.workers)
        for worker_id in targets:
            heap = self.ready.get(worker_id)
            if heap is not None:
                heapq.heappush(heap, entry)
        if only_worker is None:
            heapq.heappush(self.ready_for_assistants, entry)
            if task.resources:
                heapq.heappush(self.ready_with_resources, entry)

    def entry_is_current(self, entry: ReadyEntry, worker_id: str | None) -> TaskRecord | None:
        task = self.tasks.get(entry[3])
        if task is None or task.ready_version != entry[4] or not self.is_ready(task):
            return None
        if worker_id is not None and worker_id not in task.workers:
            return None
        if worker_id is None and not (task.workers or task.runnable):
            return None
        return task

    # -- who may run a task ---------------------------------------------------------------
    def _count_pending(self, task: TaskRecord, sign: int) -> None:
        if task.status not in _COUNTED_AS_PENDING or not task.workers:
            return
        worker_ids = list(task.workers)
        for worker_id in worker_ids:
            worker = self.workers.get(worker_id)
            if worker is not None:
                worker.n_pending += sign
        if len(worker_ids) == 1:
            only = self.workers.get(worker_ids[0])
            if only is not None:
                only.n_unique_pending += sign
        last = self.workers.get(worker_ids[-1])
        if last is not None:
            last.n_pending_last_scheduled += sign

    def add_runner(self, task: TaskRecord, worker_id: str) -> None:
        self.dirty_tasks.add(task.id)
        if worker_id in task.workers:
            if list(task.workers)[-1] != worker_id and task.status in _COUNTED_AS_PENDING:
                # becomes the last to schedule it
                self._count_pending(task, -1)
                del task.workers[worker_id]
                task.workers[worker_id] = None
                self._count_pending(task, +1)
            return
        self._count_pending(task, -1)
        task.workers[worker_id] = None
        self._count_pending(task, +1)
        self.workers[worker_id].tasks.add(task.id)
        if self.is_ready(task):
            self.offer_if_ready(task, only_worker=worker_id)
            entry = (-task.priority, task.time, next(self._seq), task.id, task.ready_version)
            heapq.heappush(self.ready_for_assistants, entry)
            if task.resources:
                heapq.heappush(self.ready_with_resources, entry)

    def remove_runner(self, task: TaskRecord, worker_id: str) -> None:
        if worker_id not in task.workers:
            return
        self.dirty_tasks.add(task.id)
        self._count_pending(task, -1)
        del task.workers[worker_id]
        self._count_pending(task, +1)

    def add_stakeholder(self, task: TaskRecord, worker_id: str) -> None:
        self.dirty_tasks.add(task.id)
        task.stakeholders.add(worker_id)
        self.stakes.setdefault(worker_id, set()).add(task.id)
        task.remove = None

    def add_stakeholders(self, task: TaskRecord, worker_id: str) -> None:
        """``worker_id`` depends on ``task`` and on each of its known dependencies."""
        stakes = self.stakes.get(worker_id)
        if stakes is None:
            stakes = self.stakes[worker_id] = set()
        self.add_stakeholder(task, worker_id)
        tasks = self.tasks
        dirty = self.dirty_tasks
        for dep_id in task.deps:
            dep = tasks.get(dep_id)
            if dep is not None:
                dirty.add(dep_id)
                dep.stakeholders.add(worker_id)
                stakes.add(dep_id)
                dep.remove = None

    # -- the one place statuses change ---------------------------------------------------
    def set_status(self, task: TaskRecord, new: TaskStatus, config: Any = None, count_failure: bool = True) -> None:
        """Apply a status change with its consequences (Luigi's rules).

        (``config`` is accepted for callers of Luigi's ``SimpleTaskState.set_status``.)"""
        if type(new) is not TaskStatus:
            new = TaskStatus(new)
        now = self.now
        old = task.status
        self.dirty_tasks.add(task.id)
        if new is TaskStatus.SUSPENDED:
            new = _PENDING
        if new is TaskStatus.DISABLED and old in _RUNNING_STATES:
            return  # a running task cannot be disabled
        if old is TaskStatus.DISABLED:
            if new is TaskStatus.DONE:
                self.clear_disable(task)
            elif task.scheduler_disable_time is not None and new is not TaskStatus.DISABLED:
                return  # workers do not override a scheduler disable
        if old is TaskStatus.RUNNING and task.batch_id is not None and new is not TaskStatus.RUNNING:
            for member_id in self.batches.pop(task.batch_id, set()) - {task.id}:
                member = self.tasks.get(member_id)
                if member is not None and member.status in _RUNNING_STATES:
                    member.expl = task.expl
                    self.set_status(member, new)
                    member.batch_id = None
            if new is TaskStatus.FAILED and not task.batchable:
                # a batch's runner task stands for its members, who carry the failure
                self.mark_for_removal(task, now, forced=True)
        if self.history is not None and (new is not old or new is _PENDING):
            self._record_history(task, old, new)
        if new is TaskStatus.FAILED and old is not TaskStatus.DISABLED and count_failure:
            task.add_failure(now, task.retry_policy.disable_window)
            if task.has_excessive_failures(now):
                task.scheduler_disable_time = now
                new = TaskStatus.DISABLED
                heapq.heappush(self.reenable_heap, (now + self.config.disable_persist, task.id))
                policy = task.retry_policy
                self.effects.append(
                    effects.TaskDisabled(task.id, tuple(task.owners), policy.retry_count, policy.disable_window)
                )
        elif new is TaskStatus.DISABLED:
            task.scheduler_disable_time = None
        if new is not old:
            self._leave(task, old)
            task.status = new
            task.updated = now
            self._enter(task, new)
            if self.report_status_changes:
                self.effects.append(effects.StatusChanged(task.id, old.value, new.value))
        if new is TaskStatus.FAILED:
            task.retry = now + self.config.retry_delay
            heapq.heappush(self.retry_heap, (task.retry, task.id))

    def lose_run(self, task: TaskRecord, requeue: bool = False) -> None:
        """The worker running the task vanished: the run is lost, not failed.

        The task shows FAILED until the next call, then goes back to the queue
        at once (no retry_delay), and the loss does not count as a failure of
        the task. Only a task that loses ``retry_count`` runs in a row (one
        that kills its worker every time) is disabled, as too many failures
        would be. Luigi counts each loss as a failure and waits retry_delay.
        """
        now = self.now
        task.lost_runs += 1
        policy = task.retry_policy
        if task.lost_runs >= policy.retry_count:
            self._leave(task, task.status)
            task.status = TaskStatus.DISABLED
            task.updated = now
            task.scheduler_disable_time = now
            self._enter(task, TaskStatus.DISABLED)
            heapq.heappush(self.reenable_heap, (now + self.config.disable_persist, task.id))
            self.effects.append(effects.TaskDisabled(task.id, tuple(task.owners), task.lost_runs, policy.disable_window))
            return
        self.set_status(task, TaskStatus.FAILED, count_failure=False)
        if requeue:  # a worker is asking for work: the task is its to take now
            self.set_status(task, TaskStatus.PENDING)
            return
        # Due at the next call (a millisecond on): the loss stays visible as
        # FAILED for the call that found it, and nobody waits retry_delay.
        task.retry = now + LOST_RUN_RETRY
        heapq.heappush(self.lost_heap, (task.retry, task.id))

    def _record_history(self, task: TaskRecord, old: TaskStatus, new: TaskStatus) -> None:
        # As Luigi: every PENDING report is an event, other statuses only when they change.
        if old is TaskStatus.DISABLED and new is TaskStatus.FAILED:
            return  # a re-enable, not a run that failed
        host = None
        if new is TaskStatus.RUNNING and self.serving_worker is not None:
            host = self.serving_worker.info.get("host")
        record_status_change(self.history, task, new.value, host)

    def _leave(self, task: TaskRecord, old: TaskStatus) -> None:
        self.by_status[old].discard(task.id)
        self._count_pending(task, -1)
        if old in _RUNNING_STATES:
            self.running.discard(task.id)
            for name, amount in (task.resources_running or {}).items():
                self.used_resources[name] = self.used_resources.get(name, 0) - amount
            # resources_running stays readable after the run, as in Luigi
            # (get_running_task_resources answers it for a finished task)
            task.worker_running = None
        elif old is TaskStatus.DONE:
            self._dependents_lose_done(task)

    def _enter(self, task: TaskRecord, new: TaskStatus) -> None:
        self.by_status[new].add(task.id)
        self._count_pending(task, +1)
        if new is _PENDING:
            self.offer_if_ready(task)
        elif new in _RUNNING_STATES:
            self.running.add(task.id)
            task.resources_running = dict(task.resources)
            for name, amount in task.resources_running.items():
                self.used_resources[name] = self.used_resources.get(name, 0) + amount
        elif new is TaskStatus.DONE:
            task.lost_runs = 0
            self._dependents_gain_done(task)

    def clear_disable(self, task: TaskRecord) -> None:
        task.scheduler_disable_time = None
        task.clear_failures()

    def replace_running_resources(self, task: TaskRecord, resources: dict[str, int]) -> None:
        """Set what a running task holds, keeping ``used_resources`` in step."""
        for name, amount in (task.resources_running or {}).items():
            self.used_resources[name] = self.used_resources.get(name, 0) - amount
        task.resources_running = resources
        for name, amount in resources.items():
            self.used_resources[name] = self.used_resources.get(name, 0) + amount
        self.dirty_tasks.add(task.id)

    def decrease_running_resources(self, task: TaskRecord, decrease: dict[str, int]) -> None:
        self.dirty_tasks.add(task.id)
        if task.status not in _RUNNING_STATES or task.resources_running is None:
            return
        for name, amount in decrease.items():
            if amount > 0 and name in task.resources_running:
                taken = min(amount, task.resources_running[name])
                task.resources_running[name] -= taken
                self.used_resources[name] = self.used_resources.get(name, 0) - taken

    # -- removal ------------------------------------------------------------------------
    def remove_task(self, task: TaskRecord) -> None:
        self._leave(task, task.status)
        del self.tasks[task.id]
        self.dirty_tasks.discard(task.id)
        self.deleted_tasks.add(task.id)
        for dep_id in task.deps:
            dep = self.tasks.get(dep_id)
            if dep is not None:
                dep.dependents.discard(task.id)
        if task.dependents:
            self.orphan_dependents[task.id] = set(task.dependents)
            if task.status is TaskStatus.DONE:
                pass  # _leave already counted the lost DONE
        for worker_id in task.workers:
            worker = self.workers.get(worker_id)
            if worker is not None:
                worker.tasks.discard(task.id)
        for worker_id in task.stakeholders:
            self.stakes.get(worker_id, set()).discard(task.id)

    def remove_worker(self, worker_id: str) -> list[TaskRecord]:
        """Forget a worker; returns the tasks left without stakeholders."""
        worker = self.workers.pop(worker_id, None)
        self.ready.pop(worker_id, None)
        self.dirty_workers.discard(worker_id)
        self.deleted_workers.add(worker_id)
        orphaned = []
        for task_id in self.stakes.pop(worker_id, set()):
            task = self.tasks.get(task_id)
            if task is None:
                continue
            task.stakeholders.discard(worker_id)
            if not task.stakeholders:
                orphaned.append(task)
        if worker is not None:
            for task_id in worker.tasks:
                task = self.tasks.get(task_id)
                if task is not None:
                    self.remove_runner(task, worker_id)
        return orphaned

    def mark_for_removal(self, task: TaskRecord, when: float, forced: bool = False) -> None:
        """Remove the task at ``when`` if nobody wants it by then (``forced``: even if someone does)."""
        self.dirty_tasks.add(task.id)
        if forced:
            self.forced_removals.add(task.id)
        if task.remove is None or forced:
            task.remove = when
            heapq.heappush(self.remove_heap, (when, task.id))

    # -- rebuilding the derived indexes after loading records --------------------
    def rebuild(self, tasks: Iterable[TaskRecord], workers: Iterable[WorkerRecord]) -> None:
        """Install loaded records and derive every index from them."""
        now = self.now
        for worker in workers:
            worker.last_active = now  # a restart gives every worker a fresh grace period
            worker.tasks = set()
            worker.n_pending = worker.n_unique_pending = worker.n_pending_last_scheduled = 0
            self.workers[worker.id] = worker
            self.ready[worker.id] = []
            self.stakes[worker.id] = set()
            heapq.heappush(self.worker_heap, (now + self.config.worker_disconnect_delay, worker.id))
        for task in tasks:
            self.tasks[task.id] = task
            self.by_status[task.status].add(task.id)
        for task in self.tasks.values():
            task.dependents = set()
        for task in self.tasks.values():
            task.unfinished_deps = 0
            for dep_id in task.deps:
                dep = self.tasks.get(dep_id)
                if dep is None:
                    self.orphan_dependents.setdefault(dep_id, set()).add(task.id)
                else:
                    dep.dependents.add(task.id)
                if dep is None or dep.status is not TaskStatus.DONE:
                    task.unfinished_deps += 1
            for worker_id in list(task.workers):
                if worker_id in self.workers:
                    self.workers[worker_id].tasks.add(task.id)
                else:
                    del task.workers[worker_id]
            for worker_id in task.stakeholders:
                self.stakes.setdefault(worker_id, set()).add(task.id)
            self._count_pending(task, +1)
            if task.status in _RUNNING_STATES:
                self.running.add(task.id)
                for name, amount in (task.resources_running or {}).items():
                    self.used_resources[name] = self.used_resources.get(name, 0) + amount
                if task.batch_id is not None:
                    self.batches.setdefault(task.batch_id, set()).add(task.id)
            if task.status is TaskStatus.FAILED and task.retry is not None:
                heapq.heappush(self.lost_heap if task.lost_runs else self.retry_heap, (task.retry, task.id))
            if task.status is TaskStatus.DISABLED and task.scheduler_disable_time is not None:
                heapq.heappush(self.reenable_heap, (task.scheduler_disable_time + self.config.disable_persist, task.id))
            if task.remove is not None:
                heapq.heappush(self.remove_heap, (task.remove, task.id))
        for task in self.tasks.values():
            self.offer_if_ready(task)
        self.dirty_tasks.clear()
        self.dirty_workers.clear()


class SimpleTaskState(State):
    """Luigi's ``SimpleTaskState(state_path)``: a state with the default
    ``[scheduler]`` settings; ``dump``/``load`` use JSON at ``state_path``."""

    def __init__(self, state_path: str) -> None:
        from trunkline._scheduler.config import scheduler

        super().__init__(scheduler())
        self._state_path = state_path
