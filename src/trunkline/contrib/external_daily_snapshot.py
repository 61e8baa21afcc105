""":class:`ExternalDailySnapshot`: the newest complete day of a daily external dump.

``PlaylistContent.latest()`` walks back from today (or ``date=``) up to
``lookback`` days (default 14) and returns the first instance that is
complete, or the oldest one tried when none is, so that ``requires()`` still
names a task to wait for. The answer is memoised per arguments, because
``requires()`` must return the same thing every time it is called in a run.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import trunkline as luigi

logger = logging.getLogger("luigi-interface")


class ExternalDailySnapshot(luigi.ExternalTask):
    """Subclasses have a ``date`` DateParameter (this one) and may add their own parameters."""

    date = luigi.DateParameter()
    # (key, answer) pairs compared by equality: keyword arguments need not be hashable.
    __cache: list[Any] = []

    @classmethod
    def latest(cls, *args: Any, **kwargs: Any) -> Any:
        date = kwargs.pop("date", datetime.date.today())
        lookback = kwargs.pop("lookback", 14)
        key = (cls, args, kwargs, lookback, date)
        for cached_key, answer in ExternalDailySnapshot.__cache:
            if cached_key == key:
                return answer
        answer = cls.__latest(date, lookback, args, kwargs)
        ExternalDailySnapshot.__cache.append((key, answer))
        return answer

    @classmethod
    def __latest(cls, date: datetime.date, lookback: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if lookback < 1:
            raise ValueError(f"lookback must be at least 1 day, got {lookback}")
        task = None
        for days_back in range(lookback):
            task = cls(*args, date=date - datetime.timedelta(days_back), **kwargs)
            if task.complete():
                return task
        logger.debug("Could not find last dump for %s (looked back %d days)", cls.__name__, lookback)
        return task
