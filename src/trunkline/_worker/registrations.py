"""Telling the scheduler about the tasks a graph walk found.

Luigi's worker calls ``add_task`` once per task. Against trunkline's own
in-process ``Scheduler`` (the exact class, its methods not replaced) the worker
sends them in batches of ``_ADD_TASK_BATCH`` through ``add_tasks``, which does
the same work with less per-call overhead; against a ``RemoteScheduler`` the
batch is one request. With any other scheduler object (a subclass, a wrapper,
a mock, Luigi's scheduler) every task is its own ``add_task`` call, made as the
walk finds it, so code that counts or intercepts those calls sees Luigi's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Registrations are sent to the scheduler in batches of this many tasks.
_ADD_TASK_BATCH = 500


class RegistrationBatcher:
    def __init__(self, call_scheduler: Callable[[str, dict[str, Any]], Any], worker_id: str) -> None:
        self._call = call_scheduler
        self._worker_id = worker_id
        self._pending: list[dict[str, Any]] = []
        # Cleared when the scheduler turns out not to have add_tasks (a real luigid).
        self.scheduler_has_add_tasks = True

    def queue(self, kwargs: dict[str, Any], batched: bool, before_flush: Callable[[], None]) -> None:
        if not batched:
            self._call("add_task", {"worker": self._worker_id, **kwargs})
            return
        self._pending.append(kwargs)
        if len(self._pending) >= _ADD_TASK_BATCH:
            self.flush(before_flush)

    def flush(self, before: Callable[[], None]) -> None:
        # Results not yet sent go first, so the scheduler sees everything in order.
        before()
        batch, self._pending = self._pending, []
        self.send(batch)

    def send(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        if self.scheduler_has_add_tasks:
            try:
                self._call("add_tasks", {"worker": self._worker_id, "tasks": batch})
                return
            except (AttributeError, NotImplementedError):
                # A scheduler without the batched call (a real luigid).
                self.scheduler_has_add_tasks = False
        for kwargs in batch:
            self._call("add_task", {"worker": self._worker_id, **kwargs})
