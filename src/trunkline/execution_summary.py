"""The execution summary printed after a run, in Luigi's words and categories.

Everything here is a pure function of what the worker recorded: every status it
reported (``worker._add_task_history``: task, status, runnable) and every answer
to ``get_work`` (who else was running what). Tasks left pending are explained
by walking their requirements: a failed, missing, foreign or broken task
upstream, or else the scheduler simply did not let this worker run it.
"""

from __future__ import annotations

import collections as collections
import enum
import functools as functools
import heapq
import textwrap
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
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
# The same categories, each task keyed by its task_id: str hashes are cached, so
# set algebra over a whole run's history stays in C (Task.__hash__ is Python).
# The worker records one Task object per task_id, so nothing is lost by the key.
_ById = dict[str, Task]
_Categories = dict[str, _ById]


class LuigiRunResult:
    """What ``build(..., detailed_summary=True)`` returns."""

    def __init__(self, worker: Any, worker_add_run_status: bool = True) -> None:
        self.worker = worker
        categories, external = _categorize(worker)
        self.summary_text = _summary_wrap(_summary_format(categories, external))
        # The status comes from _summary_dict, looked up now: Luigi's tests (and users') patch
        # it to fake an outcome. Unpatched, the categories just computed are the same sets.
        patched = globals()["_summary_dict"] is not _own_summary_dict
        self.status = _tasks_status(_summary_dict(worker) if patched else categories)
        self.one_line_summary = _create_one_line_summary(self.status)
        self.scheduling_succeeded = worker_add_run_status

    def __str__(self) -> str:
        return f"LuigiRunResult with status {self.status}"

    def __repr__(self) -> str:
        return (
            f"LuigiRunResult(status={self.status!r},worker={self.worker!r},"
            f"scheduling_succeeded={self.scheduling_succeeded!r})"
        )


def _partition_tasks(worker: Any) -> _Categories:
    """Sort the history into categories in one pass (backwards: the first object seen for an id is kept)."""
    pending_runnable: _ById = {}
    pending_external: _ById = {}  # a pending task that was not runnable: external, data missing
    done: _ById = {}
    ever_failed: _ById = {}
    scheduling_error: _ById = {}
    for task, status, runnable in reversed(worker._add_task_history):
        if status == "PENDING":
            if runnable:
                pending_runnable[task.task_id] = task
            else:
                pending_external[task.task_id] = task
        elif status == "DONE":
            done[task.task_id] = task
        elif status == "FAILED":
            ever_failed[task.task_id] = task
        elif status == "UNKNOWN":
            scheduling_error[task.task_id] = task
    completed: _ById = {}
    already_done: _ById = {}
    for task_id, task in done.items():
        pending = task_id in pending_runnable or task_id in pending_external
        (completed if pending else already_done)[task_id] = task
    categories: _Categories = {
        "completed": completed,
        "already_done": already_done,
        "ever_failed": ever_failed,
        "failed": {task_id: task for task_id, task in ever_failed.items() if task_id not in completed},
        "scheduling_error": scheduling_error,
        "still_pending_ext": _unsettled(pending_external, ever_failed, completed),
        "still_pending_not_ext": _unsettled(pending_runnable, ever_failed, completed),
    }
    for name in (
        "run_by_other_worker",
        "upstream_failure",
        "upstream_missing_dependency",
        "upstream_run_by_other_worker",
        "upstream_scheduling_error",
        "not_run",
    ):
        categories[name] = {}
    return categories


def _unsettled(pending: _ById, ever_failed: _ById, completed: _ById) -> _ById:
    return {
        task_id: task
        for task_id, task in pending.items()
        if task_id not in ever_failed and task_id not in completed
    }


def _root_task(worker: Any) -> Task:
    """The first task the worker scheduled: the root of the run."""
    return worker._add_task_history[0][0]  # type: ignore[no-any-return]


def _explain_pending(categories: _Categories) -> None:
    """Fill the ``upstream_*`` and ``not_run`` categories, post-order over requirements.

    A task's reasons depend only on its requirements' categories, and only
    pending tasks gain reasons, so the walk goes through pending tasks alone,
    each requirement explained before the task that needs it. Iterative, so that
    a very deep chain of pending tasks cannot exhaust the stack.
    """
    pending = categories["still_pending_not_ext"]
    visited: set[str] = set()
    for start_id, start in pending.items():
        if start_id in visited:
            continue
        visited.add(start_id)
        start_requirements = _requirements(start)
        stack: list[tuple[Task, list[Task], Iterator[Task]]] = [
            (start, start_requirements, iter(start_requirements))
        ]
        while stack:
            task, requirements, unvisited = stack[-1]
            for requirement in unvisited:
                requirement_id = requirement.task_id
                if requirement_id in pending and requirement_id not in visited:
                    visited.add(requirement_id)
                    below = _requirements(requirement)
                    stack.append((requirement, below, iter(below)))
                    break
            else:
                stack.pop()
                _classify_pending(task, requirements, categories)


