"""The execution summary printed after a run, in Luigi's words and categories.

Everything here is a pure function of what the worker recorded: every status it
reported (``worker._add_task_history``: task, status, runnable) and every answer
to ``get_work`` (who else was running what). Tasks left pending are explained
by walking their requirements: a failed, missing, foreign or broken task
upstream, or else the scheduler simply did not let this worker run it.
"""

from __future__ import annotations

import enum
import textwrap
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from trunkline.parameter import IntParameter
from trunkline.task import Config, Task


class execution_summary(Config):  # noqa: N801 - the class name is the config section name
    summary_length = IntParameter(default=5, description="Task groups shown per category (0: all)")


class LuigiStatusCode(enum.Enum):
    """How a run went, as a smiley and a reason (Luigi's values)."""

    SUCCESS = (":)", "there were no failed tasks or missing dependencies")
    SUCCESS_WITH_RETRY = (":)", "there were failed tasks but they all succeeded in a retry")
    FAILED = (":(", "there were failed tasks")
    FAILED_AND_SCHEDULING_FAILED = (
        ":(",
        "there were failed tasks and tasks whose scheduling failed",
    )
    SCHEDULING_FAILED = (":(", "there were tasks whose scheduling failed")
    NOT_RUN = (":|", "there were tasks that were not granted run permission by the scheduler")
    MISSING_EXT = (":|", "there were missing external dependencies")


# Printed in this order; the indented ones explain "still_pending".
_ORDERED_STATUSES = (
    "already_done",
    "completed",
    "ever_failed",
    "failed",
    "scheduling_error",
    "still_pending",
    "still_pending_ext",
    "run_by_other_worker",
    "upstream_failure",
    "upstream_missing_dependency",
    "upstream_run_by_other_worker",
    "upstream_scheduling_error",
    "not_run",
)
_PENDING_SUB_STATUSES = frozenset(_ORDERED_STATUSES[_ORDERED_STATUSES.index("still_pending_ext") :])
_COMMENTS = {
    "already_done": "complete ones were encountered",
    "completed": "ran successfully",
    "failed": "failed",
    "scheduling_error": "failed scheduling",
    "still_pending": "were left pending, among these",
    "still_pending_ext": "were missing external dependencies",
    "run_by_other_worker": "were being run by another worker",
    "upstream_failure": "had failed dependencies",
    "upstream_missing_dependency": "had missing dependencies",
    "upstream_run_by_other_worker": "had dependencies that were being run by other worker",
    "upstream_scheduling_error": "had dependencies whose scheduling failed",
    "not_run": "was not granted run permission by the scheduler",
}

TaskSets = dict[str, set[Task]]


class LuigiRunResult:
    """What ``build(..., detailed_summary=True)`` returns."""

    def __init__(self, worker: Any, worker_add_run_status: bool = True) -> None:
        self.worker = worker
        summary_dict = _summary_dict(worker)
        self.summary_text = _summary_wrap(_summary_format(summary_dict, worker))
        self.status = _tasks_status(summary_dict)
        self.one_line_summary = _create_one_line_summary(self.status)
        self.scheduling_succeeded = worker_add_run_status

    def __str__(self) -> str:
        return f"LuigiRunResult with status {self.status}"

    def __repr__(self) -> str:
        return (
            f"LuigiRunResult(status={self.status!r},worker={self.worker!r},"
            f"scheduling_succeeded={self.scheduling_succeeded!r})"
        )


def _partition_tasks(worker: Any) -> TaskSets:
    history = worker._add_task_history
    pending = {task for task, status, _ in history if status == "PENDING"}
    done = {task for task, status, _ in history if status == "DONE"}
    sets: TaskSets = {}
    sets["completed"] = done & pending
    sets["already_done"] = done - pending
    sets["ever_failed"] = {task for task, status, _ in history if status == "FAILED"}
    sets["failed"] = sets["ever_failed"] - sets["completed"]
    sets["scheduling_error"] = {task for task, status, _ in history if status == "UNKNOWN"}
    settled = sets["ever_failed"] | sets["completed"]
    # A pending task that was not runnable is an external one whose data is missing.
    sets["still_pending_ext"] = {
        task for task, status, runnable in history if status == "PENDING" and task not in settled and not runnable
    }
    sets["still_pending_not_ext"] = {
        task for task, status, runnable in history if status == "PENDING" and task not in settled and runnable
    }
    for name in (
        "run_by_other_worker",
        "upstream_failure",
        "upstream_missing_dependency",
        "upstream_run_by_other_worker",
        "upstream_scheduling_error",
        "not_run",
    ):
        sets[name] = set()
    return sets


