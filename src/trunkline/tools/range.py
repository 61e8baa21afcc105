"""Range tasks: "make sure every day (hour, minute, month) in a window is done".

    trunkline --module m RangeDaily --of AggregationTask --start 2024-01-01

A range requires the missing instances of ``of`` in the window
``[max(start, now - back), min(stop, now + forward))``, at most ``task_limit``
of them (oldest first, newest first with ``reverse``). Finding what is missing
must be cheap, because cron runs it every minute over months of dates:

1. ``of.bulk_complete(parameters)`` when the task class implements it;
2. otherwise, when the outputs are files, one listing per output location (the
   deepest directory common to all its paths) instead of one ``exists()`` per
   date;
3. otherwise, each instance's ``complete()``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
import functools
import itertools
import logging
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from trunkline.event import Event
from trunkline.parameter import (
    BoolParameter,
    DateHourParameter,
    DateMinuteParameter,
    DateParameter,
    DictParameter,
    IntParameter,
    MonthParameter,
    OptionalIntParameter,
    OptionalParameter,
    ParameterException,
    TaskParameter,
)
from trunkline.target import FileSystemTarget
from trunkline.task_register import Register as Register
from trunkline.task import BulkCompleteNotImplementedError, Task, WrapperTask, flatten_output

logger = logging.getLogger("luigi-interface")


class RangeEvent(Event):
    COMPLETE_COUNT = "event.tools.range.complete.count"
    COMPLETE_FRACTION = "event.tools.range.complete.fraction"
    DELAY = "event.tools.range.delay"


class RangeBase(WrapperTask):
    """Requires the missing instances of ``of`` over a moving window of time."""

    of = TaskParameter(description="The task to complete over the range; it takes one date-like parameter")
    of_params = DictParameter(default={}, description="Other arguments for the 'of' task")
    start: Any = None
    stop: Any = None
    reverse = BoolParameter(default=False, description="Catch up from the newest missing instance backwards")
    task_limit = IntParameter(default=50, description="Most instances to require in one run")
    now = OptionalIntParameter(default=None, description="Current time in seconds since the epoch (default: now)")
    param_name = OptionalParameter(
        default=None, positional=False, description="The parameter of 'of' to vary (default: its first positional one)"
    )

    # -- what each kind of range defines ----------------------------------------------
    def datetime_to_parameter(self, dt: datetime) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define datetime_to_parameter")

    def parameter_to_datetime(self, p: Any) -> datetime:
        raise NotImplementedError(f"{type(self).__name__} must define parameter_to_datetime")

    def moving_start(self, now: datetime) -> datetime:
        raise NotImplementedError(f"{type(self).__name__} must define moving_start")

    def moving_stop(self, now: datetime) -> datetime:
        raise NotImplementedError(f"{type(self).__name__} must define moving_stop")

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        raise NotImplementedError(f"{type(self).__name__} must define finite_datetimes")

    def _format_datetime(self, dt: datetime) -> Any:
        return self.datetime_to_parameter(dt)

    def _format_range(self, datetimes: list[datetime]) -> str:
        """"[first, last]" in the parameter's own spelling, for log lines."""
        return f"[{self._format_datetime(datetimes[0])}, {self._format_datetime(datetimes[-1])}]"

    # -- shared machinery -----------------------------------------------------------------
    @property
    def of_cls(self) -> Any:
        return self.of

    @property
    def _param_name(self) -> str:
        if self.param_name is not None:
            return str(self.param_name)
        for name, param in self.of.get_params():
            if param.positional:
                return str(name)
        raise ParameterException(f"{self.of.get_task_family()} has no positional parameter to range over")

    def _task_parameters(self, value: Any) -> dict[str, Any]:
        return {**self.of_params, self._param_name: value}

    def _instantiate_task_cls(self, value: Any) -> Task:
        return self.of(**self._task_parameters(value))  # type: ignore[no-any-return]

    def _window(self) -> tuple[list[datetime], datetime, datetime]:
        if not self.start and not self.stop:
            raise ParameterException("At least one of start and stop needs to be specified")
        if not self.start and not self.reverse:
            raise ParameterException("Either start needs to be specified or reverse needs to be True")
        if self.start and self.stop and self.start > self.stop:
            raise ParameterException(f"Can't have start > stop ({self.start} > {self.stop})")
        seconds = time.time() if self.now is None else self.now
        now = datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)
        moving_start, moving_stop = self.moving_start(now), self.moving_stop(now)
        start = moving_start if self.start is None else max(self.parameter_to_datetime(self.start), moving_start)
        stop = moving_stop if self.stop is None else min(self.parameter_to_datetime(self.stop), moving_stop)
        return (self.finite_datetimes(start, stop) if start <= stop else []), start, stop

    def requires(self) -> list[Task]:
        cached = self.__dict__.get("_cached_requires")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        datetimes, finite_start, finite_stop = self._window()
        family = self.of.get_task_family()
        if datetimes:
            logger.debug("Actually checking if range %s of %s is complete", self._format_range(datetimes), family)
            missing = sorted(self._missing_datetimes(datetimes))
            logger.debug(
                "Range %s lacked %d of expected %d %s instances",
                self._format_range(datetimes), len(missing), len(datetimes), family,
            )
        else:
            missing = []
            logger.debug("Empty range. No %s instances expected", family)
        self._emit_metrics(missing, finite_start, finite_stop)
        chosen = missing[-self.task_limit :] if self.reverse else missing[: self.task_limit]
        if self.reverse:
            chosen.reverse()
        if chosen:
            logger.debug("Requiring %d missing %s instances", len(chosen), self.of.get_task_family())
        requires = [self._instantiate_task_cls(self.datetime_to_parameter(d)) for d in chosen]
        self.__dict__["_cached_requires"] = requires
        return requires

    def _missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        # Subclasses written for old Luigi define missing_datetimes(task_cls, finite_datetimes).
        try:
            return self.missing_datetimes(finite_datetimes)
        except TypeError as exc:
            if "missing_datetimes()" not in repr(exc):
                raise
            warnings.warn(
                "In your Range* subclass, missing_datetimes() should only take 1 argument "
                "(finite_datetimes)",
                stacklevel=2,
            )
            return self.missing_datetimes(self.of_cls, finite_datetimes)  # type: ignore[call-arg]

    def _emit_metrics(self, missing: list[datetime], finite_start: datetime, finite_stop: datetime) -> None:
        # Counted over the whole configured range where it is bounded (start/stop beyond the
        # moving window), as Luigi reports them: the window alone would under-report delay.
        datetimes = self.finite_datetimes(
            finite_start if self.start is None else min(finite_start, self.parameter_to_datetime(self.start)),
            finite_stop if self.stop is None else max(finite_stop, self.parameter_to_datetime(self.stop)),
        )
        family = self.of.get_task_family()
        delay = len(datetimes) - datetimes.index(missing[0]) if datetimes and missing else 0
        self.trigger_event(RangeEvent.DELAY, family, delay)
        complete = len(datetimes) - len(missing)
        self.trigger_event(RangeEvent.COMPLETE_COUNT, family, complete)
        self.trigger_event(RangeEvent.COMPLETE_FRACTION, family, complete / len(datetimes) if datetimes else 1.0)

    def missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        """The instants whose instance is not complete (base class: one complete() each)."""
        return [d for d in finite_datetimes if not self._instantiate_task_cls(self.datetime_to_parameter(d)).complete()]

    def _missing_in_bulk(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        """bulk_complete, else one listing per output location, else one complete() each."""
        try:
            with_params = functools.partial(self.of, **self.of_params)
            done = self.of.bulk_complete.__func__(with_params, [self.datetime_to_parameter(d) for d in finite_datetimes])
            return set(finite_datetimes) - {self.parameter_to_datetime(p) for p in done}
        except (BulkCompleteNotImplementedError, NotImplementedError):
            pass
        try:
            return infer_bulk_complete_from_fs(
                finite_datetimes, lambda d: self._instantiate_task_cls(self.datetime_to_parameter(d))
            )
        except NotImplementedError as exc:
            logger.info("Checking each %s instance on its own: %s", self.of.get_task_family(), exc)
            return RangeBase.missing_datetimes(self, finite_datetimes)


def _constrain_glob(glob: str, paths: list[str], limit: int = 5) -> list[str]:
    """Narrow ``glob``'s leading ``[0-9]`` wildcards to the digits ``paths`` really use.

    The result is a few globs that together still match every path, so a listing does not
    walk years of unrelated history. Narrowing stops once more than ``limit`` digit choices
    would be needed at one position; that position then becomes a character class.
    """
    groups: dict[str, list[str]] = {glob: list(paths)}
    while True:
        position = next(iter(groups)).find("[0-9]")
        if position < 0:
            return list(groups)
        digits = {g: sorted({p[position] for p in members}) for g, members in groups.items()}
        if sum(len(d) for d in digits.values()) > limit:
            return [g.replace("[0-9]", _digit_class(digits[g]), 1) for g in groups]
        narrowed: dict[str, list[str]] = {}
        for g, members in groups.items():
            for digit in digits[g]:
                narrowed[g.replace("[0-9]", digit, 1)] = [p for p in members if p[position] == digit]
        groups = narrowed


def _digit_class(digits: list[str]) -> str:
    # "[1-5]" for a run of consecutive digits, else the digits listed: "[137]".
    if len(digits) > 1 and ord(digits[-1]) - ord(digits[0]) == len(digits) - 1:
        return f"[{digits[0]}-{digits[-1]}]"
    return "[" + "".join(digits) + "]"


def most_common(items: Iterable[Any]) -> tuple[Any, int]:
    """The most frequent item and how often it occurs."""
    [(item, count)] = Counter(items).most_common(1)
    return item, count


def _get_per_location_glob(tasks: list[Task], outputs: tuple[Any, ...], regexes: list[re.Pattern[str]]) -> str:
    """A glob over the parent directories of one output location, date digits wildcarded."""
    paths = [o.path for o in outputs]
    matches = [regex.search(path) for regex, path in zip(regexes, paths)]
    for match, path, task in zip(matches, paths, tasks):
        if match is None:
            raise NotImplementedError(f"Couldn't deduce datehour representation in output path {path!r} of task {task}")
    found = [m for m in matches if m is not None]
    # Where each date field sits in most sample paths; a stray number elsewhere loses the vote.
    spans = [most_common((m.start(i), m.end(i)) for m in found)[0] for i in range(1, len(found[0].groups()) + 1)]
    chars = list(paths[0])
    for start, end in spans:
        chars[start:end] = ["[0-9]"] * (end - start)
    return "".join(chars).rsplit("/", 1)[0]


def _get_filesystems_and_globs(
    datetime_to_task: Callable[[datetime], Task], datetime_to_re: Callable[[datetime], str]
) -> Iterator[tuple[Any, str]]:
    """One (filesystem, glob) per output location of the task, learnt from sample dates."""
    # Dates scattered enough that their digits cannot all appear in a path by accident.
    samples = [
        datetime(y, m, d, h)
        for y in range(2000, 2050, 10)
        for m in range(1, 4)
        for d in range(5, 8)
        for h in range(21, 24)
    ]
    regexes = [re.compile(datetime_to_re(d)) for d in samples]
    tasks = [datetime_to_task(d) for d in samples]
    outputs = [flatten_output(t) for t in tasks]
    for task_outputs, task in zip(outputs, tasks):
        if len(task_outputs) != len(outputs[0]):
            raise NotImplementedError(
                f"Outputs must be consistent over time; was {task_outputs!r} for {task!r} and "
                f"{outputs[0]!r} for {tasks[0]!r}"
            )
        for target in task_outputs:
            if not isinstance(target, FileSystemTarget):
                raise NotImplementedError(f"Output targets must be instances of FileSystemTarget; was {target!r} for {task!r}")
    for location in zip(*outputs):
        yield location[0].fs, _get_per_location_glob(tasks, location, regexes)


def _list_existing(filesystem: Any, glob: str, paths: list[str]) -> set[str]:
    """The paths under ``glob`` (narrowed to ``paths``' digits) that exist on ``filesystem``."""
    globs = _constrain_glob(glob, paths)
    started = time.time()
    listing: list[str] = []
    for g in sorted(globs):
        logger.debug("Listing %s", g)
        if filesystem.exists(g):
            listing.extend(filesystem.listdir(g))
    logger.debug(
        "%d %s listings took %f s to return %d items",
        len(globs), type(filesystem).__name__, time.time() - started, len(listing),
    )
    return set(listing)


def _common_directory(paths: list[str]) -> str:
    return os.path.commonpath([os.path.dirname(p) or "." for p in paths])


def infer_bulk_complete_from_fs(
    datetimes: list[datetime], datetime_to_task: Callable[[datetime], Task]
) -> list[datetime]:
    """The datetimes whose output files are not all present, by listing directories.

    Each output location (first output, second output, ...) is listed once when
    its paths in the window share a directory (``data/2024-05-01.csv``); when
    the date is in the directories (``data/2024/05/01/part.csv``), each of the
    window's directories is listed instead, so data outside the window is never
    walked.
    """
    outputs_by_datetime = [flatten_output(datetime_to_task(d)) for d in datetimes]
    if not outputs_by_datetime:
        return []
    width = len(outputs_by_datetime[0])
    for outputs in outputs_by_datetime:
        if len(outputs) != width:
            raise NotImplementedError("the number of outputs changes from one date to another")
        for output in outputs:
            if not isinstance(output, FileSystemTarget):
                raise NotImplementedError(f"output {output!r} is not a file (FileSystemTarget)")
    present: set[str] = set()
    for location in range(width):
        targets = [outputs[location] for outputs in outputs_by_datetime]
        fs = targets[0].fs
        parents = sorted({os.path.dirname(os.path.normpath(t.path)) or "." for t in targets})
        directories = parents if len(parents) > 1 else [_common_directory([t.path for t in targets])]
        for directory in directories:
            if fs.exists(directory):
                present.update(os.path.normpath(p) for p in fs.listdir(directory))
    return [
        d
        for d, outputs in zip(datetimes, outputs_by_datetime)
        if not all(os.path.normpath(o.path) in present for o in outputs)
    ]


def _count_from(start: datetime, step: Callable[[int], datetime], stop: datetime) -> list[datetime]:
    instants: list[datetime] = []
    for i in itertools.count():
        instant = step(i)
        if instant >= stop:
            return instants
        if instant >= start:
            instants.append(instant)
    return instants


class RangeDailyBase(RangeBase):
    start = DateParameter(default=None, description="First date, inclusive (default: unbounded, needs reverse)")
    stop = DateParameter(default=None, description="Last date, exclusive (default: unbounded)")
    days_back = IntParameter(default=100, description="How many days back from now the range reaches")
    days_forward = IntParameter(default=0, description="How many days ahead of now the range reaches")

    def datetime_to_parameter(self, dt: datetime) -> date:
        return dt.date()

    def parameter_to_datetime(self, p: date) -> datetime:
        return datetime(p.year, p.month, p.day)

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(days=self.days_forward)

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        first = datetime(finite_start.year, finite_start.month, finite_start.day)
        return _count_from(finite_start, lambda i: first + timedelta(days=i), finite_stop)


class RangeDaily(RangeDailyBase):
    """A RangeDailyBase that finds missing dates in bulk (bulk_complete or one listing)."""

    def missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        return self._missing_in_bulk(finite_datetimes)


class RangeHourlyBase(RangeBase):
    start = DateHourParameter(default=None, description="First hour, inclusive")
    stop = DateHourParameter(default=None, description="Last hour, exclusive")
    hours_back = IntParameter(default=100 * 24, description="How many hours back from now the range reaches")
    hours_forward = IntParameter(default=0, description="How many hours ahead of now the range reaches")

    def _format_datetime(self, dt: datetime) -> Any:
        return DateHourParameter().serialize(dt)

    def datetime_to_parameter(self, dt: datetime) -> datetime:
        return dt

    def parameter_to_datetime(self, p: datetime) -> datetime:
        return p

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(hours=self.hours_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(hours=self.hours_forward)

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        first = finite_start.replace(minute=0, second=0, microsecond=0)
        return _count_from(finite_start, lambda i: first + timedelta(hours=i), finite_stop)


class RangeHourly(RangeHourlyBase):
    def missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        return self._missing_in_bulk(finite_datetimes)


class RangeByMinutesBase(RangeBase):
    start = DateMinuteParameter(default=None, description="First minute, inclusive")
    stop = DateMinuteParameter(default=None, description="Last minute, exclusive")
    minutes_back = IntParameter(default=60 * 24, description="How many minutes back from now the range reaches")
    minutes_forward = IntParameter(default=0, description="How many minutes ahead of now the range reaches")
    minutes_interval = IntParameter(default=1, description="Minutes between instances; must divide 60")

    def _format_datetime(self, dt: datetime) -> Any:
        return DateMinuteParameter().serialize(dt)

    def datetime_to_parameter(self, dt: datetime) -> datetime:
        return dt

    def parameter_to_datetime(self, p: datetime) -> datetime:
        return p

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(minutes=self.minutes_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.minutes_forward)

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        interval = self.minutes_interval
        if not 0 < interval < 60:
            raise ParameterException(f"minutes-interval must be within 0..60 (got {interval})")
        if 60 % interval:
            raise ParameterException(f"minutes-interval does not evenly divide 60 (got {interval})")
        first = finite_start.replace(minute=finite_start.minute // interval * interval, second=0, microsecond=0)
        return _count_from(finite_start, lambda i: first + timedelta(minutes=i * interval), finite_stop)


class RangeByMinutes(RangeByMinutesBase):
    def missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        return self._missing_in_bulk(finite_datetimes)


def _add_months(dt: datetime, months: int) -> datetime:
    index = dt.year * 12 + dt.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1)


class RangeMonthly(RangeBase):
    start = MonthParameter(default=None, description="First month, inclusive")
    stop = MonthParameter(default=None, description="Last month, exclusive")
    months_back = IntParameter(default=13, description="How many months back from now the range reaches")
    months_forward = IntParameter(default=0, description="How many months ahead of now the range reaches")

    def _format_datetime(self, dt: datetime) -> Any:
        return dt.strftime("%Y-%m")

    def datetime_to_parameter(self, dt: datetime) -> date:
        return date(dt.year, dt.month, 1)

    def parameter_to_datetime(self, p: date) -> datetime:
        return datetime(p.year, p.month, 1)

    def moving_start(self, now: datetime) -> datetime:
        return _add_months(now, -self.months_back)

    def moving_stop(self, now: datetime) -> datetime:
        return _add_months(now, self.months_forward)

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        first = datetime(finite_start.year, finite_start.month, 1)
        stop = datetime(finite_stop.year, finite_stop.month, 1)
        return _count_from(finite_start, lambda i: _add_months(first, i), stop)