def _requirements(task: Task) -> list[Task]:
    """The tasks ``task`` requires (objects that are not tasks cannot explain anything)."""
    try:
        requirements = task._requires()
    except Exception:  # requires() failed; that task is already a scheduling error
        return []
    return [requirement for requirement in requirements if isinstance(requirement, Task)]


def _classify_pending(task: Task, requirements: list[Task], categories: _Categories) -> None:
    task_id = task.task_id
    ever_failed, upstream_failure = categories["ever_failed"], categories["upstream_failure"]
    missing, upstream_missing = categories["still_pending_ext"], categories["upstream_missing_dependency"]
    by_other, upstream_by_other = categories["run_by_other_worker"], categories["upstream_run_by_other_worker"]
    scheduling_error = categories["scheduling_error"]
    reasons = set()
    for requirement in requirements:
        requirement_id = requirement.task_id
        if requirement_id in ever_failed or requirement_id in upstream_failure:
            reasons.add("upstream_failure")
        if requirement_id in missing or requirement_id in upstream_missing:
            reasons.add("upstream_missing_dependency")
        if requirement_id in by_other or requirement_id in upstream_by_other:
            reasons.add("upstream_run_by_other_worker")
        if requirement_id in scheduling_error:
            reasons.add("upstream_scheduling_error")
    for reason in reasons:
        categories[reason][task_id] = task
    if not reasons and task_id not in by_other:
        categories["not_run"][task_id] = task


def _get_external_workers(worker: Any) -> dict[str, _ById]:
    """Other workers seen running tasks this worker scheduled, and those tasks."""
    blocked: dict[str, _ById] = defaultdict(dict)
    for response in worker._get_work_response_history:
        if response["task_id"] is not None:
            continue
        for running in response["running_tasks"]:
            other_worker = running["worker"]
            task = worker._scheduled_tasks.get(running["task_id"])
            if other_worker != worker._id and task is not None:
                blocked[other_worker].setdefault(task.task_id, task)
    return blocked


def _categorize(worker: Any) -> tuple[_Categories, dict[str, _ById]]:
    """Every category, and the other workers with the tasks they were running."""
    categories = _partition_tasks(worker)
    external = _get_external_workers(worker)
    by_other = categories["run_by_other_worker"]
    for tasks in external.values():
        for task_id, task in tasks.items():
            by_other.setdefault(task_id, task)
    _explain_pending(categories)
    return categories, external


def _summary_dict(worker: Any) -> TaskSets:
    """Every category as a set of tasks (what ``retcodes`` decides the exit code from)."""
    categories, _ = _categorize(worker)
    return {name: set(tasks.values()) for name, tasks in categories.items()}


_own_summary_dict = _summary_dict


# -- formatting -----------------------------------------------------------------


def _group_by_family(tasks: Iterable[Task]) -> dict[str, tuple[type[Task] | None, list[Task]]]:
    """Tasks by family, with the class they all have (None if several)."""
    by_class: dict[type[Task], list[Task]] = defaultdict(list)
    for task in tasks:
        by_class[type(task)].append(task)
    groups: dict[str, tuple[type[Task] | None, list[Task]]] = {}
    for cls, members in by_class.items():
        if _inherits_task_family(cls):  # then the family is the class's
            parts: Iterable[tuple[str, list[Task]]] = [(cls.get_task_family(), members)]
        else:
            by_family: dict[str, list[Task]] = defaultdict(list)
            for task in members:
                by_family[task.task_family].append(task)
            parts = by_family.items()
        for family, part in parts:
            if family in groups:
                groups[family] = (None, groups[family][1] + part)
            else:
                groups[family] = (cls, part)
    return groups


_TASK_FAMILY = Task.__dict__["task_family"]


def _inherits_task_family(cls: type[Task]) -> bool:
    """True if ``cls`` keeps Task's ``task_family`` (``type(self).get_task_family()``)."""
    for klass in cls.__mro__:
        if "task_family" in klass.__dict__:
            return klass.__dict__["task_family"] is _TASK_FAMILY
    return False


def _param_value(task: Task, name: str, param: Any) -> str:
    return str(param.serialize(getattr(task, name)))


def _ranging_attributes(values: set[Any], param: Any) -> tuple[Any, Any]:
    """(first, last) if the values form one contiguous run, else (None, None).

    With one start and one end, no two values share a successor, so the last
    value found does not depend on the order the set is walked in.
    """
    try:
        successor_of = {value: param.next_in_enumeration(value) for value in values}
        successors = set(successor_of.values())
    except Exception:
        return None, None
    starts = values - successors
    ends = successors - values
    if len(starts) == 1 and len(ends) == 1:
        (end_successor,) = ends
        for value, successor in successor_of.items():
            if successor == end_successor:
                return next(iter(starts)), value
    return None, None


def _one_parameter_list(tasks: Iterable[Task], total: int, name: str, param: Any) -> str:
    """The values of ``tasks`` (in the summary's order, ``total`` of them), cut at about 30 characters."""
    row = ""
    for count, task in enumerate(tasks):
        if (len(row) >= 30 and count > 2 and count != total - 1) or len(row) > 200:
            return row + "..."
        row += _param_value(task, name, param)
        if count < total - 1:
            row += ","
    return row