def _root_task(worker: Any) -> Task:
    """The first task the worker scheduled: the root of the run."""
    return worker._add_task_history[0][0]  # type: ignore[no-any-return]


def _explain_pending(sets: TaskSets) -> None:
    """Fill the ``upstream_*`` and ``not_run`` sets, post-order over requirements.

    Iterative, so that a very deep chain of pending tasks cannot exhaust the stack.
    """
    visited: set[Task] = set()
    for start in sets["still_pending_not_ext"]:
        if start in visited:
            continue
        visited.add(start)
        stack: list[tuple[Task, Iterable[Task]]] = [(start, iter(_requirements(start)))]
        while stack:
            task, requirements = stack[-1]
            descended = False
            for requirement in requirements:
                if requirement not in visited:
                    visited.add(requirement)
                    stack.append((requirement, iter(_requirements(requirement))))
                    descended = True
                    break
            if not descended:
                stack.pop()
                _classify_pending(task, sets)


def _requirements(task: Task) -> list[Task]:
    try:
        return list(task._requires())
    except Exception:  # requires() failed; that task is already a scheduling error
        return []


def _classify_pending(task: Task, sets: TaskSets) -> None:
    if task not in sets["still_pending_not_ext"]:
        return
    reasons = set()
    for requirement in _requirements(task):
        if requirement in sets["ever_failed"] or requirement in sets["upstream_failure"]:
            reasons.add("upstream_failure")
        if requirement in sets["still_pending_ext"] or requirement in sets["upstream_missing_dependency"]:
            reasons.add("upstream_missing_dependency")
        if requirement in sets["run_by_other_worker"] or requirement in sets["upstream_run_by_other_worker"]:
            reasons.add("upstream_run_by_other_worker")
        if requirement in sets["scheduling_error"]:
            reasons.add("upstream_scheduling_error")
    for reason in reasons:
        sets[reason].add(task)
    if not reasons and task not in sets["run_by_other_worker"]:
        sets["not_run"].add(task)


def _get_external_workers(worker: Any) -> dict[str, set[Task]]:
    """Other workers seen running tasks this worker scheduled, and those tasks."""
    blocked: dict[str, set[Task]] = defaultdict(set)
    for response in worker._get_work_response_history:
        if response["task_id"] is not None:
            continue
        for running in response["running_tasks"]:
            other_worker = running["worker"]
            task = worker._scheduled_tasks.get(running["task_id"])
            if other_worker != worker._id and task is not None:
                blocked[other_worker].add(task)
    return blocked


def _summary_dict(worker: Any) -> TaskSets:
    sets = _partition_tasks(worker)
    for tasks in _get_external_workers(worker).values():
        sets["run_by_other_worker"] |= tasks
    _explain_pending(sets)
    return sets


# -- formatting -----------------------------------------------------------------


