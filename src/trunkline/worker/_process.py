"""Running one task: in the worker's own process, or in a forked child.

:class:`TaskProcess` knows nothing of the graph. It runs ``run()`` (driving a
generator through its dynamic dependencies), decides the outcome and hands one
result tuple ``(task_id, status, expl, missing, new_deps)`` to its channel. A
task running in a child process cannot call the scheduler itself (an in-process
scheduler lives in the parent, and an HTTP connection must not be shared across
a fork), so the reporter's calls travel to the parent over the same channel and
the parent makes them.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import logging
import multiprocessing
import multiprocessing.connection
from multiprocessing.context import ForkProcess
import os
import random
import signal
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

from trunkline.event import Event
from trunkline.scheduler.status import TaskStatus
from trunkline.task import DynamicRequirements, Task, flatten
from trunkline.worker._errors import TaskException
from trunkline.worker._graph import CheckFailure, CompletenessChecker, is_external

logger = logging.getLogger("luigi-interface")
# The wire strings, read once: an Enum member's .value is a Python-level property.
_DONE, _FAILED, _PENDING, _RUNNING = (
    TaskStatus.DONE.value, TaskStatus.FAILED.value, TaskStatus.PENDING.value, TaskStatus.RUNNING.value
)

_fork = multiprocessing.get_context("fork")

# (task_id, status, explanation, missing dependency ids, new deps as (module, family, params))
TaskResult = tuple[str, str, Any, list[str], list[tuple[str, str, dict[str, str]]]]


class ResultChannel(Protocol):
    """Where a task process sends its result and its calls for the scheduler."""

    def put(self, result: TaskResult) -> None: ...

    def call(self, method: str, kwargs: dict[str, Any]) -> None: ...


class InlineChannel:
    """Channel for tasks run in the worker's process: a deque, calls made directly."""

    def __init__(self, scheduler_call: Callable[[str, dict[str, Any]], Any]) -> None:
        self.results: collections.deque[TaskResult] = collections.deque()
        self._scheduler_call = scheduler_call

    def put(self, result: TaskResult) -> None:
        self.results.append(result)

    def call(self, method: str, kwargs: dict[str, Any]) -> None:
        self._scheduler_call(method, kwargs)


class PipeChannel:
    """Channel for a forked task: tagged messages over a one-way pipe."""

    def __init__(self, connection: multiprocessing.connection.Connection) -> None:
        self._connection = connection

    def put(self, result: TaskResult) -> None:
        self._connection.send(("result", result))

    def call(self, method: str, kwargs: dict[str, Any]) -> None:
        self._connection.send(("call", method, kwargs))