# _one_parameter_list stops by its 31st value: each value adds at least a comma.
_LIST_HEAD = 31


class _InStrOrder:
    """One family's tasks in the summary's order (sorted by ``str``), computed only
    as far as a line needs it: most lines need the first task alone, a few the
    first 31, and sorting a whole large family is rarely worth it."""

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        self._strs: list[str] | None = None
        self._first: int | None = None
        self._sorted: list[Task] | None = None

    def strs(self) -> list[str]:
        if self._strs is None:
            self._strs = [str(task) for task in self.tasks]
        return self._strs

    def first_index(self) -> int:
        if self._first is None:
            strs = self.strs()
            self._first = min(range(len(strs)), key=strs.__getitem__)
        return self._first

    def first(self) -> Task:
        return self.tasks[self.first_index()]

    def ordered(self) -> list[Task]:
        if self._sorted is None:
            strs = self.strs()
            self._sorted = [self.tasks[index] for index in sorted(range(len(strs)), key=strs.__getitem__)]
        return self._sorted

    def iterate(self) -> Iterator[Task]:
        """The tasks in order: the head by partial selection, the rest (rarely wanted) by a full sort."""
        if self._sorted is not None or len(self.tasks) <= _LIST_HEAD:
            yield from self.ordered()
            return
        strs = self.strs()
        head = heapq.nsmallest(_LIST_HEAD, range(len(strs)), key=strs.__getitem__)
        for index in head:
            yield self.tasks[index]
        yield from self.ordered()[_LIST_HEAD:]

    def values(self, name: str, unordered: set[Any]) -> set[Any]:
        """The set of the tasks' values of ``name``, as iterating the tasks in order builds it.

        ``unordered``, built in any order, holds the same objects when no two
        tasks share a value: no order then decides which equal object is kept."""
        if len(unordered) == len(self.tasks):
            return unordered
        return {getattr(task, name) for task in self.ordered()}


def _family_line(family: str, tasks: list[Task], cls: type[Task] | None) -> str:
    """One family's line; ``cls`` is the class of all of ``tasks``, None if they have several."""
    in_order = _InStrOrder(tasks)
    count = len(tasks)
    # The first task in the summary's order names the parameters.
    params = (cls if cls is not None else type(in_order.first())).get_params()
    if not params:
        return f"- {count} {family}()"
    params_length = sum(len(name) for name, _ in params)
    if params_length > 60:
        return f"- {count} {family}(...)"
    first_index = in_order.first_index()
    first = in_order.strs()[first_index]
    if len(first) > 200 or (count == 2 and len(params) > 1 and (params_length > 40 or len(first) > 100)):
        return f"- {count} {family}(...)"
    if len(params) == 1:
        name, param = params[0]
        values = in_order.values(name, {getattr(task, name) for task in tasks})
        start, end = _ranging_attributes(values, param)
        if start is not None and end is not None and len(values) > 3:
            shown = f"{param.serialize(start)}...{param.serialize(end)}"
        else:
            shown = _one_parameter_list(in_order.iterate(), count, name, param)
        return f"- {count} {family}({name}={shown})"
    value_sets = {name: {getattr(task, name) for task in tasks} for name, _ in params}
    varying = [(name, param) for name, param in params if len(value_sets[name]) > 1]
    if len(varying) == 1:
        name, param = varying[0]
        values = in_order.values(name, value_sets[name])
        start, end = _ranging_attributes(values, param)
        if start is not None and end is not None and len(values) > 2:
            first_task = tasks[first_index]
            parts = []
            for other_name, other_param in params:
                if other_name == name:
                    parts.append(f"{name}={param.serialize(start)}...{param.serialize(end)}")
                else:
                    parts.append(f"{other_name}={_param_value(first_task, other_name, other_param)}")
            return f"- {count} {family}({', '.join(parts)})"
    if count == 1:
        return f"- {count} {first}"
    if count == 2:
        one, two = sorted(in_order.strs())
        return f"- {count} {one} and {two}"
    return f"- {count} {first} ..."


def _get_str(groups: dict[str, tuple[type[Task] | None, list[Task]]], extra_indent: bool) -> str:
    summary_length = execution_summary().summary_length
    prefix = " " * (8 if extra_indent else 4)
    lines: list[str] = []
    for family in sorted(groups):
        if summary_length > 0 and len(lines) >= summary_length:
            lines.append(prefix + "...")
            break
        cls, tasks = groups[family]
        lines.append(prefix + _family_line(family, tasks, cls))
    return "\n".join(lines)


def _count(status: str, sets: _Categories) -> int:
    if status == "still_pending":
        return len(sets["still_pending_ext"]) + len(sets["still_pending_not_ext"])
    return len(sets[status])


def _summary_format(sets: _Categories, external: dict[str, _ById]) -> str:
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
            out += _get_str(_group_by_family(sets[status].values()), status in _PENDING_SUB_STATUSES) + "\n"
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


def _tasks_status(sets: Mapping[str, Collection[Any]]) -> LuigiStatusCode:
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
    return _summary_wrap(_summary_format(*_categorize(worker)))
