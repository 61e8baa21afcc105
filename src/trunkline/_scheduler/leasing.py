"""Leases: trunkline's one-round-trip work cycle for its own workers.

Luigi's protocol costs a worker two requests per task: ``get_work`` for one
task, then ``add_task(status=DONE)``. Over HTTP each is a round trip (about a
millisecond), which dwarfs running a small task. ``Scheduler.work_cycle`` folds
them into one call: the worker sends the results of the tasks it ran since its
last call (``reports``, each the keyword arguments of an ``add_task``), the
scheduler applies them in order, then *leases* up to ``want`` runnable tasks to
the worker, each marked RUNNING for it exactly as ``get_work`` marks the one
task it hands out. The worker runs them and reports with its next call.

What stays as with ``get_work``:

* at most one worker holds a task: a lease *is* the RUNNING record, persisted
  by the store like any other, so a scheduler restart keeps it;
* a worker that stops contacting the scheduler loses its leases after
  ``worker_disconnect_delay`` (they fail and come back after ``retry_delay``),
  started or not; the worker drops a lease it has not started once
  ``lease_seconds`` (half that delay) have passed, so a worker cut off from the
  scheduler never starts a task the scheduler may have given away;
* priorities and resources: leased tasks are taken best first from the same
  ready queue, and each one's resources count as used before the next is
  considered;
* fairness: a lease takes at most its share of the ready tasks among the live
  workers that still have pending work, and at most ``[scheduler]
  lease_max_tasks``.

* follow-ons (``follow_on=True``, from a worker that runs leases one after
  another): the next links of chains that start in the lease, each listed with
  ``after``, which the worker gives back unstarted unless those succeeded; only
  while no other live worker waits for work.

Luigi workers never call it, so they are unaffected; a trunkline worker that
gets a 404 (a real ``luigid``) goes back to ``get_work``/``add_task``.
"""

from __future__ import annotations

from typing import Any

import collections
import heapq

from trunkline._scheduler.records import TaskRecord, WorkerRecord
from trunkline._scheduler.status import TaskStatus
from trunkline._scheduler.work import WorkMixin

# The add_task arguments a report may carry (what a trunkline worker sends).
REPORT_FIELDS = frozenset(
    {
        "task_id", "status", "runnable", "deps", "new_deps", "expl", "resources", "priority",
        "family", "module", "params", "param_visibilities", "accepts_messages", "assistant",
        "tracking_url", "worker", "batchable", "batch_id", "retry_policy_dict", "owners",
    }
)
_STATUSES = frozenset(status.value for status in TaskStatus)
# How many other live workers a lease considers at most when sharing out ready
# tasks; bounds the queue entries one call looks at to this many leases' worth.
MAX_SHARERS = 16


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_optional(report_no: int, name: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"work_cycle: report {report_no} has {name}={value!r}; {name} must be {what}")


def check_report(worker: str, report_no: int, report: Any) -> None:
    """Reject a report that ``add_task`` could not apply whole (checked before any is applied)."""
    if not isinstance(report, dict):
        raise ValueError(f"work_cycle: report {report_no} must be an object of add_task arguments, got {report!r}")
    unknown = sorted(set(report) - REPORT_FIELDS)
    if unknown:
        raise ValueError(
            f"work_cycle: report {report_no} has unknown argument(s) {unknown}; allowed: {sorted(REPORT_FIELDS)}"
        )
    task_id = report.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ValueError(f"work_cycle: report {report_no} needs task_id as a non-empty string, got {task_id!r}")
    if report.get("status", TaskStatus.PENDING.value) not in _STATUSES:
        raise ValueError(
            f"work_cycle: report {report_no} has status {report.get('status')!r}; expected one of {sorted(_STATUSES)}"
        )
    if report.get("worker", worker) != worker:
        raise ValueError(f"work_cycle: report {report_no} is for worker {report['worker']!r}, not the caller {worker!r}")
    if "priority" in report and not _is_number(report["priority"]):
        raise ValueError(f"work_cycle: report {report_no} has priority={report['priority']!r}; it must be a number")
    for name in ("deps", "new_deps", "owners"):
        if report.get(name) is not None and not _is_str_list(report[name]):
            raise ValueError(f"work_cycle: report {report_no} has {name}={report[name]!r}; it must be a list of strings")
    resources = report.get("resources")
    if resources is not None and not (
        isinstance(resources, dict)
        and all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in resources.items())
    ):
        raise ValueError(f"work_cycle: report {report_no} has resources={resources!r}; they must map names to whole numbers")
    for name in ("params", "param_visibilities", "retry_policy_dict"):
        _check_optional(report_no, name, report.get(name), dict, "an object")
    for name in ("family",):
        _check_optional(report_no, name, report.get(name), str, "a string")
    for name in ("module", "batch_id", "tracking_url"):
        _check_optional(report_no, name, report.get(name), str, "a string or null")
    for name in ("runnable", "accepts_messages", "assistant", "batchable"):
        _check_optional(report_no, name, report.get(name), bool, "true, false or null")


