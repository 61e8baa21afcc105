"""trunkline: a Luigi-compatible workflow engine.

``import trunkline as luigi`` runs Luigi workflows: this module re-exports
Luigi's top-level names, and the submodules keep Luigi's module paths.
"""

from trunkline import configuration as configuration
from trunkline import event as event
from trunkline import interface as interface
from trunkline import local_target as local_target
from trunkline import parameter as parameter
from trunkline import rpc as rpc
from trunkline import target as target
from trunkline import task as task
from trunkline import task_register as task_register
from trunkline._luigi_alias import LuigiAliasError as LuigiAliasError

# Imported here, not when a command first needs it: its [retcode] config class must be
# registered before a test suite snapshots the task registry (Register._get_reg()), or the
# --retcode-* flags vanish when the snapshot is restored.
from trunkline import retcodes as retcodes  # noqa: E402, I001
from trunkline._luigi_alias import install_as_luigi as install_as_luigi
from trunkline.event import Event as Event
from trunkline.execution_summary import LuigiStatusCode as LuigiStatusCode
from trunkline.interface import build as build
from trunkline.interface import run as run
from trunkline.local_target import LocalTarget as LocalTarget
from trunkline.parameter import BoolParameter as BoolParameter
from trunkline.parameter import ChoiceListParameter as ChoiceListParameter
from trunkline.parameter import ChoiceParameter as ChoiceParameter
from trunkline.parameter import DateHourParameter as DateHourParameter
from trunkline.parameter import DateIntervalParameter as DateIntervalParameter
from trunkline.parameter import DateMinuteParameter as DateMinuteParameter
from trunkline.parameter import DateParameter as DateParameter
from trunkline.parameter import DateSecondParameter as DateSecondParameter
from trunkline.parameter import DictParameter as DictParameter
from trunkline.parameter import EnumListParameter as EnumListParameter
from trunkline.parameter import EnumParameter as EnumParameter
from trunkline.parameter import FloatParameter as FloatParameter
from trunkline.parameter import IntParameter as IntParameter
from trunkline.parameter import ListParameter as ListParameter
from trunkline.parameter import MonthParameter as MonthParameter
from trunkline.parameter import NumericalParameter as NumericalParameter
from trunkline.parameter import OptionalBoolParameter as OptionalBoolParameter
from trunkline.parameter import OptionalChoiceParameter as OptionalChoiceParameter
from trunkline.parameter import OptionalDictParameter as OptionalDictParameter
from trunkline.parameter import OptionalFloatParameter as OptionalFloatParameter
from trunkline.parameter import OptionalIntParameter as OptionalIntParameter
from trunkline.parameter import OptionalListParameter as OptionalListParameter
from trunkline.parameter import OptionalNumericalParameter as OptionalNumericalParameter
from trunkline.parameter import OptionalParameter as OptionalParameter
from trunkline.parameter import OptionalPathParameter as OptionalPathParameter
from trunkline.parameter import OptionalStrParameter as OptionalStrParameter
from trunkline.parameter import OptionalTupleParameter as OptionalTupleParameter
from trunkline.parameter import Parameter as Parameter
from trunkline.parameter import PathParameter as PathParameter
from trunkline.parameter import StrParameter as StrParameter
from trunkline.parameter import TaskParameter as TaskParameter
from trunkline.parameter import TimeDeltaParameter as TimeDeltaParameter
from trunkline.parameter import TupleParameter as TupleParameter
from trunkline.parameter import YearParameter as YearParameter
from trunkline.rpc import RemoteScheduler as RemoteScheduler
from trunkline.rpc import RPCError as RPCError
from trunkline.target import Target as Target
from trunkline.tools import range as range  # noqa: A004 - Luigi's name; registers the Range* tasks
from trunkline.task import Config as Config
from trunkline.task import DynamicRequirements as DynamicRequirements
from trunkline.task import ExternalTask as ExternalTask
from trunkline.task import Task as Task
from trunkline.task import WrapperTask as WrapperTask
from trunkline.task import auto_namespace as auto_namespace
from trunkline.task import namespace as namespace

__version__ = "0.1.0"
VERSION = __version__

__all__ = [
    "BoolParameter",
    "ChoiceListParameter",
    "ChoiceParameter",
    "Config",
    "DateHourParameter",
    "DateIntervalParameter",
    "DateMinuteParameter",
    "DateParameter",
    "DateSecondParameter",
    "DictParameter",
    "DynamicRequirements",
    "EnumListParameter",
    "EnumParameter",
    "Event",
    "ExternalTask",
    "FloatParameter",
    "IntParameter",
    "ListParameter",
    "LocalTarget",
    "LuigiAliasError",
    "LuigiStatusCode",
    "MonthParameter",
    "NumericalParameter",
    "OptionalBoolParameter",
    "OptionalChoiceParameter",
    "OptionalDictParameter",
    "OptionalFloatParameter",
    "OptionalIntParameter",
    "OptionalListParameter",
    "OptionalNumericalParameter",
    "OptionalParameter",
    "OptionalPathParameter",
    "OptionalStrParameter",
    "OptionalTupleParameter",
    "Parameter",
    "PathParameter",
    "RPCError",
    "RemoteScheduler",
    "StrParameter",
    "Target",
    "Task",
    "TaskParameter",
    "TimeDeltaParameter",
    "TupleParameter",
    "WrapperTask",
    "YearParameter",
    "__version__",
    "auto_namespace",
    "build",
    "configuration",
    "event",
    "install_as_luigi",
    "interface",
    "local_target",
    "namespace",
    "parameter",
    "range",
    "rpc",
    "run",
    "target",
    "task",
    "task_register",
]
