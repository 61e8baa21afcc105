"""Walking a dependency graph and deciding what each task's status is.

The walk is breadth first, frontier by frontier, and iterative: a chain of a
hundred thousand tasks is a hundred thousand frontiers of one task, never a deep
Python stack. As in Luigi, the walk does not descend below a task that is already
complete (its inputs no longer matter), below an external task, or below a task
whose ``complete()`` or ``requires()`` failed.

``complete()`` checks are I/O. Against local files a check costs microseconds
and a thread pool would only add overhead; against remote storage a check costs
milliseconds and running them concurrently is what makes scheduling fast. The
checker therefore measures: it checks a frontier on the calling thread, and once
the checks prove slow it hands the rest of the frontier to a pool of threads.

This module knows nothing of processes or of the scheduler: it yields one
:class:`Discovery` per task and the worker decides what to tell the scheduler.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
import traceback
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass

from trunkline.event import Event
from trunkline.scheduler.status import TaskStatus
from trunkline.target import Target
from trunkline.task import Task
from trunkline._worker.errors import CompleteReturnValueError, InvalidDependencyError

logger = logging.getLogger("luigi-interface")

# A frontier goes to the thread pool once at least _SLOW_MIN_CHECKS serial checks
# have taken this long and average more than _SLOW_MEAN_SECONDS each (local files
# average ~10 µs; a few checks, so one stall (GC, a busy CPU) does not decide it).
_SLOW_TOTAL_SECONDS = 0.002
_SLOW_MEAN_SECONDS = 0.0005
_SLOW_MIN_CHECKS = 3


@dataclass(slots=True, frozen=True)
class CheckFailure:
    """``complete()`` raised, or returned a non-boolean; holds the traceback text."""

    trace: str


CheckResult = bool | CheckFailure


def is_external(task: Task) -> bool:
    """A task is external when it has nothing to run (Luigi: ``run is None``)."""
    run = task.run
    return run is None or run == NotImplemented


class CompletenessChecker:
    """Evaluates ``complete()`` for tasks, concurrently once checks prove slow."""

    def __init__(self, threads: int = 16, cache: MutableMapping[str, bool] | None = None) -> None:
        self._threads = max(1, threads)
        self._cache = cache
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def check(self, task: Task) -> CheckResult:
        cache = self._cache
        if cache is not None and cache.get(task.task_id):
            return True
        try:
            value = task.complete()
            if value is not True and value is not False:
                raise CompleteReturnValueError(
                    f"Return value of Task.complete() must be boolean (was {value!r})"
                )
        except Exception:
            return CheckFailure(traceback.format_exc())
        if value and cache is not None:
            cache[task.task_id] = True
        return value

    def check_frontier(self, tasks: Sequence[Task]) -> list[CheckResult]:
        results: list[CheckResult] = []
        started = time.perf_counter()
        for index, task in enumerate(tasks):
            results.append(self.check(task))
            remaining = len(tasks) - index - 1
            if self._threads > 1 and remaining > 1 and index + 1 >= _SLOW_MIN_CHECKS:
                elapsed = time.perf_counter() - started
                if elapsed > _SLOW_TOTAL_SECONDS and elapsed / (index + 1) > _SLOW_MEAN_SECONDS:
                    results.extend(self._thread_pool().map(self.check, tasks[index + 1 :]))
                    break
        return results

    def _thread_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._threads, thread_name_prefix="trunkline-complete"
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


@dataclass(slots=True)
class Discovery:
    """What the walk learned about one task: the status to register it with."""

    task: Task
    status: TaskStatus
    runnable: bool
    deps: list[Task] | None = None
    # Set when complete() ("complete") or requires() ("dependency") failed.
    failure: str | None = None
    failure_kind: str | None = None


# Classes seen to be tasks: isinstance() against Task (an ABC) is a Python-level call.
_TASK_CLASSES: set[type] = set()


def validate_dependency(dependency: object) -> Task:
    if type(dependency) in _TASK_CLASSES:
        return dependency  # type: ignore[return-value]
    if isinstance(dependency, Task):
        _TASK_CLASSES.add(type(dependency))
        return dependency
    if isinstance(dependency, Target):
        raise InvalidDependencyError(
            "requires() can not return Target objects. Wrap it in an ExternalTask class"
        )
    raise InvalidDependencyError(
        f"requires() must return Task objects but {dependency!r} is a {type(dependency)}"
    )


class GraphWalker:
    """Yields a :class:`Discovery` for every task reachable from a root."""

    def __init__(
        self,
        checker: CompletenessChecker,
        *,
        retry_external_tasks: bool = False,
    ) -> None:
        self._checker = checker
        self._retry_external_tasks = retry_external_tasks

    def walk(self, root: Task, over_limit: Callable[[], bool] | None = None) -> Iterator[Discovery]:
        seen = {root.task_id}
        frontier: list[Task] = [root]
        while frontier:
            next_frontier: list[Task] = []
            results = self._checker.check_frontier(frontier)
            for task, result in zip(frontier, results):
                if over_limit is not None and over_limit():
                    yield Discovery(task, TaskStatus.UNKNOWN, runnable=False)
                    continue
                discovery = self._discover(task, result)
                yield discovery
                for dep in discovery.deps or ():
                    if dep.task_id not in seen:
                        seen.add(dep.task_id)
                        next_frontier.append(dep)
            frontier = next_frontier

    def _discover(self, task: Task, result: CheckResult) -> Discovery:
        if isinstance(result, CheckFailure):
            task.trigger_event(Event.DEPENDENCY_MISSING, task)
            discovery = Discovery(
                task, TaskStatus.UNKNOWN, False, failure=result.trace, failure_kind="complete"
            )
        elif result:
            task.trigger_event(Event.DEPENDENCY_PRESENT, task)
            discovery = Discovery(task, TaskStatus.DONE, False)
        elif is_external(task):
            task.trigger_event(Event.DEPENDENCY_MISSING, task)
            logger.warning(
                "Data for %s does not exist (yet?). The task is an external data dependency, "
                "so it cannot be run from this trunkline process.",
                task,
            )
            discovery = Discovery(task, TaskStatus.PENDING, self._retry_external_tasks)
        else:
            discovery = self._discover_dependencies(task)
        if task.disabled:
            discovery.status = TaskStatus.DISABLED
        return discovery

    def _discover_dependencies(self, task: Task) -> Discovery:
        try:
            raw_deps = task.deps()
        except Exception as exc:
            task.trigger_event(Event.BROKEN_TASK, task, exc)
            return Discovery(
                task,
                TaskStatus.UNKNOWN,
                False,
                failure=traceback.format_exc(),
                failure_kind="dependency",
            )
        deps = [validate_dependency(dep) for dep in raw_deps]
        for dep in deps:
            task.trigger_event(Event.DEPENDENCY_DISCOVERED, task, dep)
        return Discovery(task, TaskStatus.PENDING, True, deps=deps)