def check_work_cycle_arguments(
    worker: Any, host: Any, reports: Any, want: Any, assistant: Any, current_tasks: Any, release: Any,
    follow_on: Any = False,
) -> None:
    """Every argument of ``work_cycle``, checked before anything changes (they come off the wire)."""
    if not isinstance(worker, str) or not worker:
        raise ValueError(f"work_cycle needs worker as a non-empty string, got {worker!r}")
    if host is not None and not isinstance(host, str):
        raise ValueError(f"work_cycle: host must be a string, got {host!r}")
    if not isinstance(want, int) or isinstance(want, bool) or want < 0:
        raise ValueError(f"work_cycle: want must be a whole number of tasks, 0 or more, got {want!r}")
    if not isinstance(assistant, bool):
        raise ValueError(f"work_cycle: assistant must be true or false, got {assistant!r}")
    if not isinstance(follow_on, bool):
        raise ValueError(f"work_cycle: follow_on must be true or false, got {follow_on!r}")
    for name, value in (("current_tasks", current_tasks), ("release", release)):
        if value is not None and not _is_str_list(value):
            raise ValueError(f"work_cycle: {name} must be a list of task ids, got {value!r}")
    if reports is not None and not isinstance(reports, list):
        raise ValueError(f"work_cycle: reports must be a list of add_task arguments, got {reports!r}")
    for report_no, report in enumerate(reports or ()):
        check_report(worker, report_no, report)


def share(found: int, sharers: int, limit: int) -> int:
    """How many of ``found`` ready tasks one of ``sharers`` live workers may lease (at least one)."""
    if found == 0:
        return 0
    return min(limit, max(1, -(-found // max(1, sharers))))


class LeasingMixin(WorkMixin):
    """``work_cycle`` and leases; part of :class:`trunkline._scheduler.core.SchedulerCore`."""

    def _add_task_from(self, worker: str, arguments: dict[str, Any]) -> None:
        raise NotImplementedError  # TasksMixin

    def _touch_worker(self, worker_id: str | None, **info: Any) -> WorkerRecord | None:
        raise NotImplementedError  # TasksMixin

    def _work_cycle(
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
        record = self._touch_worker(worker, host=host)
        assert record is not None
        if self._config.prune_on_get_work:
            self._prune(requeue_lost=True)
        else:
            self._prune_if_due(requeue_lost=True)
        for report in reports or ():
            self._add_task_from(worker, report)
        for task_id in release or ():
            self._release(worker, task_id)
        if record.batchers and want > 0:
            # Batches are built per get_work; a batching worker takes one at a time.
            reply = self._get_work(host=host, assistant=assistant, current_tasks=current_tasks, worker=worker)
            reply["tasks"] = [self._lease_entry(self._state.tasks[reply["task_id"]])] if reply["task_id"] else []
            reply["lease_seconds"] = self._lease_seconds()
            return reply
        if assistant:
            record.assistant = True
        reply = self._counts(record)
        reply["tasks"] = []
        reply["lease_seconds"] = self._lease_seconds()
        if record.disabled:
            return reply
        leased = self._forgotten_leases(worker, current_tasks)
        limit = min(want, max(1, self._config.lease_max_tasks)) - len(leased)
        if limit > 0 and not self._paused:
            fresh = self._lease(record, assistant, limit)
            if follow_on and not assistant and len(fresh) < limit and self._sharers(record) == 1:
                fresh.extend(self._follow_ons(record, fresh, limit - len(fresh)))
            leased.extend(fresh)
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
        now = self._state.now
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
        horizon = self._state.now - self._config.worker_disconnect_delay
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
        now = self._state.now
        leased = []
        for _, task in found[:keep]:
            state.set_status(task, TaskStatus.RUNNING)
            task.worker_running = record.id
            task.time_running = now
            leased.append(task)
        return leased