def _group_by_family(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    groups: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        groups[task.task_family].append(task)
    return groups


def _param_value(task: Task, name: str, param: Any) -> str:
    return str(param.serialize(getattr(task, name)))


def _ranging_attributes(values: set[Any], param: Any) -> tuple[Any, Any]:
    """(first, last) if the values form one contiguous run, else (None, None)."""
    try:
        successors = {param.next_in_enumeration(value) for value in values}
    except Exception:
        return None, None
    starts = values - successors
    ends = successors - values
    if len(starts) == 1 and len(ends) == 1:
        (end_successor,) = ends
        for value in values:
            if param.next_in_enumeration(value) == end_successor:
                return next(iter(starts)), value
    return None, None


def _one_parameter_list(tasks: list[Task], name: str, param: Any) -> str:
    row = ""
    for count, task in enumerate(tasks):
        if (len(row) >= 30 and count > 2 and count != len(tasks) - 1) or len(row) > 200:
            return row + "..."
        row += _param_value(task, name, param)
        if count < len(tasks) - 1:
            row += ","
    return row


def _family_line(family: str, tasks: list[Task]) -> str:
    params = tasks[0].get_params()
    count = len(tasks)
    params_length = sum(len(name) for name, _ in params)
    first = str(tasks[0])
    if not params:
        return f"- {count} {family}()"
    if (
        params_length > 60
        or len(first) > 200
        or (count == 2 and len(params) > 1 and (params_length > 40 or len(first) > 100))
    ):
        return f"- {count} {family}(...)"
    if len(params) == 1:
        name, param = params[0]
        values = {getattr(task, name) for task in tasks}
        start, end = _ranging_attributes(values, param)
        if start is not None and end is not None and len(values) > 3:
            shown = f"{param.serialize(start)}...{param.serialize(end)}"
        else:
            shown = _one_parameter_list(tasks, name, param)
        return f"- {count} {family}({name}={shown})"
    varying = [(name, param) for name, param in params if len({getattr(t, name) for t in tasks}) > 1]
    if len(varying) == 1:
        name, param = varying[0]
        values = {getattr(task, name) for task in tasks}
        start, end = _ranging_attributes(values, param)
        if start is not None and end is not None and len(values) > 2:
            parts = []
            for other_name, other_param in params:
                if other_name == name:
                    parts.append(f"{name}={param.serialize(start)}...{param.serialize(end)}")
                else:
                    parts.append(f"{other_name}={_param_value(tasks[0], other_name, other_param)}")
            return f"- {count} {family}({', '.join(parts)})"
    if count == 1:
        return f"- {count} {tasks[0]}"
    if count == 2:
        return f"- {count} {tasks[0]} and {tasks[1]}"
    return f"- {count} {tasks[0]} ..."


def _get_str(groups: dict[str, list[Task]], extra_indent: bool) -> str:
    summary_length = execution_summary().summary_length
    prefix = " " * (8 if extra_indent else 4)
    lines: list[str] = []
    for family in sorted(groups):
        if summary_length > 0 and len(lines) >= summary_length:
            lines.append(prefix + "...")
            break
        tasks = sorted(groups[family], key=str)
        lines.append(prefix + _family_line(family, tasks))
    return "\n".join(lines)


def _count(status: str, sets: TaskSets) -> int:
    if status == "still_pending":
        return len(sets["still_pending_ext"]) + len(sets["still_pending_not_ext"])
    return len(sets[status])


def _summary_format(sets: TaskSets, worker: Any) -> str:
    counted = ("already_done", "completed", "failed", "scheduling_error", "still_pending_ext", "still_pending_not_ext")
    num_all = sum(len(sets[name]) for name in counted)
    if num_all == 0:
        return "Did not schedule any tasks"
    out = f"Scheduled {num_all} tasks of which:\n"
    for status in _ORDERED_STATUSES:
        if status not in _COMMENTS:
            continue
        number = _count(status, sets)
        if not number:
            continue
        indent = "    " if status in _PENDING_SUB_STATUSES else ""
        out += f"{indent}* {number} {_COMMENTS[status]}:\n"
        if status != "still_pending":
            out += _get_str(_group_by_family(sets[status]), status in _PENDING_SUB_STATUSES) + "\n"
    external = _get_external_workers(worker)
    if external:
        out += "\nThe other workers were:\n"
        for count, (other, tasks) in enumerate(external.items()):
            if 3 < count < len(external) - 1:
                out += f"    and {len(external) - count} other workers"
                break
            out += f"    - {other} ran {len(tasks)} tasks\n"
        out += "\n"
    not_ran = ("already_done", "scheduling_error", "still_pending_ext", "still_pending_not_ext")
    if num_all == sum(len(sets[name]) for name in not_ran):
        if not external:
            out += "\n"
        out += "Did not run any tasks"
    out += "\n" + _create_one_line_summary(_tasks_status(sets))
    return out


def _create_one_line_summary(status: LuigiStatusCode) -> str:
    smiley, reason = status.value
    return f"This progress looks {smiley} because {reason}"


def _tasks_status(sets: TaskSets) -> LuigiStatusCode:
    if sets["ever_failed"]:
        if not sets["failed"]:
            return LuigiStatusCode.SUCCESS_WITH_RETRY
        if sets["scheduling_error"]:
            return LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED
        return LuigiStatusCode.FAILED
    if sets["scheduling_error"]:
        return LuigiStatusCode.SCHEDULING_FAILED
    if sets["not_run"]:
        return LuigiStatusCode.NOT_RUN
    if sets["still_pending_ext"]:
        return LuigiStatusCode.MISSING_EXT
    return LuigiStatusCode.SUCCESS


def _summary_wrap(text: str) -> str:
    return textwrap.dedent(
        """
    ===== Luigi Execution Summary =====

    {text}

    ===== Luigi Execution Summary =====
    """
    ).format(text=text)


def summary(worker: Any) -> str:
    """A human readable summary of what ``worker`` did."""
    return _summary_wrap(_summary_format(_summary_dict(worker), worker))
