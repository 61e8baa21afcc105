"""The Parameter base class: how a task gets a value, and how values travel as strings.

A value the caller does not give is resolved, in order, from the command line
(``--Family-param``), the configuration (``[Family] param``), a deprecated
``config_path`` and the default. ``parse``/``serialize`` convert between values
and the strings that travel on the command line, to the scheduler and into task
ids; ``normalize`` makes equal values identical (e.g. a date snapped to its
interval), which task identity depends on.

Exceptions::

    ParameterException
    ├── MissingParameterException     no value and no default
    ├── UnknownParameterException     a keyword the task does not have
    └── DuplicateParameterException   given both positionally and by keyword
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Iterator
from configparser import NoOptionError, NoSectionError
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar


def _shell() -> types.ModuleType:
    """The public ``trunkline.parameter`` module, read at call time.

    Luigi's tests and libraries built on Luigi patch ``luigi.parameter.warnings``,
    ``.ParameterException`` and ``._JSONSCHEMA_ENABLED``; the code in this private package
    reaches those names through the public module so that such a patch takes effect.
    """
    return sys.modules["trunkline.parameter"]


# A parameter's value type: `Parameter[int]`, `OptionalParameterMixin[str]` (as in Luigi).
# Type checkers see Luigi's default (a bare `Parameter()` holds a str); at run time Python
# 3.11's TypeVar has no default= and typing_extensions is not a dependency.
if TYPE_CHECKING:
    from typing_extensions import TypeVar as _TypeVarWithDefault

    T = _TypeVarWithDefault("T", default=str)
else:
    T = TypeVar("T")
_OptT = TypeVar("_OptT")


class _NoValueType:
    """The absence of a value (``None`` is a legitimate value)."""

    _instance: _NoValueType | None = None

    def __new__(cls) -> _NoValueType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "_no_value"

    def __reduce__(self) -> str:
        return "_no_value"


_no_value: Any = _NoValueType()


class ParameterVisibility(IntEnum):
    """Who sees a value: everyone, not the task id/scheduler, or nobody outside the task."""

    PUBLIC = 0
    HIDDEN = 1
    PRIVATE = 2

    @classmethod
    def has_value(cls, value: object) -> bool:
        return any(value == member.value for member in cls)

    def serialize(self) -> int:
        return int(self)  # (not self.value: a Python-level property)


class ParameterException(Exception):
    """Base class for errors in giving a task its parameters."""


class MissingParameterException(ParameterException):
    """A required parameter was given no value, and has no default."""


class UnknownParameterException(ParameterException):
    """A value was given for a parameter the task does not have."""


class DuplicateParameterException(ParameterException):
    """The same parameter was given twice."""


class OptionalParameterTypeWarning(UserWarning):
    """An optional parameter got a value of the wrong type."""


class UnconsumedParameterWarning(UserWarning):
    """A task's configuration section has keys that are not its parameters."""


# -- the command-line seam -------------------------------------------------------


class CmdlineValues(Protocol):
    def raw_value(self, task_family: str, param_name: str) -> object | None: ...


_cmdline_values: CmdlineValues | None = None


def set_cmdline_values(source: CmdlineValues | None) -> None:
    """Install (or, with None, remove) the command line parameters read values from."""
    global _cmdline_values
    _cmdline_values = source


def get_cmdline_values() -> CmdlineValues | None:
    return _cmdline_values


def _config() -> Any:
    # Imported late: the configuration package reads files at import.
    from trunkline.configuration import get_config

    return get_config()


