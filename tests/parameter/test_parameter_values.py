"""How parameters get their values, and what users see when a value is wrong."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

import trunkline as luigi
from trunkline.configuration import get_config
from trunkline.parameter import (
    DuplicateParameterException,
    MissingParameterException,
    ParameterException,
    UnknownParameterException,
)

@pytest.fixture
def config_section() -> Iterator:
    """Set keys in a config section for one test, removing them after."""
    config = get_config()
    added: list[tuple[str, str]] = []

    def set_value(section: str, key: str, value: str) -> None:
        config.set(section, key, value)
        added.append((section, key))

    yield set_value
    for section, key in added:
        config.remove_option(section, key)


def test_missing_parameter_error_names_the_task_and_the_parameter() -> None:
    class Needs(luigi.Task):
        day = luigi.DateParameter()

    with pytest.raises(MissingParameterException, match=r"Needs\[args=\(\), kwargs=\{\}\]: requires the 'day' parameter to be set"):
        Needs()


def test_unknown_and_duplicate_parameters_are_named() -> None:
    class One(luigi.Task):
        x = luigi.IntParameter()

    with pytest.raises(UnknownParameterException, match="unknown parameter y"):
        One(x=1, y=2)
    with pytest.raises(UnknownParameterException, match="takes at most 1 parameters \\(2 given\\)"):
        One(1, 2)
    with pytest.raises(DuplicateParameterException, match="parameter x was already set as a positional parameter"):
        One(1, x=1)


def test_config_section_named_after_the_family_gives_defaults(config_section) -> None:
    class Aggregate(luigi.Task):
        window = luigi.IntParameter()
        start = luigi.DateParameter(default=datetime.date(2020, 1, 1))

    config_section("Aggregate", "window", "14")
    config_section("Aggregate", "start", "2024-03-01")
    task = Aggregate()
    assert task.window == 14
    assert task.start == datetime.date(2024, 3, 1)
    assert Aggregate(window=3).window == 3  # an explicit value wins


def test_dashed_config_keys_are_still_read(config_section) -> None:
    class Dashed(luigi.Task):
        batch_size = luigi.IntParameter()

    config_section("Dashed", "batch-size", "5")
    with pytest.warns(DeprecationWarning):
        assert Dashed().batch_size == 5


def test_unparsable_config_default_names_the_parameter(config_section) -> None:
    class Strict(luigi.Task):
        n = luigi.IntParameter()

    config_section("Strict", "n", "not-a-number")
    with pytest.raises(ValueError, match="Error when parsing the default value of 'n'"):
        Strict()


def test_choice_numerical_and_bool_errors_say_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="d is not a valid choice from"):
        luigi.ChoiceParameter(choices=["a", "b"]).parse("d")
    with pytest.raises(ValueError, match="11 is not in the set of int in \\[0, 10\\)"):
        luigi.NumericalParameter(var_type=int, min_value=0, max_value=10).parse("11")
    with pytest.raises(ValueError, match="cannot interpret 'maybe' as boolean"):
        luigi.BoolParameter().parse("maybe")
    with pytest.raises(ParameterException, match="Invalid time delta"):
        luigi.TimeDeltaParameter().parse("soon")
    with pytest.raises(ValueError, match="Invalid date interval"):
        luigi.DateIntervalParameter().parse("2024-13-45-x")


def test_time_delta_accepts_seconds_iso_and_simple_forms() -> None:
    param = luigi.TimeDeltaParameter()
    assert param.parse("90") == datetime.timedelta(seconds=90)
    assert param.parse("P1DT2H") == datetime.timedelta(days=1, hours=2)
    assert param.parse("P2W") == datetime.timedelta(weeks=2)
    assert param.parse("1 w 2 d 3 h 4 m 5 s") == datetime.timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)
    assert param.parse("3 days") == datetime.timedelta(days=3)
    assert param.serialize(datetime.timedelta(days=9, seconds=3661)) == "1 w 2 d 1 h 1 m 1 s"


def test_dates_snap_to_their_interval() -> None:
    weekly = luigi.DateParameter(interval=7, start=datetime.date(2024, 1, 1))
    assert weekly.normalize(datetime.date(2024, 1, 10)) == datetime.date(2024, 1, 8)
    assert luigi.MonthParameter().normalize(datetime.date(2024, 3, 17)) == datetime.date(2024, 3, 1)
    assert luigi.DateHourParameter().normalize(datetime.datetime(2024, 3, 1, 13, 45)) == datetime.datetime(2024, 3, 1, 13)


def test_list_and_dict_values_are_frozen_so_tasks_stay_hashable() -> None:
    class Holder(luigi.Task):
        items = luigi.ListParameter()
        options = luigi.DictParameter()

    task = Holder(items=[1, [2, 3]], options={"a": {"b": 1}})
    assert task.items == (1, (2, 3))
    assert task.options["a"]["b"] == 1
    hash(task)
    with pytest.raises(TypeError):
        task.options["a"] = 2  # type: ignore[index]


def test_bool_parameter_defaults_to_false_and_parses_any_case() -> None:
    class Flagged(luigi.Task):
        on = luigi.BoolParameter()

    assert Flagged().on is False
    assert luigi.BoolParameter().parse("TRUE") is True


def test_hidden_and_private_parameters_stay_out_of_the_id_and_the_scheduler() -> None:
    Visibility = luigi.parameter.ParameterVisibility

    class Secretive(luigi.Task):
        name = luigi.Parameter()
        token = luigi.Parameter(visibility=Visibility.PRIVATE)
        note = luigi.Parameter(visibility=Visibility.HIDDEN)

    a = Secretive(name="n", token="t1", note="x")
    b = Secretive(name="n", token="t2", note="y")
    assert a.task_id == b.task_id
    assert "token" not in a.to_str_params()
    assert a.to_str_params() == {"name": "n", "note": "x"}
    assert a._get_param_visibilities() == {"name": 0, "note": 1}
