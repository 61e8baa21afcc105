"""trunkline.scheduler: the scheduler state machine (Luigi's ``luigi.scheduler``)."""

from trunkline.scheduler._records import RetryPolicy as RetryPolicy
from trunkline.scheduler._scheduler import Scheduler as Scheduler
from trunkline.scheduler.config import scheduler as scheduler
from trunkline.scheduler.status import TaskStatus as TaskStatus
from trunkline.scheduler.status import UpstreamStatus as UpstreamStatus
from trunkline.scheduler.status import WorkerState as WorkerState
from trunkline.scheduler.store import MemoryStore as MemoryStore
from trunkline.scheduler.store import SqliteStore as SqliteStore
from trunkline.scheduler.store import StateFileError as StateFileError
from trunkline.scheduler.store import Store as Store
from trunkline.task_status import BATCH_RUNNING as BATCH_RUNNING
from trunkline.task_status import DISABLED as DISABLED
from trunkline.task_status import DONE as DONE
from trunkline.task_status import FAILED as FAILED
from trunkline.task_status import PENDING as PENDING
from trunkline.task_status import RUNNING as RUNNING
from trunkline.task_status import SUSPENDED as SUSPENDED
from trunkline.task_status import UNKNOWN as UNKNOWN

UPSTREAM_RUNNING = UpstreamStatus.RUNNING.value
UPSTREAM_MISSING_INPUT = UpstreamStatus.MISSING_INPUT.value
UPSTREAM_FAILED = UpstreamStatus.FAILED.value
UPSTREAM_DISABLED = UpstreamStatus.DISABLED.value

__all__ = [
    "BATCH_RUNNING",
    "DISABLED",
    "DONE",
    "FAILED",
    "MemoryStore",
    "PENDING",
    "RUNNING",
    "RetryPolicy",
    "SUSPENDED",
    "Scheduler",
    "SqliteStore",
    "StateFileError",
    "Store",
    "TaskStatus",
    "UNKNOWN",
    "UPSTREAM_DISABLED",
    "UPSTREAM_FAILED",
    "UPSTREAM_MISSING_INPUT",
    "UPSTREAM_RUNNING",
    "UpstreamStatus",
    "WorkerState",
    "scheduler",
]

for _name in ("RetryPolicy", "Scheduler", "scheduler", "TaskStatus", "UpstreamStatus", "WorkerState", "MemoryStore"):
    globals()[_name].__module__ = __name__
