"""Tasks: what a workflow is made of.

A task declares what it ``requires()`` (other tasks), what it outputs
(``output()``, targets) and how to make them (``run()``). It is *complete* when
its outputs exist. Tasks are identified by their family and significant
parameters (``task_id``), and constructing the same task twice gives the same
object.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib as hashlib
import json as json
import logging
import re as re
import traceback
import warnings
from collections import OrderedDict
from collections import deque as deque
from contextlib import contextmanager as contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from trunkline._task_id import (
    TASK_ID_INCLUDE_PARAMS as TASK_ID_INCLUDE_PARAMS,
)
from trunkline._task_id import (
    TASK_ID_INVALID_CHAR_REGEX as TASK_ID_INVALID_CHAR_REGEX,
)
from trunkline._task_id import (
    TASK_ID_TRUNCATE_HASH as TASK_ID_TRUNCATE_HASH,
)
from trunkline._task_id import (
    TASK_ID_TRUNCATE_PARAMS as TASK_ID_TRUNCATE_PARAMS,
)
from trunkline._task_id import task_id_str as task_id_str
from trunkline import configuration as configuration
from trunkline import parameter as parameter
from trunkline.configuration import get_config
from trunkline.parameter import (
    DuplicateParameterException,
    MissingParameterException,
    Parameter,
    ParameterVisibility,
    UnconsumedParameterWarning,
    UnknownParameterException,
)
from trunkline.task_register import Register

logger = logging.getLogger("luigi-interface")

_SAME_AS_PYTHON_MODULE = "_same_as_python_module"
# Attributes the worker sets while run() executes; they cannot be pickled.
_FORWARDED_ATTRIBUTES = (
    "set_tracking_url",
    "set_status_message",
    "set_progress_percentage",
    "decrease_running_resources",
    "scheduler_messages",
)


def namespace(namespace: str | None = None, scope: str = "") -> None:
    """Put task classes defined from now on (in modules under ``scope``) in ``namespace``."""
    Register._default_namespace_dict[scope] = namespace or ""


def auto_namespace(scope: str = "") -> None:
    """Task classes defined from now on get their module's name as namespace."""
    namespace(namespace=_SAME_AS_PYTHON_MODULE, scope=scope)


class BulkCompleteNotImplementedError(NotImplementedError):
    """The task class has no ``bulk_complete``; check tasks one by one."""


def _config_section(family: str) -> Mapping[str, Any] | None:
    config = get_config()
    if not config.has_section(family):
        return None
    try:
        return dict(config.items(family, raw=True))
    except TypeError:  # the toml parser's items() has no raw
        return dict(config.items(family))


