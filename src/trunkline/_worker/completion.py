"""Luigi's completeness-check helpers and small stand-ins, kept under their names.

Luigi's worker checked ``complete()`` in a pool of processes and carried the
results through a queue; libraries built on Luigi call these helpers directly.
trunkline's graph walk uses :class:`trunkline._worker.graph.CompletenessChecker`;
these keep Luigi's signatures and behaviour for callers that reach for them.
"""

from __future__ import annotations

import collections
import logging
import queue
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any

logger = logging.getLogger("luigi-interface")


class AsyncCompletionException(Exception):
    """Checking ``complete()`` went wrong; ``trace`` holds the traceback text."""

    def __init__(self, trace: str) -> None:
        super().__init__(trace)
        self.trace = trace


class TracebackWrapper:
    """Marks a traceback text as one, so it is not taken for an ordinary string."""

    def __init__(self, trace: str) -> None:
        self.trace = trace


def check_complete_cached(task: Any, completion_cache: MutableMapping[str, bool] | None = None) -> Any:
    """``task.complete()``, answered from ``completion_cache`` when it holds True;
    a True answer is stored there."""
    if completion_cache is not None and completion_cache.get(task.task_id):
        return True
    is_complete = task.complete()
    if completion_cache is not None and is_complete:
        completion_cache[task.task_id] = is_complete
    return is_complete


def check_complete(task: Any, out_queue: Any, completion_cache: MutableMapping[str, bool] | None = None) -> None:
    """Put ``(task, is_complete)`` on ``out_queue``; a raising ``complete()`` gives a TracebackWrapper."""
    logger.debug("Checking if %s is complete", task)
    try:
        is_complete: Any = check_complete_cached(task, completion_cache)
    except Exception:
        is_complete = TracebackWrapper(traceback.format_exc())
    out_queue.put((task, is_complete))


class SingleProcessPool:
    """The part of ``multiprocessing.Pool``'s interface Luigi used, run in this process."""

    def apply_async(self, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        return function(*args)

    def close(self) -> None:
        pass

    def join(self) -> None:
        pass


class DequeQueue(collections.deque):  # type: ignore[type-arg]
    """A deque with the put/get of ``queue.Queue`` (get takes the newest; empty raises queue.Empty)."""

    def put(self, obj: Any, block: bool | None = None, timeout: float | None = None) -> None:
        self.append(obj)

    def get(self, block: bool | None = None, timeout: float | None = None) -> Any:
        try:
            return self.pop()
        except IndexError:
            raise queue.Empty from None


def _check_in_pool(task: Any) -> Any:
    """Runs in a pool process: the task's check result (a CheckFailure travels as text)."""
    from trunkline._worker.graph import CompletenessChecker

    return CompletenessChecker(threads=1).check(task)


def process_pool_checker(pool: Any, cache: MutableMapping[str, bool] | None) -> Any:
    """A completeness checker whose frontiers are checked in ``pool`` (a
    ``multiprocessing.Pool``): ``Worker.add(task, multiprocess=True)``, as in
    Luigi. Tasks must pickle; a check's exception comes back as its traceback."""
    from trunkline._worker.graph import CompletenessChecker

    class ProcessPoolChecker(CompletenessChecker):
        def check_frontier(self, tasks: Any) -> list[Any]:
            unknown = [task for task in tasks if not (cache is not None and cache.get(task.task_id))]
            answers = dict(zip((t.task_id for t in unknown), pool.map(_check_in_pool, unknown)))
            results = []
            for task in tasks:
                result = answers.get(task.task_id, True)
                if result is True and cache is not None:
                    cache[task.task_id] = True
                results.append(result)
            return results

    return ProcessPoolChecker(threads=1, cache=cache)
