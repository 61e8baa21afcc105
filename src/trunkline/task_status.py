"""Luigi's task status constants (``luigi.task_status``), as strings."""

from trunkline._scheduler.status import TaskStatus

PENDING = TaskStatus.PENDING.value
FAILED = TaskStatus.FAILED.value
DONE = TaskStatus.DONE.value
RUNNING = TaskStatus.RUNNING.value
BATCH_RUNNING = TaskStatus.BATCH_RUNNING.value
SUSPENDED = TaskStatus.SUSPENDED.value
UNKNOWN = TaskStatus.UNKNOWN.value
DISABLED = TaskStatus.DISABLED.value
