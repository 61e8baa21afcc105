"""How a running task talks to its worker and, through it, to the scheduler.

A task process hands one result tuple ``(task_id, status, expl, missing,
new_deps)`` to its channel. A task running in a child process cannot call the
scheduler itself (an in-process scheduler lives in the parent, and an HTTP
connection must not be shared across a fork), so the reporter's calls travel to
the parent over the same channel and the parent makes them.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable
from typing import Any, Protocol

from trunkline.scheduler.status import TaskStatus

_RUNNING = TaskStatus.RUNNING.value

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
    """A message sent from the visualiser to a running task that accepts messages.

    ``scheduler`` is what the response goes to: a scheduler (Luigi's signature)
    or the task's :class:`TaskStatusReporter`, which relays it from a child process.
    """

    def __init__(
        self,
        scheduler: Any,
        task_id: str,
        message_id: str,
        content: Any,
        **payload: Any,
    ) -> None:
        self._scheduler = scheduler
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
        if isinstance(self._scheduler, TaskStatusReporter):
            self._scheduler._call(
                "add_scheduler_message_response",
                task_id=self._task_id,
                message_id=self._message_id,
                response=response,
            )
        else:
            self._scheduler.add_scheduler_message_response(self._task_id, self._message_id, response)


class TaskMessageQueue:
    """A running task's inbox of scheduler messages.

    Messages cross into a child process as plain tuples and become
    :class:`SchedulerMessage` objects (bound to the child's reporter) when read.
    """

    def __init__(self, raw: Any, reporter: TaskStatusReporter) -> None:
        self._raw = raw
        self._reporter = reporter

    def put(self, item: tuple[str, str, Any, dict[str, Any]]) -> None:
        self._raw.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> SchedulerMessage:
        task_id, message_id, content, payload = self._raw.get(block, timeout)
        return SchedulerMessage(self._reporter, task_id, message_id, content, **payload)

    def get_nowait(self) -> SchedulerMessage:
        return self.get(block=False)

    def empty(self) -> bool:
        return bool(self._raw.empty())
