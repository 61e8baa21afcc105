"""Argument checks for the scheduler's methods, run before anything changes.

The scheduler's methods are the edge for both the local scheduler and the HTTP
service, so every value that may come off the wire is checked here. A check
raises ``ValueError`` naming the field and the value; the server answers it
with a 400, and nothing has changed.
"""

from __future__ import annotations

import math
from typing import Any

from trunkline._scheduler.status import TaskStatus

STATUS_BY_VALUE: dict[Any, TaskStatus] = {status.value: status for status in TaskStatus}
_STR_TYPES = frozenset({str})


def status(value: Any) -> TaskStatus:
    try:
        return STATUS_BY_VALUE[value]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown task status {value!r}; expected one of {[s.value for s in TaskStatus]}"
        ) from None


def all_str(values: list[Any] | tuple[Any, ...]) -> bool:
    # set(map(type, ...)) runs in C: ids are checked at no per-item Python cost
    # (the generator only runs for str subclasses, or to find what is wrong).
    return not values or set(map(type, values)) <= _STR_TYPES or all(isinstance(v, str) for v in values)


def valid_text(name: str, value: str) -> None:
    """Text that can be stored: no lone surrogates (JSON can carry "\\ud800", UTF-8 cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text (it holds a lone surrogate): {value!r}") from None


def finite_number(name: str, value: Any) -> float:
    """A priority-like number: int or float, not bool, not NaN or infinite (JSON cannot carry those)."""
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def resource_amounts(name: str, value: Any) -> dict[str, int]:
    """A mapping of resource names (strings) to whole numbers that fit in 64 bits."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must map resource names to whole numbers, got {value!r}")
    for key, amount in value.items():
        if not isinstance(key, str):
            raise ValueError(f"{name}: resource names must be strings, got {key!r}")
        if type(amount) is not int or not -(2**63) <= amount < 2**63:
            raise ValueError(f"{name}: resource {key!r} needs a whole number, got {amount!r}")
    return value


def add_task_arguments(
    task_id: Any, worker_id: Any, priority: Any, deps: Any, new_deps: Any, resources: Any, params: Any,
    family: Any = "",
) -> None:
    """Reject malformed ``add_task`` arguments before anything changes."""
    if not isinstance(task_id, str) or not task_id:
        raise ValueError(f"add_task needs task_id as a non-empty string, got {task_id!r}")
    if not isinstance(worker_id, str) or not worker_id:
        raise ValueError(f"add_task needs worker as a non-empty string, got {worker_id!r}")
    if not (task_id.isascii() and worker_id.isascii()):  # ASCII text needs no closer look
        valid_text("task_id", task_id)
        valid_text("worker", worker_id)
    if type(priority) is not int:  # the usual priority passes at the first test
        finite_number("priority", priority)
    # Luigi's workers send lists; code calling the scheduler directly may pass tuples.
    if deps is not None and (not isinstance(deps, (list, tuple)) or (deps and not all_str(deps))):
        raise ValueError(f"deps must be a list of task ids, got {deps!r}")
    if new_deps is not None and (not isinstance(new_deps, (list, tuple)) or (new_deps and not all_str(new_deps))):
        raise ValueError(f"new_deps must be a list of task ids, got {new_deps!r}")
    if resources is not None and (resources or type(resources) is not dict):
        resource_amounts("resources", resources)
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"params must be an object, got {params!r}")
    if family is not None and not isinstance(family, str):
        raise ValueError(f"family must be a string, got {family!r}")
