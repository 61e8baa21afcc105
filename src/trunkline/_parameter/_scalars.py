"""Numbers, booleans, choices, enums and paths."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from trunkline._parameter._base import (
    OptionalParameterMixin,
    Parameter,
    ParameterException,
    _no_value,
    _shell,
)


class InvalidChoiceTypeError(ParameterException, AssertionError):
    """A choice is not of ``var_type``. An AssertionError too: Luigi asserts this, and code
    written against Luigi catches that."""


class IntParameter(Parameter[int]):
    def parse(self, x: Any) -> int:
        return int(x)

    def next_in_enumeration(self, value: int) -> int:
        return value + 1


class OptionalIntParameter(OptionalParameterMixin[int], IntParameter):
    expected_type = int


class FloatParameter(Parameter[float]):
    def parse(self, x: Any) -> float:
        return float(x)


class OptionalFloatParameter(OptionalParameterMixin[float], FloatParameter):
    expected_type = float


class BoolParameter(Parameter[bool]):
    """True or False; on the command line ``--flag`` (implicit) or ``--flag true`` (explicit)."""

    IMPLICIT_PARSING = "implicit"
    EXPLICIT_PARSING = "explicit"
    parsing = IMPLICIT_PARSING

    def __init__(self, default: Any = _no_value, parsing: str | None = None, **kwargs: Any) -> None:
        self.parsing = type(self).parsing if parsing is None else parsing
        super().__init__(default=default, **kwargs)
        if self._default is _no_value:
            self._default = False

    def parse(self, x: Any) -> bool:
        text = str(x).lower()
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"cannot interpret '{x}' as boolean")

    def normalize(self, x: Any) -> bool | None:
        try:
            return self.parse(x)
        except ValueError:
            return None

    def _parser_kwargs(self, param_name: str, task_name: str | None = None) -> dict[str, Any]:
        kwargs = super()._parser_kwargs(param_name, task_name)
        if self.parsing == self.IMPLICIT_PARSING:
            kwargs["action"] = "store_true"
        elif self.parsing == self.EXPLICIT_PARSING:
            kwargs["nargs"] = "?"
            kwargs["const"] = True
        else:
            raise ValueError(
                f"unknown parsing value '{self.parsing}' (use BoolParameter.IMPLICIT_PARSING or EXPLICIT_PARSING)"
            )
        return kwargs


class OptionalBoolParameter(OptionalParameterMixin[bool], BoolParameter):
    expected_type = bool


class NumericalParameter(Parameter[Any]):
    """A number of ``var_type`` within [min_value, max_value) (bounds set by the operators)."""

    def __init__(
        self,
        default: Any = _no_value,
        *,
        var_type: type | None = None,
        min_value: Any = None,
        max_value: Any = None,
        left_op: Callable[[Any, Any], bool] = operator.le,
        right_op: Callable[[Any, Any], bool] = operator.lt,
        **kwargs: Any,
    ) -> None:
        if var_type is None:
            raise _shell().ParameterException("var_type must be specified")
        if min_value is None:
            raise _shell().ParameterException("min_value must be specified")
        if max_value is None:
            raise _shell().ParameterException("max_value must be specified")
        self._var_type = var_type
        self._min_value = min_value
        self._max_value = max_value
        self._left_op = left_op
        self._right_op = right_op
        left = "[" if left_op == operator.le else "("
        right = ")" if right_op == operator.lt else "]"
        self._permitted_range = f"{var_type.__name__} in {left}{min_value}, {max_value}{right}"
        super().__init__(default=default, **kwargs)
        self.description = (self.description + " " if self.description else "") + (
            "permitted values: " + self._permitted_range
        )

    def parse(self, x: Any) -> Any:
        value = self._var_type(x)
        if self._left_op(self._min_value, value) and self._right_op(value, self._max_value):
            return value
        raise ValueError(f"{x} is not in the set of {self._permitted_range}")


class OptionalNumericalParameter(OptionalParameterMixin[Any], NumericalParameter):
    def __init__(self, default: Any = _no_value, **kwargs: Any) -> None:
        # As in Luigi, no implicit None default here: without one the value is required.
        NumericalParameter.__init__(self, default=default, **kwargs)
        self.expected_type = self._var_type


class ChoiceParameter(Parameter[Any]):
    """One of a fixed set of ``choices`` (of ``var_type``, str by default)."""

    def __init__(
        self,
        default: Any = _no_value,
        *,
        choices: Sequence[Any] | None = None,
        var_type: type = str,
        **kwargs: Any,
    ) -> None:
        if choices is None:
            raise _shell().ParameterException("A choices iterable must be specified")
        self._choices = set(choices)
        self._var_type = var_type
        wrong = [c for c in self._choices if type(c) is not var_type]
        if wrong:
            raise InvalidChoiceTypeError(f"Invalid type in choices: {wrong!r} are not {var_type.__name__}")
        super().__init__(default=default, **kwargs)
        self.description = (self.description + " " if self.description else "") + (
            "Choices: {" + ", ".join(str(c) for c in self._choices) + "}"
        )

    def parse(self, x: Any) -> Any:
        return self.normalize(self._var_type(x))

    def normalize(self, x: Any) -> Any:
        if x in self._choices:
            return x
        raise ValueError(f"{x} is not a valid choice from {self._choices}")


class OptionalChoiceParameter(OptionalParameterMixin[Any], ChoiceParameter):
    def __init__(
        self,
        default: Any = _no_value,
        var_type: type = str,
        choices: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ChoiceParameter.__init__(
            self,
            default=default,  # as in Luigi: no implicit None default
            var_type=var_type,
            choices=choices,
            **kwargs,
        )
        self.expected_type = self._var_type


class ChoiceListParameter(ChoiceParameter):
    """A comma-separated list of choices, as a tuple."""

    _sep = ","

    def __init__(
        self,
        default: Any = _no_value,
        var_type: type = str,
        choices: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(default=default, var_type=var_type, choices=choices, **kwargs)

    def parse(self, x: Any) -> tuple[Any, ...]:
        values = [] if x == "" else str(x).split(self._sep)
        return self.normalize(map(self._var_type, values))

    def normalize(self, x: Iterable[Any]) -> tuple[Any, ...]:
        return tuple(ChoiceParameter.normalize(self, value) for value in x)

    def serialize(self, x: Iterable[Any]) -> str:
        return self._sep.join(str(value) for value in x)


class EnumParameter(Parameter[Any]):
    """A member of ``enum``, written by name."""

    def __init__(self, default: Any = _no_value, *, enum: type[Enum] | None = None, **kwargs: Any) -> None:
        if enum is None:
            raise _shell().ParameterException("An enum class must be specified.")
        self._enum = enum
        super().__init__(default=default, **kwargs)

    def parse(self, x: Any) -> Enum:
        try:
            return self._enum[x]
        except KeyError:
            raise ValueError(
                f"Invalid enum value - could not be parsed: {x!r} is not one of {[m.name for m in self._enum]}"
            ) from None

    def serialize(self, x: Enum) -> str:
        return x.name


class EnumListParameter(Parameter[Any]):
    """Comma-separated members of ``enum``, as a tuple."""

    _sep = ","

    def __init__(self, default: Any = _no_value, *, enum: type[Enum] | None = None, **kwargs: Any) -> None:
        if enum is None:
            raise _shell().ParameterException("An enum class must be specified.")
        self._enum = enum
        super().__init__(default=default, **kwargs)

    def parse(self, x: Any) -> tuple[Enum, ...]:
        names = [] if x == "" else str(x).split(self._sep)
        values = []
        for index, name in enumerate(names):
            try:
                values.append(self._enum[name])
            except KeyError:
                raise ValueError(f'Invalid enum value "{name}" index {index} - could not be parsed') from None
        return tuple(values)

    def serialize(self, x: Iterable[Enum]) -> str:
        return self._sep.join(member.name for member in x)


class PathParameter(Parameter[Path]):
    """A ``pathlib.Path``; optionally made absolute, optionally required to exist."""

    def __init__(
        self, default: Any = _no_value, *, absolute: bool = False, exists: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(default=default, **kwargs)
        self.absolute = absolute
        self.exists = exists

    def normalize(self, x: Any) -> Path:
        path = Path(x)
        if self.absolute:
            path = path.absolute()
        if self.exists and not path.exists():
            raise ValueError(f"The path {path} does not exist.")
        return path


class OptionalPathParameter(OptionalParameterMixin[Path], PathParameter):
    expected_type = (str, Path)
