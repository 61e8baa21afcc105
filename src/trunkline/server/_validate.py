"""Checks every RPC argument at the edge, before the scheduler sees it.

The scheduler keeps what it is given (in memory, in its store, in the task
history, in every later answer), so one bad value could break every request
after it: a lone UTF-16 surrogate that SQLite cannot store, ``NaN`` that no
JSON parser reads back, a ``family`` that is an object. A request that fails a
check changes nothing and is answered 400 with the field's name
(``add_tasks.tasks[3].priority: must be a finite number``).

Two layers: a walk over the whole decoded value (strings valid UTF-8, numbers
finite, nesting and sizes bounded) and, for the fields the scheduler indexes,
their type. Fields not listed pass the walk only, so a newer client's extra
argument still gets through, as it does with Luigi's ``**kwargs``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from trunkline.task_status import BATCH_RUNNING, DISABLED, DONE, FAILED, PENDING, RUNNING, SUSPENDED, UNKNOWN

# Deeper than anything the protocol needs (parameters are nested a few levels).
MAX_DEPTH = 32
# One string (a traceback in ``expl`` is the longest thing a worker sends).
MAX_STRING = 4 * 1024 * 1024
# Items in one list or object.
MAX_ITEMS = 1_000_000

_STATUSES = frozenset({PENDING, RUNNING, DONE, FAILED, DISABLED, UNKNOWN, BATCH_RUNNING, SUSPENDED})

Check = Callable[[Any], str | None]


class InvalidArgument(ValueError):
    """A request argument that the scheduler must not see; ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def check_value(value: Any, field: str, depth: int = 0, infinity_ok: bool = False) -> None:
    """Raise InvalidArgument unless ``value`` is plain, finite, valid-UTF-8 JSON of bounded size."""
    if depth > MAX_DEPTH:
        raise InvalidArgument(field, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        _check_string(value, field)
    elif isinstance(value, float):
        if math.isnan(value) or (math.isinf(value) and not infinity_ok):
            raise InvalidArgument(field, "must be a finite number")
    elif isinstance(value, Mapping):
        if len(value) > MAX_ITEMS:
            raise InvalidArgument(field, f"has more than {MAX_ITEMS} entries")
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgument(field, "has a key that is not a string")
            _check_string(key, f"{field} key")
            check_value(item, f"{field}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise InvalidArgument(field, f"has more than {MAX_ITEMS} items")
        for index, item in enumerate(value):
            check_value(item, f"{field}[{index}]", depth + 1)
    elif value is not None and not isinstance(value, bool | int):
        raise InvalidArgument(field, f"has a value of type {type(value).__name__}")


def _check_string(value: str, field: str) -> None:
    if len(value) > MAX_STRING:
        raise InvalidArgument(field, f"is longer than {MAX_STRING} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's "\ud800" decodes to a lone surrogate, which no UTF-8 store can hold.
        raise InvalidArgument(field, "is not valid UTF-8 (it holds a lone surrogate)") from None


# -- field types ---------------------------------------------------------------------------
def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "must be a finite number"
    return None


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "must be a finite number"
    return None if value >= 0 else "must not be negative"


def _batch_size(value: Any) -> str | None:
    # A Luigi worker sends Infinity for a task class without max_batch_size.
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return "must be a number"
    return None


def _strings(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        return "must be a list of strings"
    return None


def _object(value: Any) -> str | None:
    return None if isinstance(value, Mapping) else "must be an object"


def _amounts(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return "must be an object of resource amounts"
    for amount in value.values():
        if _count(amount) is not None:
            return "must map each resource name to a finite, non-negative number"
    return None


def _status(value: Any) -> str | None:
    if not isinstance(value, str) or value not in _STATUSES:
        return f"must be one of {', '.join(sorted(_STATUSES))}"
    return None


def _status_filter(value: Any) -> str | None:
    # task_list's filters: "" for any, a status, or an upstream status (UPSTREAM_FAILED...).
    return None if isinstance(value, str) else "must be a string"


_TASK_FIELDS: dict[str, Check] = {
    "task_id": _string,
    "status": _status,
    "runnable": _optional(_boolean),
    "deps": _optional(_strings),
    "new_deps": _optional(_strings),
    "resources": _optional(_amounts),
    "priority": _optional(_number),
    "family": _optional(_string),
    "module": _optional(_string),
    "params": _optional(_object),
    "param_visibilities": _optional(_object),
    "accepts_messages": _optional(_boolean),
    "assistant": _optional(_boolean),
    "tracking_url": _optional(_string),
    "worker": _optional(_string),
    "batchable": _optional(_boolean),
    "batch_id": _optional(_string),
    "retry_policy_dict": _optional(_object),
    "owners": _optional(_strings),
}

_FIELDS: dict[str, dict[str, Check]] = {
    "add_task": _TASK_FIELDS,
    "add_tasks": {"worker": _string},
    "add_task_batcher": {
        "worker": _string, "task_family": _string, "batched_args": _strings, "max_batch_size": _batch_size,
    },
    "add_worker": {"worker": _string},
    "announce_scheduling_failure": {"task_name": _optional(_string), "family": _optional(_string)},
    "count_pending": {"worker": _string},
    "decrease_running_task_resources": {"task_id": _string, "decrease_resources": _amounts},
    "dep_graph": {"task_id": _string, "include_done": _boolean},
    "disable_worker": {"worker": _string},
    "fetch_error": {"task_id": _string},
    "forgive_failures": {"task_id": _optional(_string)},
    "get_running_task_resources": {"task_id": _string},
    "get_task_progress_percentage": {"task_id": _string},
    "get_task_status_message": {"task_id": _string},
    "get_work": {
        "worker": _optional(_string), "host": _optional(_string), "assistant": _optional(_boolean),
        "current_tasks": _optional(_strings),
    },
    "inverse_dep_graph": {"task_id": _string, "include_done": _boolean},
    "mark_as_done": {"task_id": _optional(_string)},
    "ping": {"worker": _optional(_string)},
    "re_enable_task": {"task_id": _string},
    "set_task_progress_percentage": {"task_id": _string, "progress_percentage": _optional(_number)},
    "set_task_status_message": {"task_id": _string, "status_message": _optional(_string)},
    "set_worker_processes": {"worker": _string, "n": _count},
    "task_list": {
        "status": _optional(_status_filter), "upstream_status": _optional(_status_filter),
        "limit": _optional(_boolean), "search": _optional(_string), "max_shown_tasks": _optional(_count),
    },
    "task_search": {"task_str": _string},
    # Luigi's update_resource answers false to a negative, fractional or text amount:
    # the scheduler checks it; only NaN and infinities are refused here (the walk).
    "update_resource": {"resource": _string},
    "work_cycle": {
        "worker": _optional(_string), "host": _optional(_string), "want": _optional(_count),
        "assistant": _optional(_boolean), "current_tasks": _optional(_strings), "release": _optional(_strings),
        "follow_on": _optional(_boolean),
    },
    "worker_list": {"include_running": _boolean},
}


def _check_fields(method: str, arguments: Mapping[str, Any], checks: Mapping[str, Check], prefix: str) -> None:
    for name, check in checks.items():
        if name in arguments:
            problem = check(arguments[name])
            if problem is not None:
                raise InvalidArgument(f"{prefix}{name}", problem)


def validate_arguments(method: str, arguments: Mapping[str, Any]) -> None:
    """Raise InvalidArgument for the first argument of ``method`` that must not reach the scheduler."""
    for name, value in arguments.items():
        check_value(value, f"{method}.{name}", infinity_ok=(name == "max_batch_size"))
    _check_fields(method, arguments, _FIELDS.get(method, {}), f"{method}.")
    if method == "update_resources":
        # Every argument is a resource name with its amount.
        _check_fields(method, arguments, {name: _count for name in arguments}, "update_resources.")
    elif method == "add_tasks":
        tasks = arguments.get("tasks")
        if not isinstance(tasks, list):
            raise InvalidArgument("add_tasks.tasks", "must be a list of task objects")
        for index, task in enumerate(tasks):
            if not isinstance(task, Mapping):
                raise InvalidArgument(f"add_tasks.tasks[{index}]", "must be an object")
            _check_fields(method, task, _TASK_FIELDS, f"add_tasks.tasks[{index}].")
    elif method == "work_cycle":
        for index, report in enumerate(arguments.get("reports") or ()):
            if not isinstance(report, Mapping):
                raise InvalidArgument(f"work_cycle.reports[{index}]", "must be an object")
            _check_fields(method, report, _TASK_FIELDS, f"work_cycle.reports[{index}].")