class TaskStatusReporter:
    """What a running task uses to talk to the scheduler (tracking URL, messages...)."""

    def __init__(
        self,
        scheduler: Any,
        task_id: str,
        worker_id: str,
        scheduler_messages: Any | None,
        channel: ResultChannel | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._task_id = task_id
        self._worker_id = worker_id
        self.scheduler_messages = scheduler_messages
        self.channel = channel

    def _call(self, method: str, **kwargs: Any) -> None:
        if self.channel is not None:
            self.channel.call(method, kwargs)
        else:
            getattr(self._scheduler, method)(**kwargs)

    def update_tracking_url(self, tracking_url: str) -> None:
        self._call(
            "add_task",
            task_id=self._task_id,
            worker=self._worker_id,
            status=_RUNNING,
            tracking_url=tracking_url,
        )

    def update_status_message(self, message: str) -> None:
        self._call("set_task_status_message", task_id=self._task_id, status_message=message)

    def update_progress_percentage(self, percentage: int) -> None:
        self._call(
            "set_task_progress_percentage", task_id=self._task_id, progress_percentage=percentage
        )

    def decrease_running_resources(self, decrease_resources: dict[str, int]) -> None:
        self._call(
            "decrease_running_task_resources",
            task_id=self._task_id,
            decrease_resources=decrease_resources,
        )

    def report_task_statistics(self, statistics: dict[str, Any]) -> None:
        self._call("report_task_statistics", task_id=self._task_id, statistics=statistics)


class SchedulerMessage:
    """A message sent from the visualiser to a running task that accepts messages."""

    def __init__(
        self,
        reporter: TaskStatusReporter,
        task_id: str,
        message_id: str,
        content: Any,
        **payload: Any,
    ) -> None:
        self._reporter = reporter
        self._task_id = task_id
        self._message_id = message_id
        self.content = content
        self.payload = payload

    def __str__(self) -> str:
        return str(self.content)

    def __eq__(self, other: object) -> bool:
        return bool(self.content == other)

    def __hash__(self) -> int:
        return hash(self._message_id)

    def respond(self, response: Any) -> None:
        self._reporter._call(
            "add_scheduler_message_response",
            task_id=self._task_id,
            message_id=self._message_id,
            response=response,
        )


def _unfulfilled_dependencies(task: Task, checker: CompletenessChecker) -> list[str]:
    missing = []
    for dep in task.deps():
        if checker.check(dep) is True:
            continue
        absent = [str(out) for out in flatten(dep.output()) if not out.exists()]
        missing.append(f"{dep.task_id} ({', '.join(absent)})" if absent else dep.task_id)
    return missing


class TaskProcess(ForkProcess):
    """Runs one task; ``run()`` inline, or ``start()`` in a forked child."""

    # reporter attribute -> task attribute, set only while run() executes
    forward_reporter_attributes = {
        "update_tracking_url": "set_tracking_url",
        "update_status_message": "set_status_message",
        "update_progress_percentage": "set_progress_percentage",
        "decrease_running_resources": "decrease_running_resources",
        "scheduler_messages": "scheduler_messages",
    }

    def __init__(
        self,
        task: Task,
        worker_id: str,
        result_queue: ResultChannel,
        status_reporter: TaskStatusReporter,
        use_multiprocessing: bool = False,
        worker_timeout: float = 0,
        check_unfulfilled_deps: bool = True,
        check_complete_on_run: bool = False,
        task_completion_cache: MutableMapping[str, bool] | None = None,
        context: str | None = None,
    ) -> None:
        self.task = task
        self.worker_id = worker_id
        self.result_queue = result_queue
        self.status_reporter = status_reporter
        task_timeout = task.worker_timeout
        self.worker_timeout = task_timeout if task_timeout is not None else worker_timeout
        self.timeout_time = time.time() + self.worker_timeout if self.worker_timeout else None
        # A timeout can only be enforced on a process that can be killed.
        self.use_multiprocessing = use_multiprocessing or self.timeout_time is not None
        if self.use_multiprocessing:
            # Only a task run in a child needs the Process machinery; setting it
            # up for every inline task would cost more than many tasks do.
            super().__init__()
        self.check_unfulfilled_deps = check_unfulfilled_deps
        self.check_complete_on_run = check_complete_on_run
        self.context = context
        self._checker = CompletenessChecker(threads=1, cache=task_completion_cache)
        self._task_completion_cache = task_completion_cache

    # -- running -----------------------------------------------------------
    def run(self) -> None:
        if self.context:
            module_path, class_name = self.context.rsplit(".", 1)
            context_cls = getattr(importlib.import_module(module_path), class_name)
            with context_cls(self):
                self._run_task()
        else:
            self._run_task()

    def _run_task(self) -> None:
        task = self.task
        logger.info("[pid %s] Worker %s running   %s", os.getpid(), self.worker_id, task)
        if self.use_multiprocessing:
            random.seed(os.getpid() * time.time())  # forked children must not share a seed
        status = _FAILED
        expl: Any = ""
        missing: list[str] = []
        new_deps: list[tuple[str, str, dict[str, str]]] = []
        try:
            if self.check_unfulfilled_deps and not is_external(task):
                missing = _unfulfilled_dependencies(task, self._checker)
                if missing:
                    noun = "dependency" if len(missing) == 1 else "dependencies"
                    raise RuntimeError(f"Unfulfilled {noun} at run time: {', '.join(missing)}")
            task.trigger_event(Event.START, task)
            started = time.time()
            if is_external(task):
                if self._checker.check(task) is True:
                    status = _DONE
                else:
                    expl = "Task is an external data dependency and data does not exist (yet?)."
            else:
                self._forward_attributes()
                try:
                    new_deps = self._run_and_collect_new_deps()
                finally:
                    self._unforward_attributes()
                if new_deps:
                    status = _PENDING
                    logger.info(
                        "[pid %s] Worker %s new requirements      %s",
                        os.getpid(),
                        self.worker_id,
                        task,
                    )
                elif not self.check_complete_on_run or self._checker.check(task) is True:
                    status = _DONE
                    if self._task_completion_cache is not None:
                        self._task_completion_cache[task.task_id] = True
                else:
                    raise TaskException(
                        "Task finished running, but complete() is still returning false."
                    )
            if status == _DONE:
                task.trigger_event(Event.PROCESSING_TIME, task, time.time() - started)
                expl = task.on_success()
                logger.info("[pid %s] Worker %s done      %s", os.getpid(), self.worker_id, task)
                task.trigger_event(Event.SUCCESS, task)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the task's failure is data, reported to the scheduler
            status = _FAILED
            logger.exception("[pid %s] Worker %s failed    %s", os.getpid(), self.worker_id, task)
            task.trigger_event(Event.FAILURE, task, exc)
            expl = task.on_failure(exc)
        finally:
            self.result_queue.put((task.task_id, status, expl, missing, new_deps))

    def _run_and_collect_new_deps(self) -> list[tuple[str, str, dict[str, str]]]:
        """Run the task; if run() is a generator, follow its yielded requirements.

        Returns the incomplete yielded tasks, as (module, family, params), or [].
        """
        outcome = self.task.run()
        if outcome is None or not isinstance(outcome, collections.abc.Generator):
            return []  # (None first: the usual run() returns it, and Generator is an ABC)
        to_send: Any = None
        while True:
            try:
                yielded = next(outcome) if to_send is None else outcome.send(to_send)
            except StopIteration:
                return []
            requirements = (
                yielded if isinstance(yielded, DynamicRequirements) else DynamicRequirements(yielded)
            )
            if not requirements.complete(self._complete_for_dynamic):
                return [
                    (dep.task_module, dep.task_family, dep.to_str_params())
                    for dep in requirements.flat_requirements
                ]
            to_send = requirements.paths

    def _complete_for_dynamic(self, task: Task) -> bool:
        result = self._checker.check(task)
        if isinstance(result, CheckFailure):
            raise TaskException(f"complete() of {task.task_id} failed:\n{result.trace}")
        return result

    def _forward_attributes(self) -> None:
        """While run() executes, the task's set_status_message() etc. reach the scheduler."""
        task, reporter = self.task, self.status_reporter
        for reporter_attr, task_attr in self.forward_reporter_attributes.items():
            setattr(task, task_attr, getattr(reporter, reporter_attr))

    def _unforward_attributes(self) -> None:
        task = self.task
        for task_attr in self.forward_reporter_attributes.values():
            setattr(task, task_attr, None)

    # -- stopping ----------------------------------------------------------
    def terminate(self) -> None:
        """Terminate this process and every process it started."""
        self.terminate_tree(self.pid)
        self.join(timeout=10)
        if self.is_alive():
            self.kill()
            self.join(timeout=10)

    @staticmethod
    def terminate_tree(pid: int | None) -> None:
        """SIGTERM a process and kill everything it started.

        It does not wait for the process itself: its owner reaps it with
        ``join()``, which is also what records the exit code.
        """
        import psutil

        if pid is None:
            return
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
