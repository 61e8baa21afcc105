"""trunkline.parameter: every Luigi parameter type, and the names Luigi's callers patch here.

The parameter classes live in the private ``trunkline._parameter`` package. This module is the
shell Luigi's users see: it holds every module-level name ``luigi.parameter`` has, and the
names that Luigi's tests and libraries patch (``warnings``, ``ParameterException``,
``_JSONSCHEMA_ENABLED``) are the ones the private code reads here at call time.
"""

from __future__ import annotations

import abc as abc
import datetime as datetime
import json as json
import operator as operator
import warnings as warnings
from ast import literal_eval as literal_eval
from configparser import NoOptionError as NoOptionError
from configparser import NoSectionError as NoSectionError
from enum import Enum as Enum
from enum import IntEnum as IntEnum
from json import JSONEncoder as JSONEncoder
from pathlib import Path as Path
from typing import Any, TypedDict, TypeVar

from trunkline import configuration as configuration
from trunkline import date_interval as date_interval
from trunkline._parameter._base import T as T
from trunkline._parameter._base import _NoValueType as _NoValueType
from trunkline._parameter._base import _OptT as _OptT
from trunkline._parameter._collections import _FrozenEncoder as _DictParamEncoder
from trunkline._parameter._dates import _UNIX_EPOCH as _UNIX_EPOCH
from trunkline.freezing import recursively_freeze as recursively_freeze
from trunkline.freezing import recursively_unfreeze as recursively_unfreeze
from trunkline.freezing import FrozenOrderedDict as FrozenOrderedDict
from trunkline._parameter._base import DuplicateParameterException as DuplicateParameterException
from trunkline._parameter._base import MissingParameterException as MissingParameterException
from trunkline._parameter._base import OptionalParameter as OptionalParameter
from trunkline._parameter._base import OptionalParameterMixin as OptionalParameterMixin
from trunkline._parameter._base import OptionalParameterTypeWarning as OptionalParameterTypeWarning
from trunkline._parameter._base import OptionalStrParameter as OptionalStrParameter
from trunkline._parameter._base import Parameter as Parameter
from trunkline._parameter._base import ParameterException as ParameterException
from trunkline._parameter._base import ParameterVisibility as ParameterVisibility
from trunkline._parameter._base import StrParameter as StrParameter
from trunkline._parameter._base import UnconsumedParameterWarning as UnconsumedParameterWarning
from trunkline._parameter._base import UnknownParameterException as UnknownParameterException
from trunkline._parameter._base import _no_value as _no_value
from trunkline._parameter._base import get_cmdline_values as get_cmdline_values
from trunkline._parameter._base import set_cmdline_values as set_cmdline_values
from trunkline._parameter._collections import DictParameter as DictParameter
from trunkline._parameter._collections import ListParameter as ListParameter
from trunkline._parameter._collections import OptionalDictParameter as OptionalDictParameter
from trunkline._parameter._collections import OptionalListParameter as OptionalListParameter
from trunkline._parameter._collections import OptionalTupleParameter as OptionalTupleParameter
from trunkline._parameter._collections import TupleParameter as TupleParameter
from trunkline._parameter._dates import DateHourParameter as DateHourParameter
from trunkline._parameter._dates import DateIntervalParameter as DateIntervalParameter
from trunkline._parameter._dates import DateMinuteParameter as DateMinuteParameter
from trunkline._parameter._dates import DateParameter as DateParameter
from trunkline._parameter._dates import DateSecondParameter as DateSecondParameter
from trunkline._parameter._dates import MonthParameter as MonthParameter
from trunkline._parameter._dates import TimeDeltaParameter as TimeDeltaParameter
from trunkline._parameter._dates import YearParameter as YearParameter
from trunkline._parameter._dates import _DateParameterBase as _DateParameterBase
from trunkline._parameter._dates import _DatetimeParameterBase as _DatetimeParameterBase
from trunkline._parameter._scalars import BoolParameter as BoolParameter
from trunkline._parameter._scalars import ChoiceListParameter as ChoiceListParameter
from trunkline._parameter._scalars import ChoiceParameter as ChoiceParameter
from trunkline._parameter._scalars import EnumListParameter as EnumListParameter
from trunkline._parameter._scalars import EnumParameter as EnumParameter
from trunkline._parameter._scalars import FloatParameter as FloatParameter
from trunkline._parameter._scalars import IntParameter as IntParameter
from trunkline._parameter._scalars import NumericalParameter as NumericalParameter
from trunkline._parameter._scalars import OptionalBoolParameter as OptionalBoolParameter
from trunkline._parameter._scalars import OptionalChoiceParameter as OptionalChoiceParameter
from trunkline._parameter._scalars import OptionalFloatParameter as OptionalFloatParameter
from trunkline._parameter._scalars import OptionalIntParameter as OptionalIntParameter
from trunkline._parameter._scalars import OptionalNumericalParameter as OptionalNumericalParameter
from trunkline._parameter._scalars import OptionalPathParameter as OptionalPathParameter
from trunkline._parameter._scalars import PathParameter as PathParameter
from trunkline._parameter._task import TaskParameter as TaskParameter

try:
    import jsonschema as jsonschema

    _JSONSCHEMA_ENABLED = True
except ImportError:  # optional: only DictParameter/ListParameter's schema= needs it
    _JSONSCHEMA_ENABLED = False

# Luigi's type variables, for code that annotates with them.
TaskType = TypeVar("TaskType")
EnumParameterType = TypeVar("EnumParameterType", bound=Enum)
DictT = TypeVar("DictT", bound=dict)  # type: ignore[type-arg]
ListT = TypeVar("ListT", bound=tuple)  # type: ignore[type-arg]
NumericalType = TypeVar("NumericalType", int, float)
ChoiceType = TypeVar("ChoiceType")


class ConfigPath(TypedDict):
    """The ``config_path=`` argument of a parameter: where its value is read from."""

    section: str
    name: str


class _ParameterKwargs(TypedDict, total=False):
    # The keyword arguments every parameter type passes on to Parameter.__init__.
    is_global: bool
    significant: bool
    description: str | None
    config_path: ConfigPath | None
    positional: bool
    always_in_help: bool
    batch_method: Any
    visibility: ParameterVisibility


# Classes report this module as their home (reprs, pickles and docs name luigi.parameter's).
for _obj in list(globals().values()):
    if isinstance(_obj, type) and _obj.__module__.startswith("trunkline._parameter."):
        _obj.__module__ = __name__
del _obj

# After the classes: task_register builds on them (it imports nothing of ours at the top, so
# this cannot cycle).
from trunkline import task_register as task_register  # noqa: E402


def __getattr__(name: str) -> Any:
    # CmdlineParser is reached through here in Luigi; importing it eagerly would cycle
    # (cmdline_parser imports trunkline.task, which imports this module).
    if name == "CmdlineParser":
        from trunkline.cmdline_parser import CmdlineParser

        return CmdlineParser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
