"""What a task-history sink receives from the scheduler (Luigi's ``luigi.task_history``).

The scheduler calls a :class:`TaskHistory` as a task's status changes:
``task_scheduled`` when it becomes (or is re-reported) PENDING, ``task_started``
when a worker takes it, ``task_finished`` when it ends DONE or FAILED. The
``task`` argument is the scheduler's own record of the task; a sink reads its
``id``, ``family`` and ``params`` and must not change it.

:class:`trunkline.db_task_history.DbTaskHistory` is the sink that stores these
calls; :class:`NopHistory` drops them.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

logger = logging.getLogger("luigi-interface")

__all__ = ["NopHistory", "StoredTask", "TaskHistory", "record_status_change"]


class StoredTask:
    """A task as a history sink remembers it: the scheduler's task plus the
    status, host and database row last recorded for it."""

    def __init__(self, task: Any, status: str, host: str | None = None) -> None:
        self._task = task
        self.status = status
        self.record_id: int | None = None
        self.host = host

    @property
    def task_family(self) -> str:
        return str(self._task.family)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._task.params)


class TaskHistory(metaclass=abc.ABCMeta):
    """Receives the status changes of tasks; must return quickly and not raise."""

    @abc.abstractmethod
    def task_scheduled(self, task: Any) -> None:
        """The task is PENDING: some worker wants it run."""

    @abc.abstractmethod
    def task_finished(self, task: Any, successful: bool) -> None:
        """The task ended: DONE when ``successful``, else FAILED."""

    @abc.abstractmethod
    def task_started(self, task: Any, worker_host: str | None) -> None:
        """A worker on ``worker_host`` started running the task."""


class NopHistory(TaskHistory):
    """Records nothing."""

    def task_scheduled(self, task: Any) -> None:
        pass

    def task_finished(self, task: Any, successful: bool) -> None:
        pass

    def task_started(self, task: Any, worker_host: str | None) -> None:
        pass


def record_status_change(history: TaskHistory, task: Any, status: str, host: str | None = None) -> None:
    """Tell ``history`` that ``task`` took ``status`` (a status string or TaskStatus).

    Only PENDING, RUNNING, DONE and FAILED are history events, as in Luigi. A
    sink that raises is logged and ignored: history must never stop the scheduler.
    """
    try:
        if status == "DONE" or status == "FAILED":
            history.task_finished(task, status == "DONE")
        elif status == "PENDING":
            history.task_scheduled(task)
        elif status == "RUNNING":
            history.task_started(task, host)
    except Exception:
        logger.warning("Could not record %s of task %s in the task history", status, getattr(task, "id", task), exc_info=True)
