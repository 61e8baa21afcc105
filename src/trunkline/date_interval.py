"""Date intervals: a day, an ISO week, a month, a year, or any custom range.

An interval is half open, ``[date_a, date_b)``. Its string form is what
``DateIntervalParameter`` parses: ``2024``, ``2024-03``, ``2024-W09``,
``2024-03-05`` or ``2024-03-01-2024-03-15``.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator
from typing import Any


@functools.total_ordering
class DateInterval:
    """The dates from ``date_a`` (included) to ``date_b`` (excluded)."""

    def __init__(self, date_a: datetime.date, date_b: datetime.date) -> None:
        self.date_a = date_a
        self.date_b = date_b

    def dates(self) -> list[datetime.date]:
        count = (self.date_b - self.date_a).days
        return [self.date_a + datetime.timedelta(days=i) for i in range(max(0, count))]

    def hours(self) -> Iterator[datetime.datetime]:
        for date in self.dates():
            for hour in range(24):
                yield datetime.datetime.combine(date, datetime.time(hour))

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string()

    def prev(self) -> DateInterval:
        return self.from_date(self.date_a - datetime.timedelta(days=1))

    def next(self) -> DateInterval:
        return self.from_date(self.date_b)

    def to_string(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must define to_string()")

    @classmethod
    def from_date(cls, d: datetime.date) -> DateInterval:
        raise NotImplementedError(f"{cls.__name__} has no interval 'containing a date'")

    @classmethod
    def parse(cls, s: str) -> DateInterval | None:
        raise NotImplementedError(f"{cls.__name__} cannot be parsed")

    def __contains__(self, date: object) -> bool:
        return isinstance(date, datetime.date) and self.date_a <= date < self.date_b

    def __iter__(self) -> Iterator[datetime.date]:
        return iter(self.dates())

    def __hash__(self) -> int:
        return hash(repr(self))

    def _same_kind(self, other: Any) -> None:
        if not isinstance(self, type(other)):
            raise TypeError(
                f"Date interval type mismatch: cannot compare {type(self).__name__} with {type(other).__name__}"
            )

    def __lt__(self, other: Any) -> bool:
        self._same_kind(other)
        return (self.date_a, self.date_b) < (other.date_a, other.date_b)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DateInterval):
            return False
        self._same_kind(other)
        return (self.date_a, self.date_b) == (other.date_a, other.date_b)


class Date(DateInterval):
    def __init__(self, y: int, m: int, d: int) -> None:
        day = datetime.date(y, m, d)
        super().__init__(day, day + datetime.timedelta(days=1))

    def to_string(self) -> str:
        return self.date_a.strftime("%Y-%m-%d")

    @classmethod
    def from_date(cls, d: datetime.date) -> Date:
        return Date(d.year, d.month, d.day)

    @classmethod
    def parse(cls, s: str) -> Date | None:
        if re.match(r"\d\d\d\d-\d\d-\d\d$", s):
            return Date(*map(int, s.split("-")))
        return None


class Week(DateInterval):
    """An ISO week (Monday to Sunday), written ``2024-W09``."""

    def __init__(self, y: int, w: int) -> None:
        try:
            monday = datetime.date.fromisocalendar(y, w, 1)
        except ValueError:
            raise ValueError(f"Invalid week: {y}-W{w:02d}") from None
        super().__init__(monday, monday + datetime.timedelta(days=7))

    def to_string(self) -> str:
        year, week, _ = self.date_a.isocalendar()
        return f"{year}-W{week:02d}"

    @classmethod
    def from_date(cls, d: datetime.date) -> Week:
        year, week, _ = d.isocalendar()
        return Week(year, week)

    @classmethod
    def parse(cls, s: str) -> Week | None:
        if re.match(r"\d\d\d\d-W\d\d$", s):
            y, w = map(int, s.split("-W"))
            return Week(y, w)
        return None


class Month(DateInterval):
    def __init__(self, y: int, m: int) -> None:
        super().__init__(datetime.date(y, m, 1), datetime.date(y + m // 12, 1 + m % 12, 1))

    def to_string(self) -> str:
        return self.date_a.strftime("%Y-%m")

    @classmethod
    def from_date(cls, d: datetime.date) -> Month:
        return Month(d.year, d.month)

    @classmethod
    def parse(cls, s: str) -> Month | None:
        if re.match(r"\d\d\d\d-\d\d$", s):
            y, m = map(int, s.split("-"))
            return Month(y, m)
        return None


class Year(DateInterval):
    def __init__(self, y: int) -> None:
        super().__init__(datetime.date(y, 1, 1), datetime.date(y + 1, 1, 1))

    def to_string(self) -> str:
        return self.date_a.strftime("%Y")

    @classmethod
    def from_date(cls, d: datetime.date) -> Year:
        return Year(d.year)

    @classmethod
    def parse(cls, s: str) -> Year | None:
        if re.match(r"\d\d\d\d$", s):
            return Year(int(s))
        return None


class Custom(DateInterval):
    """Any range, written ``2024-03-01-2024-03-15``; it has no prev() or next()."""

    def to_string(self) -> str:
        return "-".join(d.strftime("%Y-%m-%d") for d in (self.date_a, self.date_b))

    @classmethod
    def parse(cls, s: str) -> Custom | None:
        if re.match(r"\d\d\d\d-\d\d-\d\d-\d\d\d\d-\d\d-\d\d$", s):
            parts = list(map(int, s.split("-")))
            return Custom(datetime.date(*parts[:3]), datetime.date(*parts[3:]))
        return None
