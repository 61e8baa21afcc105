"""Dates, date-times, date intervals and time deltas."""

from __future__ import annotations

import datetime
import re
from typing import Any

from trunkline import date_interval
from trunkline._parameter._base import Parameter, _no_value, _shell

_UNIX_EPOCH = datetime.datetime(1970, 1, 1)


class _DateParameterBase(Parameter[datetime.date]):
    """A date snapped to ``interval`` days (or months/years) counted from ``start``."""

    date_format = "%Y-%m-%d"

    def __init__(
        self,
        default: Any = _no_value,
        interval: int = 1,
        start: datetime.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(default=default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _UNIX_EPOCH.date()

    def parse(self, s: Any) -> datetime.date:
        return datetime.datetime.strptime(str(s), self.date_format).date()

    def serialize(self, dt: Any) -> str:
        return str(dt) if dt is None else dt.strftime(self.date_format)


class DateParameter(_DateParameterBase):
    date_format = "%Y-%m-%d"

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value + datetime.timedelta(days=self.interval)

    def normalize(self, x: Any) -> datetime.date | None:
        if x is None:
            return None
        if isinstance(x, datetime.datetime):
            x = x.date()
        return x - datetime.timedelta(days=(x - self.start).days % self.interval)  # type: ignore[no-any-return]


class MonthParameter(DateParameter):
    date_format = "%Y-%m"

    @staticmethod
    def _add_months(date: datetime.date, months: int) -> datetime.date:
        year = date.year + (date.month + months - 1) // 12
        month = (date.month + months - 1) % 12 + 1
        return datetime.date(year, month, 1)

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return self._add_months(value, self.interval)

    def normalize(self, x: Any) -> datetime.date | None:
        if x is None:
            return None
        if isinstance(x, date_interval.Month):
            x = x.date_a
        months = (x.year - self.start.year) * 12 + (x.month - self.start.month)
        months -= months % self.interval
        return self._add_months(self.start, months)


class YearParameter(DateParameter):
    date_format = "%Y"

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value.replace(year=value.year + self.interval)

    def normalize(self, x: Any) -> datetime.date | None:
        if x is None:
            return None
        if isinstance(x, date_interval.Year):
            x = x.date_a
        delta = (x.year - self.start.year) % self.interval
        return datetime.date(x.year - delta, 1, 1)


class _DatetimeParameterBase(Parameter[datetime.datetime]):
    """A date-time snapped to ``interval`` units counted from ``start`` (the epoch)."""

    date_format = "%Y-%m-%dT%H"
    _timedelta = datetime.timedelta(hours=1)

    def __init__(
        self,
        default: Any = _no_value,
        interval: int = 1,
        start: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(default=default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _UNIX_EPOCH

    def parse(self, s: Any) -> datetime.datetime:
        return datetime.datetime.strptime(str(s), self.date_format)

    def serialize(self, dt: Any) -> str:
        return str(dt) if dt is None else dt.strftime(self.date_format)

    @staticmethod
    def _convert_to_dt(dt: Any) -> datetime.datetime:
        if not isinstance(dt, datetime.datetime):
            return datetime.datetime.combine(dt, datetime.time.min)
        return dt

    def normalize(self, dt: Any) -> datetime.datetime | None:
        if dt is None:
            return None
        dt = self._convert_to_dt(dt).replace(microsecond=0)
        delta = (dt - self.start).total_seconds()
        granularity = (self._timedelta * self.interval).total_seconds()
        return dt - datetime.timedelta(seconds=delta % granularity)  # type: ignore[no-any-return]

    def next_in_enumeration(self, value: datetime.datetime) -> datetime.datetime:
        return value + self._timedelta * self.interval


class DateHourParameter(_DatetimeParameterBase):
    date_format = "%Y-%m-%dT%H"
    _timedelta = datetime.timedelta(hours=1)


class DateMinuteParameter(_DatetimeParameterBase):
    date_format = "%Y-%m-%dT%H%M"
    _timedelta = datetime.timedelta(minutes=1)
    deprecated_date_format = "%Y-%m-%dT%HH%M"

    def parse(self, x: Any) -> datetime.datetime:
        try:
            value = datetime.datetime.strptime(str(x), self.deprecated_date_format)
        except ValueError:
            return super().parse(x)
        _shell().warnings.warn(
            'Using "H" between hours and minutes is deprecated, omit it instead.',
            DeprecationWarning,
            stacklevel=2,
        )
        return value


class DateSecondParameter(_DatetimeParameterBase):
    date_format = "%Y-%m-%dT%H%M%S"
    _timedelta = datetime.timedelta(seconds=1)


class DateIntervalParameter(Parameter[date_interval.DateInterval]):
    """A year, month, ISO week, day or custom range (see :mod:`trunkline.date_interval`)."""

    def parse(self, x: Any) -> date_interval.DateInterval:
        text = str(x)
        for kind in (
            date_interval.Year,
            date_interval.Month,
            date_interval.Week,
            date_interval.Date,
            date_interval.Custom,
        ):
            interval = kind.parse(text)
            if interval:
                return interval
        raise ValueError(
            f"Invalid date interval - could not be parsed: {text!r} "
            "(expected YYYY, YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD-YYYY-MM-DD)"
        )


_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_ISO_8601 = re.compile(
    r"P((?P<weeks>\d+)W|((?P<days>\d+)D)?(T((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+)S)?)?)$"
)
_SIMPLE = re.compile(
    "".join(rf"((?P<{unit}>\d+) ?{unit[0]}({unit[1:-1]})?({unit[-1]})? ?)?" for unit in _UNITS) + "$"
)


class TimeDeltaParameter(Parameter[datetime.timedelta]):
    """A duration: seconds (``90``), ISO 8601 (``P1DT2H``) or ``1 w 2 d 3 h 4 m 5 s``."""

    @staticmethod
    def _from_match(match: re.Match[str] | None) -> datetime.timedelta | None:
        if match is None or not any(match.groups()):
            return None
        parts = {k: int(v) for k, v in match.groupdict(default="0").items() if k in _UNITS}
        return datetime.timedelta(**parts)

    def parse(self, x: Any) -> datetime.timedelta:
        if isinstance(x, datetime.timedelta):
            return x
        try:
            return datetime.timedelta(seconds=float(x))
        except (TypeError, ValueError):
            pass
        text = str(x).strip()
        result = self._from_match(_ISO_8601.match(text)) or self._from_match(_SIMPLE.match(text))
        if result is None:
            raise _shell().ParameterException(f"Invalid time delta - could not parse {x}")
        return result

    def serialize(self, x: datetime.timedelta) -> str:
        weeks, days = divmod(x.days, 7)
        hours, rest = divmod(x.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{weeks} w {days} d {hours} h {minutes} m {seconds} s"

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if type(self) is TimeDeltaParameter and not isinstance(param_value, datetime.timedelta):
            _shell().warnings.warn(
                f'Parameter "{param_name}" with value "{param_value}" is not of type timedelta.'
            )
