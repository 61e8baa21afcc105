"""trunkline.parameter: every Luigi parameter type."""

from trunkline.freezing import FrozenOrderedDict as FrozenOrderedDict
from trunkline.parameter._base import DuplicateParameterException as DuplicateParameterException
from trunkline.parameter._base import MissingParameterException as MissingParameterException
from trunkline.parameter._base import OptionalParameter as OptionalParameter
from trunkline.parameter._base import OptionalParameterMixin as OptionalParameterMixin
from trunkline.parameter._base import OptionalParameterTypeWarning as OptionalParameterTypeWarning
from trunkline.parameter._base import OptionalStrParameter as OptionalStrParameter
from trunkline.parameter._base import Parameter as Parameter
from trunkline.parameter._base import ParameterException as ParameterException
from trunkline.parameter._base import ParameterVisibility as ParameterVisibility
from trunkline.parameter._base import StrParameter as StrParameter
from trunkline.parameter._base import UnconsumedParameterWarning as UnconsumedParameterWarning
from trunkline.parameter._base import UnknownParameterException as UnknownParameterException
from trunkline.parameter._base import _no_value as _no_value
from trunkline.parameter._base import get_cmdline_values as get_cmdline_values
from trunkline.parameter._base import set_cmdline_values as set_cmdline_values
from trunkline.parameter._collections import DictParameter as DictParameter
from trunkline.parameter._collections import ListParameter as ListParameter
from trunkline.parameter._collections import OptionalDictParameter as OptionalDictParameter
from trunkline.parameter._collections import OptionalListParameter as OptionalListParameter
from trunkline.parameter._collections import OptionalTupleParameter as OptionalTupleParameter
from trunkline.parameter._collections import TupleParameter as TupleParameter
from trunkline.parameter._dates import DateHourParameter as DateHourParameter
from trunkline.parameter._dates import DateIntervalParameter as DateIntervalParameter
from trunkline.parameter._dates import DateMinuteParameter as DateMinuteParameter
from trunkline.parameter._dates import DateParameter as DateParameter
from trunkline.parameter._dates import DateSecondParameter as DateSecondParameter
from trunkline.parameter._dates import MonthParameter as MonthParameter
from trunkline.parameter._dates import TimeDeltaParameter as TimeDeltaParameter
from trunkline.parameter._dates import YearParameter as YearParameter
from trunkline.parameter._dates import _DateParameterBase as _DateParameterBase
from trunkline.parameter._dates import _DatetimeParameterBase as _DatetimeParameterBase
from trunkline.parameter._scalars import BoolParameter as BoolParameter
from trunkline.parameter._scalars import ChoiceListParameter as ChoiceListParameter
from trunkline.parameter._scalars import ChoiceParameter as ChoiceParameter
from trunkline.parameter._scalars import EnumListParameter as EnumListParameter
from trunkline.parameter._scalars import EnumParameter as EnumParameter
from trunkline.parameter._scalars import FloatParameter as FloatParameter
from trunkline.parameter._scalars import IntParameter as IntParameter
from trunkline.parameter._scalars import NumericalParameter as NumericalParameter
from trunkline.parameter._scalars import OptionalBoolParameter as OptionalBoolParameter
from trunkline.parameter._scalars import OptionalChoiceParameter as OptionalChoiceParameter
from trunkline.parameter._scalars import OptionalFloatParameter as OptionalFloatParameter
from trunkline.parameter._scalars import OptionalIntParameter as OptionalIntParameter
from trunkline.parameter._scalars import OptionalNumericalParameter as OptionalNumericalParameter
from trunkline.parameter._scalars import OptionalPathParameter as OptionalPathParameter
from trunkline.parameter._scalars import PathParameter as PathParameter
from trunkline.parameter._task import TaskParameter as TaskParameter

__all__ = sorted(
    name for name in dir() if not name.startswith("__") and name not in {"annotations"}
)

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("trunkline.parameter."):
        _obj.__module__ = __name__
del _name, _obj