class Task(metaclass=Register):
    """A unit of work: requires other tasks, outputs targets, runs to make them."""

    _event_callbacks: dict[Any, dict[str, set[Callable[..., Any]]]] = {}

    priority = 0
    disabled = False
    resources: dict[str, Any] = {}
    worker_timeout: float | None = None
    max_batch_size = float("inf")

    _visible_in_registry = True
    __not_user_specified = "__not_user_specified"
    _namespace_at_class_time: Any = None
    task_namespace: Any = __not_user_specified

    # -- per-task policy (overridable properties) --------------------------------
    @property
    def batchable(self) -> bool:
        return bool(self.batch_param_names())

    @property
    def retry_count(self) -> int | None:
        return None

    @property
    def disable_hard_timeout(self) -> float | None:
        return None

    @property
    def disable_window(self) -> float | None:
        return None

    @property
    def disable_window_seconds(self) -> float | None:
        warnings.warn(
            "Use of `disable_window_seconds` has been deprecated, use `disable_window` instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.disable_window

    @property
    def owner_email(self) -> str | list[str] | None:
        return None

    def _owner_list(self) -> list[str]:
        owners = self.owner_email
        if owners is None:
            return []
        if isinstance(owners, str):
            return owners.split(",")
        return list(owners)

    @property
    def use_cmdline_section(self) -> bool:
        return True

    @property
    def accepts_messages(self) -> bool:
        return False

    @property
    def task_module(self) -> str:
        return type(self).__module__

    # -- events ---------------------------------------------------------------------
    @classmethod
    def event_handler(cls, event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: call the function when ``event`` fires for this class or a subclass."""

        def register(callback: Callable[..., Any]) -> Callable[..., Any]:
            cls._event_callbacks.setdefault(cls, {}).setdefault(event, set()).add(callback)
            return callback

        return register

    @classmethod
    def remove_event_handler(cls, event: str, callback: Callable[..., Any]) -> None:
        cls._event_callbacks[cls][event].remove(callback)

    def trigger_event(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call every callback registered for ``event`` on this task's classes."""
        if not self._event_callbacks:
            return  # the common case: nobody listens
        for event_class, callbacks in list(self._event_callbacks.items()):
            if not isinstance(self, event_class):
                continue
            for callback in list(callbacks.get(event, ())):
                try:
                    callback(*args, **kwargs)
                except KeyboardInterrupt:
                    return
                except BaseException:
                    logger.exception("Error in event callback for %r", event)

    # -- family and namespace ---------------------------------------------------------
    @classmethod
    def get_task_namespace(cls) -> str:
        if cls.task_namespace != cls.__not_user_specified:
            return str(cls.task_namespace)
        if cls._namespace_at_class_time == _SAME_AS_PYTHON_MODULE:
            return cls.__module__
        return str(cls._namespace_at_class_time or "")

    @property
    def task_family(self) -> str:
        return type(self).get_task_family()

    @classmethod
    def get_task_family(cls) -> str:
        family = cls.__dict__.get("_family_cache")
        if family is None:
            task_namespace = cls.get_task_namespace()
            family = f"{task_namespace}.{cls.__name__}" if task_namespace else cls.__name__
            if cls.get_task_namespace.__func__ is Task.get_task_namespace.__func__:  # type: ignore[attr-defined]
                # Forgotten by the metaclass whenever an attribute of the class (or of
                # a base) is set, so a new task_namespace shows at once. An overridden
                # get_task_namespace() may answer differently each time: not cached.
                type.__setattr__(cls, "_family_cache", family)
        return family

    # -- parameters ------------------------------------------------------------------
    @classmethod
    def _params(cls) -> tuple[tuple[tuple[str, Parameter], ...], dict[str, Parameter], int]:
        """(name, parameter) pairs, the same by name, and how many positional
        arguments set them all (-1: some are not positional); cached per class."""
        cached = cls.__dict__.get("_params_cache")
        if cached is None:
            found = []
            for name in dir(cls):
                value = getattr(cls, name, None)
                if isinstance(value, Parameter):
                    found.append((name, value))
            found.sort(key=lambda pair: pair[1]._counter)
            arity = len(found) if all(p.positional for _, p in found) else -1
            cached = (tuple(found), dict(found), arity)
            type.__setattr__(cls, "_params_cache", cached)  # no invalidation for our own cache
        return cached

    @classmethod
    def _explicit_arity(cls) -> int:
        """How many positional arguments give every parameter (-1: some are not positional)."""
        cached = cls.__dict__.get("_params_cache")
        return (cached if cached is not None else cls._params())[2]

    @classmethod
    def get_params(cls) -> list[tuple[str, Parameter]]:
        """(name, Parameter) pairs in declaration order."""
        return list(cls._params()[0])

    @classmethod
    def batch_param_names(cls) -> list[str]:
        return [name for name, p in cls._params()[0] if p._is_batchable()]

    @classmethod
    def get_param_names(cls, include_significant: bool = False) -> list[str]:
        return [name for name, p in cls._params()[0] if include_significant or p.significant]

    @classmethod
    def get_param_values(
        cls, params: list[tuple[str, Parameter]], args: Iterable[Any], kwargs: Mapping[str, Any]
    ) -> list[tuple[str, Any]]:
        """Resolve every parameter's value from args, kwargs, command line, config, defaults."""
        args = tuple(args)
        result: dict[str, Any] = {}
        family = cls.get_task_family()
        if args:
            positional = [pair for pair in params if pair[1].positional]
            for (name, param), arg in zip(positional, args):
                result[name] = param.normalize(arg)
            if len(args) > len(positional):
                raise UnknownParameterException(
                    f"{_described(family, args, kwargs)}: takes at most {len(positional)} "
                    f"parameters ({len(args)} given)"
                )
        if kwargs:
            params_dict = dict(params)
            for name, arg in kwargs.items():
                if name in result:
                    raise DuplicateParameterException(
                        f"{_described(family, args, kwargs)}: parameter {name} was already set as a positional parameter"
                    )
                if name not in params_dict:
                    raise UnknownParameterException(f"{_described(family, args, kwargs)}: unknown parameter {name}")
                result[name] = params_dict[name].normalize(arg)
        if len(result) < len(params):
            for name, param in params:
                if name in result:
                    continue
                try:
                    has_value = param.has_task_value(family, name)
                except Exception as exc:
                    raise ValueError(
                        f"{_described(family, args, kwargs)}: Error when parsing the default value of '{name}'"
                    ) from exc
                if not has_value:
                    raise MissingParameterException(
                        f"{_described(family, args, kwargs)}: requires the '{name}' parameter to be set"
                    )
                result[name] = param.task_value(family, name)

        cls._warn_about_unconsumed_config(family, result)
        return [(name, _list_to_tuple(result[name])) for name, _ in params]

    @classmethod
    def _warn_about_unconsumed_config(cls, family: str, result: Mapping[str, Any]) -> None:
        section = _config_section(family)
        if not section:
            return
        warned = cls.__dict__.get("_unconsumed_params")
        if warned is None:
            warned = set()
            type.__setattr__(cls, "_unconsumed_params", warned)
        ignored: set[str] = getattr(cls, "ignore_unconsumed", set())
        for key, value in section.items():
            key = key.replace("-", "_")
            composite = f"{family}_{key}"
            if key not in result and key not in ignored and composite not in warned:
                warnings.warn(
                    f"The configuration contains the parameter '{key}' with value '{value}' "
                    f"that is not consumed by the task '{family}'.",
                    UnconsumedParameterWarning,
                    stacklevel=4,
                )
                warned.add(composite)

    # -- construction -------------------------------------------------------------------
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        params = self.get_params()
        self._init_from_resolved_values(self.get_param_values(params, args, kwargs))

    def _init_from_resolved_values(self, values: list[tuple[str, Any]]) -> None:
        instance_dict = self.__dict__
        for name, value in values:
            instance_dict[name] = value
        self.param_kwargs = dict(values)
        self._warn_on_wrong_param_types()
        self.task_id = task_id_str(self.get_task_family(), self.to_str_params(only_significant=True, only_public=True))
        self._hash = hash(self.task_id)
        self.set_tracking_url = None
        self.set_status_message = None
        self.set_progress_percentage = None
        self.decrease_running_resources = None
        self.scheduler_messages = None

    @property
    def param_args(self) -> tuple[Any, ...]:
        warnings.warn("Use of param_args has been deprecated.", DeprecationWarning, stacklevel=2)
        return tuple(self.param_kwargs[name] for name, _ in self.get_params())

    def initialized(self) -> bool:
        return "task_id" in self.__dict__

    def _warn_on_wrong_param_types(self) -> None:
        params = self._params()[1]
        for name, value in self.param_kwargs.items():
            params[name]._warn_on_wrong_param_type(name, value)

    @classmethod
    def from_str_params(cls, params_str: Mapping[str, Any]) -> Task:
        """Build a task from string parameters (lists are batched values)."""
        kwargs = {}
        for name, param in cls._params()[0]:
            if name in params_str:
                raw = params_str[name]
                kwargs[name] = param._parse_list(raw) if isinstance(raw, list) else param.parse(raw)
        return cls(**kwargs)

    def to_str_params(self, only_significant: bool = False, only_public: bool = False) -> dict[str, str]:
        """Parameter values as strings; PRIVATE ones never appear.

        A task's parameters do not change after construction, and the worker asks
        for this on every report, so each form is computed once (a copy is returned).
        """
        cache = self.__dict__.setdefault("_str_params_cache", {})
        key = (only_significant, only_public)
        cached = cache.get(key)
        if cached is None:
            cached = cache[key] = self._compute_str_params(only_significant, only_public)
        return dict(cached)

    def _compute_str_params(self, only_significant: bool, only_public: bool) -> dict[str, str]:
        params = self._params()[1]
        result = {}
        for name, value in self.param_kwargs.items():
            param = params[name]
            visibility = param.visibility
            if visibility == ParameterVisibility.PRIVATE:
                continue
            if only_significant and not param.significant:
                continue
            if only_public and visibility != ParameterVisibility.PUBLIC:
                continue
            result[name] = param.serialize(value)
        return result

    def _get_param_visibilities(self) -> dict[str, int]:
        cached = self.__dict__.get("_visibilities_cache")
        if cached is None:
            params = self._params()[1]
            cached = self.__dict__["_visibilities_cache"] = {
                name: params[name].visibility.serialize()
                for name in self.param_kwargs
                if params[name].visibility != ParameterVisibility.PRIVATE
            }
        return dict(cached)

    def clone(self, cls: type[Task] | None = None, **kwargs: Any) -> Task:
        """A task of ``cls`` (this class by default) with this task's shared parameters."""
        cls = cls or type(self)
        values = {}
        for name, _ in cls.get_params():
            if name in kwargs:
                values[name] = kwargs[name]
            elif hasattr(self, name):
                values[name] = getattr(self, name)
        return cls(**values)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        params = self._params()[1]
        parts = [
            f"{name}={params[name].serialize(value)}"
            for name, value in self.param_kwargs.items()
            if params[name].significant
        ]
        return f"{self.get_task_family()}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.task_id == other.task_id

    # -- the workflow methods --------------------------------------------------------------
    def complete(self) -> bool:
        """True when every output exists; a task with no outputs is never complete."""
        output = self.output()
        if output is not None and not _maybe_iterable(type(output)):
            return bool(output.exists())  # one target: the common case, no list built
        outputs = flatten(output)
        if not outputs:
            warnings.warn(f"Task {self!r} without outputs has no custom complete() method", stacklevel=2)
            return False
        return all(output.exists() for output in outputs)

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> Iterable[Any]:
        raise BulkCompleteNotImplementedError()

    def output(self) -> Any:
        return []

    def requires(self) -> Any:
        return []

    def _requires(self) -> list[Task]:
        return flatten(self.requires())

    def process_resources(self) -> dict[str, Any]:
        return self.resources

    def input(self) -> Any:
        """The outputs of the required tasks, in the same structure as requires()."""
        return getpaths(self.requires())

    def deps(self) -> list[Task]:
        if type(self)._requires is Task._requires:
            return flatten(self.requires())  # what _requires() gives is flat already
        return flatten(self._requires())

    def run(self) -> Any:
        """Make the outputs. May be a generator yielding more requirements."""

    def on_failure(self, exception: BaseException) -> Any:
        """Called when run() raised; the return value is the explanation sent to the scheduler."""
        return f"Runtime error:\n{traceback.format_exc()}"

    def on_success(self) -> Any:
        """Called after a successful run(); the return value is sent to the scheduler."""
        return None

    @contextlib.contextmanager
    def no_unpicklable_properties(self) -> Iterator[None]:
        """Temporarily replace worker-forwarded callables so the task can be pickled."""
        saved = {}
        for name in _FORWARDED_ATTRIBUTES:
            if hasattr(self, name):
                saved[name] = getattr(self, name)
                setattr(self, name, "placeholder_during_pickling")
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(self, name, value)


Task._base_init = Task.__init__


def _described(family: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """How a failed construction is named in its error: family, args and kwargs."""
    return f"{family}[args={args}, kwargs={dict(kwargs)}]"


def _list_to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, set)) else value


class MixinNaiveBulkComplete:
    """``bulk_complete`` by checking each task's ``complete()`` in turn."""

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> list[Any]:
        complete = []
        for parameters in parameter_tuples:
            if isinstance(parameters, (list, tuple)):
                task = cls(*parameters)
            elif isinstance(parameters, dict):
                task = cls(**parameters)
            else:
                task = cls(parameters)  # type: ignore[call-arg]
            if task.complete():  # type: ignore[attr-defined]
                complete.append(parameters)
        return complete


class DynamicRequirements:
    """What a ``run()`` generator may yield: requirements, optionally with their own completeness test."""

    def __init__(
        self,
        requirements: Any,
        custom_complete: Callable[[Callable[[Task], bool]], bool] | None = None,
    ) -> None:
        self.requirements = requirements
        self.custom_complete = custom_complete

    @functools.cached_property
    def flat_requirements(self) -> list[Task]:
        return flatten(self.requirements)

    @functools.cached_property
    def paths(self) -> Any:
        return getpaths(self.requirements)

    def complete(self, complete_fn: Callable[[Task], bool] | None = None) -> bool:
        if complete_fn is None:
            def complete_fn(task: Task) -> bool:
                return task.complete()

        if self.custom_complete:
            return bool(self.custom_complete(complete_fn))
        return all(complete_fn(task) for task in self.flat_requirements)


class ExternalTask(Task):
    """Data made outside the workflow: never run, only checked for completeness."""

    run = None  # type: ignore[assignment]


def externalize(taskclass_or_taskobject: Any) -> Any:
    """A copy of a task class (or object) that is external: its run is removed."""
    copied = copy.copy(taskclass_or_taskobject)
    if copied is taskclass_or_taskobject:
        # A class: copy.copy returns it unchanged; make a subclass-free duplicate.
        cls = taskclass_or_taskobject
        namespace_dict = dict(cls.__dict__)
        namespace_dict.pop("_params_cache", None)
        namespace_dict["_visible_in_registry"] = False
        copied = type(cls)(cls.__name__, cls.__bases__, namespace_dict)
        copied.__module__ = cls.__module__
        copied.task_namespace = cls.get_task_namespace()
    copied.run = None
    return copied


class WrapperTask(Task):
    """A task that only gathers others: complete when everything it requires is."""

    def complete(self) -> bool:
        return all(task.complete() for task in self.deps())


class Config(Task):
    """A configuration section as a class: its parameters are the section's keys."""


def getpaths(struct: Any) -> Any:
    """Replace every task in a structure with its output, keeping the structure."""
    if isinstance(struct, Task):
        return struct.output()
    if isinstance(struct, dict):
        return type(struct)((key, getpaths(value)) for key, value in struct.items())
    if isinstance(struct, (list, tuple)):
        return type(struct)(getpaths(item) for item in struct)
    try:
        return [getpaths(item) for item in struct]
    except TypeError:
        raise TypeError(f"Cannot map {struct!r} to Task/dict/list") from None


# type -> whether iter() may accept its instances; tasks and targets are not,
# and asking once per type spares a raised TypeError per item.
_MAYBE_ITERABLE: dict[type, bool] = {}


def _maybe_iterable(cls: type) -> bool:
    known = _MAYBE_ITERABLE.get(cls)
    if known is None:
        known = getattr(cls, "__iter__", None) is not None or getattr(cls, "__getitem__", None) is not None
        _MAYBE_ITERABLE[cls] = known
    return known


def _task_wraps(task_class: type) -> Any:
    """Like functools.wraps, for a class that stands in for ``task_class``."""
    return functools.partial(
        functools.update_wrapper,
        wrapped=task_class,
        assigned=(*functools.WRAPPER_ASSIGNMENTS, "_namespace_at_class_time"),
        updated=[],
    )


def flatten(struct: Any) -> list[Any]:
    """All the items of a nested structure of dicts, lists and tuples, in a flat list."""
    flat: list[Any] = []
    _flatten_into(struct, flat)
    return flat


def _flatten_into(struct: Any, flat: list[Any]) -> None:
    if struct is None:
        return
    cls = type(struct)
    if cls is not list and cls is not tuple:
        if not _maybe_iterable(cls) or isinstance(struct, str):
            flat.append(struct)
            return
        if isinstance(struct, Mapping) and not isinstance(struct, Task):
            struct = list(struct.values())
        else:
            try:
                struct = iter(struct)
            except TypeError:
                flat.append(struct)
                return
    for item in struct:
        if item is not None and not _maybe_iterable(type(item)):
            flat.append(item)  # the common case: a task or a target
        else:
            _flatten_into(item, flat)


def flatten_output(task: Task) -> list[Any]:
    """The outputs of a task, or (for an output-less wrapper) of what it requires."""
    outputs = flatten(task.output())
    if outputs:
        return outputs
    collected = []
    stack = list(reversed(flatten(task.requires())))
    seen = set()
    while stack:
        dep = stack.pop()
        if dep in seen:
            continue
        seen.add(dep)
        dep_outputs = flatten(dep.output())
        if dep_outputs:
            collected.extend(dep_outputs)
        else:
            stack.extend(reversed(flatten(dep.requires())))
    return collected
