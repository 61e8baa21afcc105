"""Task classes and parameter sets whose ids must match Luigi 3.8.1's.

Written once against the Luigi API; ``make_task_id_vectors.py`` builds them with
real Luigi to record the expected ids, and ``test_task_ids.py`` builds the same
with trunkline. ``define(luigi)`` returns {case name: task} for either engine.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def define(luigi: Any) -> dict[str, Any]:
    class NoParams(luigi.Task):
        pass

    class Scalars(luigi.Task):
        s = luigi.Parameter()
        i = luigi.IntParameter()
        f = luigi.FloatParameter()
        b = luigi.BoolParameter()

    class Dates(luigi.Task):
        d = luigi.DateParameter()
        m = luigi.MonthParameter()
        y = luigi.YearParameter()
        h = luigi.DateHourParameter()
        mi = luigi.DateMinuteParameter()
        sec = luigi.DateSecondParameter()

    class Intervals(luigi.Task):
        interval = luigi.DateIntervalParameter()
        delta = luigi.TimeDeltaParameter()

    class Collections(luigi.Task):
        lst = luigi.ListParameter()
        tup = luigi.TupleParameter()
        dct = luigi.DictParameter()

    class Choices(luigi.Task):
        choice = luigi.ChoiceParameter(choices=["a", "b"])
        many = luigi.ChoiceListParameter(choices=["x", "y", "z"])
        color = luigi.EnumParameter(enum=Color)
        colors = luigi.EnumListParameter(enum=Color)
        num = luigi.NumericalParameter(var_type=int, min_value=0, max_value=100)

    class Visibility(luigi.Task):
        public = luigi.Parameter()
        hidden = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.HIDDEN)
        private = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.PRIVATE)
        insignificant = luigi.Parameter(significant=False)

    class Optionals(luigi.Task):
        o = luigi.OptionalParameter()
        oi = luigi.OptionalIntParameter()

    class Many(luigi.Task):
        a = luigi.Parameter()
        b = luigi.Parameter()
        c = luigi.Parameter()
        d = luigi.Parameter()

    class Paths(luigi.Task):
        p = luigi.PathParameter()

    class Named(luigi.Task):
        task_namespace = "my.space"
        x = luigi.IntParameter()

    day = datetime.date(2024, 2, 29)
    moment = datetime.datetime(2024, 2, 29, 13, 5, 59)
    return {
        "no params": NoParams(),
        "scalars": Scalars(s="hello world", i=-42, f=2.5, b=True),
        "scalars false": Scalars(s="", i=0, f=0.0, b=False),
        "unicode": Scalars(s="héllo ✓ 日本", i=1, f=1e-9, b=False),
        "long value": Scalars(s="x" * 200, i=10**12, f=3.14159, b=True),
        "punctuation": Scalars(s="a/b:c-d.e f,g", i=7, f=-0.5, b=True),
        "dates": Dates(d=day, m=day, y=day, h=moment, mi=moment, sec=moment),
        "interval year": Intervals(interval=luigi.date_interval.Year(2024), delta=datetime.timedelta(days=1)),
        "interval week": Intervals(interval=luigi.date_interval.Week(2024, 9), delta=datetime.timedelta(hours=5)),
        "interval custom": Intervals(
            interval=luigi.date_interval.Custom(datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)),
            delta=datetime.timedelta(weeks=2, seconds=7),
        ),
        "collections": Collections(lst=[1, 2, [3, 4]], tup=((1, 2), (3, 4)), dct={"b": 1, "a": [1, 2], "c": {"d": None}}),
        "empty collections": Collections(lst=[], tup=(), dct={}),
        "choices": Choices(choice="b", many=("z", "x"), color=Color.BLUE, colors=(Color.RED, Color.BLUE), num=99),
        "visibility": Visibility(public="p", hidden="h", private="secret", insignificant="i"),
        "optionals none": Optionals(o=None, oi=None),
        "optionals set": Optionals(o="x", oi=5),
        "four params": Many(a="1", b="2", c="3", d="4"),
        "four params long": Many(a="a" * 30, b="b" * 30, c="c" * 30, d="d" * 30),
        "path": Paths(p="/data/in put"),
        "namespace": Named(x=3),
    }
