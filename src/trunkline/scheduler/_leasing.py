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

from trunkline.scheduler.status import TaskStatus

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
