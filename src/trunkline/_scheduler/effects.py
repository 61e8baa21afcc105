"""What the core asks the shell to do: effects are returned, never performed.

The core appends effects to ``State.effects`` while it serves a call; the shell
(:mod:`trunkline.scheduler`) takes them after the call and carries them out:
logging, e-mails (``notifications`` and the batch notifier, both names a test
may patch in the shell), metrics collectors. Saving to the store is not an
effect: the shell saves after every call that changed something, before the
answer goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WorkerTimedOut:
    """A worker stopped contacting the scheduler; its tasks were handed back."""

    worker_id: str
    delay: float


@dataclass(frozen=True, slots=True)
class TaskDisabled:
    """The scheduler disabled a task after too many failures."""

    task_id: str
    owners: tuple[str, ...]
    failures: int
    window: float


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A task moved from one status to another (fed to metrics collectors)."""

    task_id: str
    old: str
    new: str


Effect = WorkerTimedOut | TaskDisabled | StatusChanged
