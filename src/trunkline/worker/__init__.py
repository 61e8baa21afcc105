"""trunkline.worker: runs tasks in its own process (Luigi's ``luigi.worker``)."""

from __future__ import annotations

from trunkline.worker._errors import TaskException as TaskException
from trunkline.worker._graph import CompletenessChecker as CompletenessChecker
from trunkline.worker._loop import GetWorkResponse as GetWorkResponse
from trunkline.worker._loop import KeepAliveThread as KeepAliveThread
from trunkline.worker._loop import Worker as Worker
from trunkline.worker._loop import rpc_message_callback as rpc_message_callback
from trunkline.worker._process import SchedulerMessage as SchedulerMessage
from trunkline.worker._process import TaskProcess as TaskProcess
from trunkline.worker._process import TaskStatusReporter as TaskStatusReporter
from trunkline.worker.config import worker as worker

__all__ = sorted(
    [
        "CompletenessChecker",
        "GetWorkResponse",
        "KeepAliveThread",
        "SchedulerMessage",
        "TaskException",
        "TaskProcess",
        "TaskStatusReporter",
        "Worker",
        "rpc_message_callback",
        "worker",
    ]
)

for _name in __all__:
    globals()[_name].__module__ = __name__
