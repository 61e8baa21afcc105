"""Task and worker statuses, with Luigi's wire strings as values."""

from __future__ import annotations

from enum import Enum


class TaskStatus(str, Enum):
    # Known to the scheduler and waiting for its dependencies or a worker.
    PENDING = "PENDING"
    # Handed to a worker, which is running it now.
    RUNNING = "RUNNING"
    # Its outputs exist: complete.
    DONE = "DONE"
    # Its last run failed; it becomes PENDING again after retry_delay.
    FAILED = "FAILED"
    # Failed too often (or disabled by its worker); nobody runs it until re-enabled.
    DISABLED = "DISABLED"
    # complete()/requires() raised on the worker, or only known as someone's dependency.
    UNKNOWN = "UNKNOWN"
    # Part of a batch whose combined task is running.
    BATCH_RUNNING = "BATCH_RUNNING"
    # Legacy status kept for old workers; stored as PENDING.
    SUSPENDED = "SUSPENDED"

    def __str__(self) -> str:
        return self.value


class UpstreamStatus(str, Enum):
    """Why a PENDING task waits, from the most severe problem above it."""

    NONE = ""
    RUNNING = "UPSTREAM_RUNNING"
    MISSING_INPUT = "UPSTREAM_MISSING_INPUT"
    FAILED = "UPSTREAM_FAILED"
    DISABLED = "UPSTREAM_DISABLED"


# Ordered from harmless to most severe.
UPSTREAM_SEVERITY = (
    UpstreamStatus.NONE,
    UpstreamStatus.RUNNING,
    UpstreamStatus.MISSING_INPUT,
    UpstreamStatus.FAILED,
    UpstreamStatus.DISABLED,
)
STATUS_TO_UPSTREAM = {
    TaskStatus.FAILED: UpstreamStatus.FAILED,
    TaskStatus.RUNNING: UpstreamStatus.RUNNING,
    TaskStatus.BATCH_RUNNING: UpstreamStatus.RUNNING,
    TaskStatus.PENDING: UpstreamStatus.MISSING_INPUT,
    TaskStatus.DISABLED: UpstreamStatus.DISABLED,
}


class WorkerState(str, Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
