"""``luigi.run()`` callers catch Luigi's exception classes for bad command lines."""

from __future__ import annotations

import pytest

import trunkline as luigi
from trunkline.cmdline_parser import CommandLineError
from trunkline.parameter import MissingParameterException


class NeedsADay(luigi.Task):
    day = luigi.DateParameter()


def test_a_missing_parameter_is_both_a_command_line_error_and_missing_parameter_exception() -> None:
    with pytest.raises(MissingParameterException) as caught:
        luigi.run(["NeedsADay", "--local-scheduler", "--no-lock"])
    assert isinstance(caught.value, CommandLineError)
    assert "day" in str(caught.value)


class TakesATask(luigi.Task):
    task_namespace = "keepclasses"
    other = luigi.TaskParameter()


def test_an_unknown_task_parameter_value_raises_task_class_not_found() -> None:
    # Luigi lets TaskParameter.parse's exception through luigi.run; callers catch it
    with pytest.raises(luigi.task_register.TaskClassNotFoundException) as caught:
        luigi.run(["keepclasses.TakesATask", "--other", "NoSuchTask", "--local-scheduler", "--no-lock"])
    assert isinstance(caught.value, CommandLineError)
    assert "NoSuchTask" in str(caught.value)