class Parameter(Generic[T]):
    """A task parameter whose value is a string; the base of every parameter type."""

    _counter = 0  # creation order; tasks list their parameters in this order

    def __init__(
        self,
        default: Any = _no_value,
        is_global: bool = False,
        significant: bool = True,
        description: str | None = None,
        config_path: dict[str, str] | None = None,
        positional: bool = True,
        always_in_help: bool = False,
        batch_method: Callable[[Iterable[Any]], Any] | None = None,
        visibility: ParameterVisibility = ParameterVisibility.PUBLIC,
    ) -> None:
        self._default = default
        self._batch_method = batch_method
        if is_global:
            _shell().warnings.warn(
                "is_global support is removed. Assuming positional=False", DeprecationWarning, stacklevel=2
            )
            positional = False
        self.significant = significant
        self.positional = positional
        self.visibility = (
            ParameterVisibility(visibility)
            if ParameterVisibility.has_value(visibility)
            else ParameterVisibility.PUBLIC
        )
        self.description = description
        self.always_in_help = always_in_help
        if config_path is not None and ("section" not in config_path or "name" not in config_path):
            raise _shell().ParameterException(
                f"config_path must be a dict with entries for section and name, got {config_path!r}"
            )
        self._config_path = config_path
        self._attribute_name: str | None = None
        self._counter = Parameter._counter
        Parameter._counter += 1

    # -- descriptor: the value set by the task's __init__ lives on the instance.
    # No __set__: the instance's own value then shadows the descriptor, so reading
    # a parameter costs a dict lookup; __get__ only runs when there is no value.
    def __set_name__(self, owner: type, name: str) -> None:
        self._attribute_name = name

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self._attribute_name]
        except KeyError:
            raise AttributeError(
                f"{type(instance).__name__} has no value for parameter {self._attribute_name!r} "
                "(was the task's __init__ called?)"
            ) from None

    # -- resolving a value -----------------------------------------------------
    def _get_value_from_config(self, section: str, name: str) -> Any:
        try:
            value = _config().get(section, name)
        except (NoSectionError, NoOptionError, KeyError):
            return _no_value
        return self.parse(value)

    def _value_iterator(self, task_name: str, param_name: str) -> Iterator[tuple[Any, str | None]]:
        source = _cmdline_values
        if source is not None:
            yield self._parse_or_no_value(source.raw_value(task_name, param_name)), None
        yield self._get_value_from_config(task_name, param_name), None
        if self._config_path:
            section, name = self._config_path["section"], self._config_path["name"]
            yield (
                self._get_value_from_config(section, name),
                f"The use of the configuration [{section}] {name} is deprecated. "
                f"Please use [{task_name}] {param_name}",
            )
        yield self._default, None

    def _get_value(self, task_name: str, param_name: str) -> Any:
        for value, warning in self._value_iterator(task_name, param_name):
            if value is not _no_value:
                if warning:
                    _shell().warnings.warn(warning, DeprecationWarning, stacklevel=2)
                return value
        return _no_value

    def has_task_value(self, task_name: str, param_name: str) -> bool:
        return self._get_value(task_name, param_name) is not _no_value

    def task_value(self, task_name: str, param_name: str) -> Any:
        value = self._get_value(task_name, param_name)
        if value is _no_value:
            raise MissingParameterException("No default specified")
        return self.normalize(value)

    def _parse_or_no_value(self, x: Any) -> Any:
        if not x:
            return _no_value
        return self.parse(x)

    # -- conversions -------------------------------------------------------------
    def parse(self, x: Any) -> Any:
        """The value a string stands for."""
        return x

    def serialize(self, x: Any) -> str:
        """The string a value travels as; ``parse`` reverses it."""
        return str(x)

    def normalize(self, x: Any) -> Any:
        """The canonical form of a value (e.g. snapped to an interval)."""
        return x

    def next_in_enumeration(self, value: Any) -> Any:
        """The value after this one, for summaries like ``n=1...5``; None if unordered."""
        return None

    # -- batching ------------------------------------------------------------------
    def _is_batchable(self) -> bool:
        return self._batch_method is not None

    def _parse_list(self, xs: Iterable[Any]) -> Any:
        if not self._is_batchable():
            raise NotImplementedError("No batch method found")
        values = list(xs)
        if not values:
            raise ValueError("Empty parameter list passed to parse_list")
        assert self._batch_method is not None
        return self._batch_method(map(self.parse, values))

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if type(self) is not Parameter:
            return
        if not isinstance(param_value, str):
            _shell().warnings.warn(
                f'Parameter "{param_name}" with value "{param_value}" is not of type string.'
            )

    # -- the command line ------------------------------------------------------------
    @staticmethod
    def _parser_global_dest(param_name: str, task_name: str) -> str:
        return f"{task_name}_{param_name}"

    def _parser_kwargs(self, param_name: str, task_name: str | None = None) -> dict[str, Any]:
        dest = self._parser_global_dest(param_name, task_name) if task_name else param_name
        return {"action": "store", "dest": dest}


class OptionalParameterMixin(Generic[_OptT]):
    """Makes a parameter optional: default None, and "" on the command line means None."""

    expected_type: Any = type(None)

    def __init__(self, default: Any = None, **kwargs: Any) -> None:
        super().__init__(default=default, **kwargs)  # type: ignore[call-arg]

    def serialize(self, x: Any) -> str:
        return "" if x is None else super().serialize(x)  # type: ignore[misc]

    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return x
        return super().parse(x) if x else None  # type: ignore[misc]

    def normalize(self, x: Any) -> Any:
        return None if x is None else super().normalize(x)  # type: ignore[misc]

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if param_value is None or isinstance(param_value, self.expected_type):
            return
        if isinstance(self.expected_type, tuple):
            names = str([t.__name__ for t in self.expected_type]).replace("'", '"')
            described = f"any type in {names}"
        else:
            described = f'type "{self.expected_type.__name__}"'
        _shell().warnings.warn(
            f'{type(self).__name__} "{param_name}" with value "{param_value}" is not of {described} or None.',
            OptionalParameterTypeWarning,
        )

    def next_in_enumeration(self, value: Any) -> Any:
        return None


class OptionalParameter(OptionalParameterMixin[str], Parameter[str | None]):
    expected_type = str


class StrParameter(Parameter[str]):
    def parse(self, x: Any) -> str:
        return str(x)


class OptionalStrParameter(OptionalParameterMixin[str], StrParameter):
    expected_type = str
