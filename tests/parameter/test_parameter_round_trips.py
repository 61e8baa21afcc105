"""Every parameter type: parse(serialize(x)) == normalize(x), for generated values."""

from __future__ import annotations

import datetime
import enum
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import trunkline as luigi
from trunkline import date_interval
from trunkline.parameter import OptionalIntParameter, OptionalParameter


class Shape(enum.Enum):
    CIRCLE = 1
    SQUARE = 2
    TRIANGLE = 3


def assert_round_trip(param: luigi.Parameter, value: object) -> None:
    normalized = param.normalize(value)
    assert param.normalize(param.parse(param.serialize(normalized))) == normalized


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2999, 12, 31))
datetimes = st.datetimes(min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2999, 12, 31))
json_scalars = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12)


@given(text)
def test_str_parameter_round_trips(value: str) -> None:
    assert_round_trip(luigi.Parameter(), value)
    assert_round_trip(luigi.StrParameter(), value)


@given(st.integers())
def test_int_parameter_round_trips(value: int) -> None:
    assert_round_trip(luigi.IntParameter(), value)


@given(st.floats(allow_nan=False))
def test_float_parameter_round_trips(value: float) -> None:
    assert_round_trip(luigi.FloatParameter(), value)


@given(st.booleans())
def test_bool_parameter_round_trips(value: bool) -> None:
    assert_round_trip(luigi.BoolParameter(), value)


@given(dates, st.integers(1, 30))
def test_date_parameter_round_trips_at_any_interval(value: datetime.date, interval: int) -> None:
    assert_round_trip(luigi.DateParameter(interval=interval), value)
    assert_round_trip(luigi.MonthParameter(), value)
    assert_round_trip(luigi.YearParameter(), value)


@given(datetimes)
def test_datetime_parameters_round_trip(value: datetime.datetime) -> None:
    for param in (luigi.DateHourParameter(), luigi.DateMinuteParameter(), luigi.DateSecondParameter()):
        assert_round_trip(param, value)


@given(dates, st.sampled_from(["year", "month", "week", "date", "custom"]), st.integers(1, 400))
def test_date_interval_parameter_round_trips(day: datetime.date, kind: str, length: int) -> None:
    year, week, _ = day.isocalendar()
    interval = {
        "year": lambda: date_interval.Year(day.year),
        "month": lambda: date_interval.Month(day.year, day.month),
        "week": lambda: date_interval.Week(year, week),
        "date": lambda: date_interval.Date(day.year, day.month, day.day),
        "custom": lambda: date_interval.Custom(day, day + datetime.timedelta(days=length)),
    }[kind]()
    assert_round_trip(luigi.DateIntervalParameter(), interval)


@given(st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=10**5)))
def test_time_delta_parameter_round_trips_whole_seconds(value: datetime.timedelta) -> None:
    value = datetime.timedelta(seconds=int(value.total_seconds()))
    assert_round_trip(luigi.TimeDeltaParameter(), value)


@given(json_values)
def test_list_and_dict_parameters_round_trip(value: object) -> None:
    assert_round_trip(luigi.ListParameter(), [value])
    assert_round_trip(luigi.DictParameter(), {"key": value})


@given(st.lists(st.lists(st.integers(), max_size=3), max_size=4))
def test_tuple_parameter_round_trips(value: list[list[int]]) -> None:
    assert_round_trip(luigi.TupleParameter(), tuple(tuple(v) for v in value))


@given(st.sampled_from(list(Shape)), st.lists(st.sampled_from(list(Shape)), max_size=4))
def test_enum_parameters_round_trip(one: Shape, many: list[Shape]) -> None:
    assert_round_trip(luigi.EnumParameter(enum=Shape), one)
    assert_round_trip(luigi.EnumListParameter(enum=Shape), tuple(many))


@given(st.sampled_from(["a", "b", "c"]), st.lists(st.sampled_from(["a", "b", "c"]), max_size=4))
def test_choice_parameters_round_trip(one: str, many: list[str]) -> None:
    assert_round_trip(luigi.ChoiceParameter(choices=["a", "b", "c"]), one)
    assert_round_trip(luigi.ChoiceListParameter(choices=["a", "b", "c"]), tuple(many))


@given(st.integers(-5, 4))
def test_numerical_parameter_round_trips_inside_its_range(value: int) -> None:
    assert_round_trip(luigi.NumericalParameter(var_type=int, min_value=-5, max_value=5), value)


@given(st.from_regex(r"[a-z0-9/_.-]{1,30}", fullmatch=True))
def test_path_parameter_round_trips(value: str) -> None:
    assert_round_trip(luigi.PathParameter(), Path(value))


@given(st.none() | text.filter(bool))
def test_optional_parameter_round_trips_none_as_empty(value: str | None) -> None:
    assert_round_trip(OptionalParameter(), value)


@given(st.none() | st.integers())
def test_optional_int_parameter_round_trips(value: int | None) -> None:
    assert_round_trip(OptionalIntParameter(), value)


def test_task_parameter_round_trips_through_the_family_name() -> None:
    class SomeTask(luigi.Task):
        pass

    param = luigi.TaskParameter()
    assert param.parse(param.serialize(SomeTask)) is SomeTask
