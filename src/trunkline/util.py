"""Decorators for sharing parameters between tasks (Luigi's ``luigi.util``).

``@inherits(A)`` gives a task A's parameters; ``@requires(A)`` also makes it
require A with those parameters; ``@copies(A)`` also copies A's output;
``@delegates`` runs a task's ``subtasks()`` inside its own run.
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any, cast

from trunkline import parameter
from trunkline import task as task
from trunkline.task import Task, _task_wraps, flatten
from trunkline.task_register import Register

logger = logging.getLogger("luigi-interface")


def common_params(task_instance: Task, task_cls: type) -> dict[str, Any]:
    """The values of the parameters ``task_instance`` shares with ``task_cls``."""
    if not isinstance(task_cls, Register):
        raise TypeError(f"task_cls must be an uninstantiated Task, got {task_cls!r}")
    instance_params = dict(task_instance.get_params())
    cls_params = dict(cast(Any, task_cls).get_params())
    common = set(instance_params) & set(cls_params)
    pairs = [(name, cls_params[name]) for name in common]
    kwargs = {name: task_instance.param_kwargs[name] for name in common}
    return dict(task_instance.get_param_values(pairs, [], kwargs))


class inherits:  # noqa: N801 - Luigi's name
    """Class decorator: copy the parameters of the given tasks onto this one."""

    def __init__(self, *tasks_to_inherit: type, **kw_tasks_to_inherit: type) -> None:
        if not tasks_to_inherit and not kw_tasks_to_inherit:
            raise TypeError("tasks_to_inherit or kw_tasks_to_inherit must contain at least one task")
        if tasks_to_inherit and kw_tasks_to_inherit:
            raise TypeError("Only one of tasks_to_inherit or kw_tasks_to_inherit may be present")
        self.tasks_to_inherit = tasks_to_inherit
        self.kw_tasks_to_inherit = kw_tasks_to_inherit

    def __call__(self, task_that_inherits: Any) -> Any:
        parents: tuple[Any, ...] = self.tasks_to_inherit or tuple(self.kw_tasks_to_inherit.values())
        for parent in parents:
            for name, param in parent.get_params():
                if not hasattr(task_that_inherits, name):
                    param.__set_name__(task_that_inherits, name)
                    setattr(task_that_inherits, name, param)
        if self.tasks_to_inherit:
            parents = self.tasks_to_inherit

            def clone_parent(_self: Task, **kwargs: Any) -> Task:
                return _self.clone(cls=parents[0], **kwargs)

            def clone_parents(_self: Task, **kwargs: Any) -> list[Task]:
                return [_self.clone(cls=parent, **kwargs) for parent in parents]

            task_that_inherits.clone_parent = clone_parent
            task_that_inherits.clone_parents = clone_parents
        else:
            named = self.kw_tasks_to_inherit

            def clone_named_parents(_self: Task, **kwargs: Any) -> dict[str, Task]:
                return {key: _self.clone(cls=parent, **kwargs) for key, parent in named.items()}

            task_that_inherits.clone_parents = clone_named_parents
        return task_that_inherits


class requires:  # noqa: N801 - Luigi's name
    """Class decorator: inherit the given tasks' parameters and require them."""

    def __init__(self, *tasks_to_require: type, **kw_tasks_to_require: type) -> None:
        self.tasks_to_require = tasks_to_require
        self.kw_tasks_to_require = kw_tasks_to_require

    def __call__(self, task_that_requires: Any) -> Any:
        task_that_requires = inherits(*self.tasks_to_require, **self.kw_tasks_to_require)(task_that_requires)
        single = len(self.tasks_to_require) == 1

        def requires(_self: Any) -> Any:
            return _self.clone_parent() if single else _self.clone_parents()

        task_that_requires.requires = requires
        return task_that_requires


class copies:  # noqa: N801 - Luigi's name
    """Class decorator: require a task and copy its output line by line."""

    def __init__(self, task_to_copy: type) -> None:
        self.requires_decorator = requires(task_to_copy)

    def __call__(self, task_that_copies: Any) -> Any:
        task_that_copies = self.requires_decorator(task_that_copies)

        @_task_wraps(task_that_copies)
        class Wrapped(task_that_copies):  # type: ignore[misc]
            def run(_self) -> None:
                source, target = _self.input(), _self.output()
                with target.open("w") as out, source.open("r") as lines:
                    for line in lines:
                        out.write(line)

        return Wrapped


def delegates(task_that_delegates: Any) -> Any:
    """Class decorator: ``subtasks()`` are run inside this task's run, before its own."""
    if not hasattr(task_that_delegates, "subtasks"):
        raise AttributeError(f'{task_that_delegates} needs to implement the method "subtasks"')

    @_task_wraps(task_that_delegates)
    class Wrapped(task_that_delegates):  # type: ignore[misc]
        def deps(self) -> list[Task]:
            subtask_deps = [t.deps() for t in flatten(self.subtasks())]
            return flatten(self.requires()) + flatten(subtask_deps)

        def run(self) -> None:
            for subtask in flatten(self.subtasks()):
                subtask.run()
            task_that_delegates.run(self)

    return Wrapped


def previous(task: Task) -> Task:
    """The same task one period earlier (its one date-like parameter moved back)."""
    values: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for name, param in task.get_params():
        value = getattr(task, name)
        if isinstance(param, parameter.DateParameter):
            moved[name] = value - datetime.timedelta(days=1)
        elif isinstance(param, parameter.DateSecondParameter):
            moved[name] = value - datetime.timedelta(seconds=1)
        elif isinstance(param, parameter.DateMinuteParameter):
            moved[name] = value - datetime.timedelta(minutes=1)
        elif isinstance(param, parameter.DateHourParameter):
            moved[name] = value - datetime.timedelta(hours=1)
        elif isinstance(param, parameter.DateIntervalParameter):
            moved[name] = value.prev()
        else:
            values[name] = value
    if not moved:
        raise NotImplementedError("No task parameter - can't determine previous task")
    if len(moved) > 1:
        raise NotImplementedError("Too many date-related task parameters - can't determine previous task")
    values.update(moved)
    return task.clone(**values)


def get_previous_completed(task: Task, max_steps: int = 10) -> Task | None:
    """The closest earlier instance of ``task`` that is complete, within ``max_steps``."""
    earlier = task
    for _ in range(max_steps):
        earlier = previous(earlier)
        logger.debug("Checking if %s is complete", earlier)
        if earlier.complete():
            return earlier
    return None
