"""The registry of task classes, and the cache that makes equal tasks identical.

Every class whose metaclass is :class:`Register` is recorded under its family
(``namespace.ClassName``), so the command line and the scheduler can name a
task class by string. Constructing a task with the same parameters twice
returns the same object: ``T(1) is T(a=1)``.

Exceptions::

    TaskClassException
    ├── TaskClassNotFoundException    no class has that family (suggests close names)
    └── TaskClassAmbigiousException   two unrelated classes share the family
"""

from __future__ import annotations

import abc
import difflib
import logging
from collections.abc import Iterator
from typing import Any, ClassVar

logger = logging.getLogger("luigi-interface")


class TaskClassException(Exception):
    """Base class for errors finding a task class."""


class TaskClassNotFoundException(TaskClassException):
    """No registered task class has the family asked for."""


class TaskClassAmbigiousException(TaskClassException):
    """Two unrelated registered classes have the same family."""


class Register(abc.ABCMeta):
    """Metaclass of tasks: registers each class and caches instances."""

    __instance_cache: ClassVar[dict[Any, Any] | None] = {}
    __explicit_cache: ClassVar[dict[Any, Any]] = {}
    _default_namespace_dict: ClassVar[dict[str, Any]] = {}
    _reg: ClassVar[list[Any]] = []
    # family -> class, rebuilt when the set of classes changes
    _reg_index: ClassVar[dict[str, Any] | None] = None
    AMBIGUOUS_CLASS: ClassVar[object] = object()

    def __new__(mcs, classname: str, bases: tuple[type, ...], classdict: dict[str, Any], **kwargs: Any) -> Any:
        cls = super().__new__(mcs, classname, bases, classdict, **kwargs)
        cls._namespace_at_class_time = mcs._get_namespace(cls.__module__)
        mcs._reg.append(cls)
        Register._reg_index = None
        return cls

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # A parameter added after class creation (util.inherits does this), or a
        # new task_namespace, invalidates what the class and its subclasses cache.
        Register._forget_params(cls)
        if name in ("task_namespace", "__name__"):
            Register._reg_index = None

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        Register._forget_params(cls)
        if name in ("task_namespace", "__name__"):
            Register._reg_index = None

    @staticmethod
    def _forget_params(cls: Any) -> None:
        stack = [cls]
        while stack:
            current = stack.pop()
            for cached in ("_params_cache", "_family_cache"):
                if cached in current.__dict__:
                    type.__delattr__(current, cached)
            stack.extend(current.__subclasses__())

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cache = Register.__instance_cache
        if cache is None:
            return super().__call__(*args, **kwargs)
        # When every parameter is given positionally, no configuration or command
        # line is consulted, so the raw arguments (and their types: 1 and True
        # are equal keys) identify the instance.
        explicit_key = None
        if not kwargs and len(args) == cls._explicit_arity():  # type: ignore[attr-defined]
            explicit_key = (cls, args, tuple(map(type, args)))
            try:
                hit = Register.__explicit_cache.get(explicit_key)
            except TypeError:
                explicit_key = None
            else:
                if hit is not None:
                    return hit
        task_cls: Any = cls  # a Task subclass: the metaclass cannot name its methods
        params = task_cls.get_params()
        values = task_cls.get_param_values(params, args, kwargs)
        key = (cls, tuple(values))
        try:
            instance = cache.get(key)
        except TypeError:
            logger.debug("Not all parameter values are hashable so instance isn't coming from the cache")
            return super().__call__(*args, **kwargs)
        if instance is None:
            instance = cls._instantiate(values, args, kwargs)
            cache[key] = instance
        if explicit_key is not None:
            Register.__explicit_cache[explicit_key] = instance
        return instance

    def _instantiate(cls, values: list[tuple[str, Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        task_cls: Any = cls
        fast_init = getattr(task_cls, "_init_from_resolved_values", None)
        if fast_init is not None and task_cls.__init__ is task_cls._base_init:
            # The values are resolved already; don't resolve them a second time.
            instance = task_cls.__new__(task_cls)
            fast_init(instance, values)
            return instance
        return super().__call__(*args, **kwargs)

    @classmethod
    def clear_instance_cache(mcs) -> None:
        Register.__instance_cache = {}
        Register.__explicit_cache = {}

    @classmethod
    def disable_instance_cache(mcs) -> None:
        Register.__instance_cache = None
        Register.__explicit_cache = {}

    @property
    def task_family(cls) -> str:
        task_cls: Any = cls
        return str(task_cls.get_task_family())

    # -- the registry ---------------------------------------------------------
    @classmethod
    def _get_reg(mcs) -> dict[str, Any]:
        if Register._reg_index is not None:
            return dict(Register._reg_index)
        reg: dict[str, Any] = {}
        for task_cls in Register._reg:
            if not task_cls._visible_in_registry:
                continue
            name = task_cls.get_task_family()
            if name in reg and (reg[name] is Register.AMBIGUOUS_CLASS or not issubclass(task_cls, reg[name])):
                reg[name] = Register.AMBIGUOUS_CLASS
            else:
                reg[name] = task_cls
        Register._reg_index = reg
        return dict(reg)

    @classmethod
    def _set_reg(mcs, reg: dict[str, Any]) -> None:
        Register._reg = [task_cls for task_cls in reg.values() if task_cls is not Register.AMBIGUOUS_CLASS]
        Register._reg_index = None

    @classmethod
    def task_names(mcs) -> list[str]:
        return sorted(mcs._get_reg())

    @classmethod
    def tasks_str(mcs) -> str:
        return ",".join(mcs.task_names())

    @classmethod
    def get_task_cls(mcs, name: str) -> Any:
        if Register._reg_index is None:
            mcs._get_reg()
        assert Register._reg_index is not None
        task_cls = Register._reg_index.get(name)
        if task_cls is None:
            raise TaskClassNotFoundException(mcs._missing_task_msg(name))
        if task_cls is Register.AMBIGUOUS_CLASS:
            raise TaskClassAmbigiousException(f"Task {name!r} is ambiguous")
        return task_cls

    @classmethod
    def get_all_params(mcs) -> Iterator[tuple[str, bool, str, Any]]:
        for task_name, task_cls in mcs._get_reg().items():
            if task_cls is Register.AMBIGUOUS_CLASS:
                continue
            for param_name, param_obj in task_cls.get_params():
                yield task_name, (not task_cls.use_cmdline_section), param_name, param_obj

    @staticmethod
    def _editdistance(a: str, b: str) -> int:
        previous = list(range(len(b) + 1))
        for i, char_a in enumerate(a):
            current = [i + 1] + [0] * len(b)
            for j, char_b in enumerate(b):
                current[j + 1] = min(current[j] + 1, previous[j + 1] + 1, previous[j] + (char_a != char_b))
            previous = current
        return previous[len(b)]

    @classmethod
    def _missing_task_msg(mcs, task_name: str) -> str:
        weighted = sorted((mcs._editdistance(task_name, other), other) for other in mcs.task_names())
        candidates = [other for distance, other in weighted if distance <= 5 and distance < len(other)]
        if candidates:
            return "No task {}. Did you mean:\n{}".format(task_name, "\n".join(candidates))
        close = difflib.get_close_matches(task_name, mcs.task_names())
        if close:
            return "No task {}. Did you mean:\n{}".format(task_name, "\n".join(close))
        return f"No task {task_name}. Candidates are: {mcs.tasks_str()}"

    # -- namespaces -----------------------------------------------------------------
    @classmethod
    def _get_namespace(mcs, module_name: str) -> Any:
        for parent in mcs._module_parents(module_name):
            entry = mcs._default_namespace_dict.get(parent)
            if entry:
                return entry
        return ""

    @staticmethod
    def _module_parents(module_name: str) -> Iterator[str]:
        parts = module_name.split(".")
        for i in range(len(parts), 0, -1):
            yield ".".join(parts[:i])
        if module_name:
            yield ""


def load_task(module: str | None, task_name: str, params_str: dict[str, Any]) -> Any:
    """Import ``module`` (if given) and build the task ``task_name`` from string params."""
    if module is not None:
        __import__(module)
    return Register.get_task_cls(task_name).from_str_params(params_str)
