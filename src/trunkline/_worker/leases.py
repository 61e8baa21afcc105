"""Leasing: one round trip to a remote trunkline scheduler sends results and brings work.

Against a scheduler across the network, two requests per task (``get_work``,
then ``add_task`` with the result) cost more than short tasks do. A trunkline
scheduler answers ``work_cycle`` (see ``scheduler/_leasing.py``): the worker
sends the results of the tasks run since its last call and leases up to
``want`` tasks to run next. :class:`LeaseClient` holds that conversation's
state; the worker asks it for the next task and hands it each result.

The size of a lease follows the pace of the tasks run so far, so a worker holds
about ``_LEASE_TARGET_SECONDS`` of work and slow tasks are not kept from other
workers. Leases not started in time go back to the scheduler.

Only a worker talking to trunkline's own ``RemoteScheduler`` (not a subclass,
not a wrapper) leases: anything else sees Luigi's calls.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from trunkline.scheduler.status import TaskStatus

logger = logging.getLogger("luigi-interface")
_DONE = TaskStatus.DONE.value

# Ask for about this many seconds of work per round trip, and never more tasks than this.
_LEASE_TARGET_SECONDS = 0.5
_LEASE_MAX_WANT = 500
# With no task started or finished for this long (a slow one holds every slot),
# unstarted leases go back to the scheduler for other workers to take.
_LEASE_HOLD_SECONDS = 2.0


@dataclass(slots=True)
class WorkAnswer:
    """The parts of a get_work / work_cycle answer the run loop reads."""

    task_id: str | None
    running_tasks: list[dict[str, Any]]
    n_pending_tasks: int
    n_unique_pending: int
    n_pending_last_scheduled: int
    worker_state: str


class LeaseOwner(Protocol):
    """What the lease client needs from its worker."""

    _id: str
    host: str
    _assistant: bool
    worker_processes: int
    _running_tasks: dict[str, Any]

    def _call_scheduler(self, method: str, kwargs: dict[str, Any]) -> Any: ...

    def _record_registration(self, kwargs: dict[str, Any]) -> None: ...

    def _task_id_from(self, response: dict[str, Any]) -> str | None: ...

    def _known_task(self, task_id: str | None, response: dict[str, Any]) -> str | None: ...

    def _remember_work_response(self, task_id: str | None, running_tasks: list[dict[str, Any]]) -> None: ...


def answer_from(task_id: str | None, running_tasks: list[Any], answer: dict[str, Any]) -> WorkAnswer:
    return WorkAnswer(
        task_id=task_id,
        running_tasks=running_tasks,
        n_pending_tasks=answer.get("n_pending_tasks", 0),
        n_unique_pending=answer.get("n_unique_pending", 0),
        n_pending_last_scheduled=answer.get("n_pending_last_scheduled", 0),
        worker_state=answer.get("worker_state", "active"),
    )


class LeaseClient:
    def __init__(self, owner: LeaseOwner, lock: threading.RLock, ping_interval: float) -> None:
        self._owner = owner
        self._lock = lock
        self._ping_interval = ping_interval
        self._leases: collections.deque[str] = collections.deque()
        # The lease taken from _leases and not yet running: still held.
        self.starting: str | None = None
        self._deadline = 0.0
        self._last_reply = WorkAnswer(None, [], 0, 0, 0, "active")
        self._unsent: list[dict[str, Any]] = []
        self._oldest_unsent = 0.0
        self._started_at: dict[str, float] = {}
        self._mean_task_seconds: float | None = None
        self._last_progress = 0.0
        # Follow-on leases (one process only: leases run one after another): a
        # leased task -> the leased tasks it needs, which must succeed here first.
        self._after: dict[str, list[str]] = {}
        self._succeeded_here: set[str] = set()
        self._to_release: list[str] = []

    # -- the run loop's side -------------------------------------------------------
    def next_task(self) -> WorkAnswer:
        """The next leased task to start, asking the scheduler when none is held."""
        with self._lock:  # the keep-alive thread may give leases back
            if self._leases and time.monotonic() > self._deadline:
                # Held unstarted too long: the scheduler may think this worker gone and
                # have given them away. Ask again; it hands back those still ours.
                logger.info("Dropping %d leases held past their time; asking the scheduler again", len(self._leases))
                self._leases.clear()
                self._after.clear()
            task_id = self._pop_startable()
            if task_id is None:
                self._work_cycle(self._lease_size())
                task_id = self._pop_startable()
            if task_id is None:
                return self._last_reply
            self.starting = task_id
        reply = self._last_reply
        return WorkAnswer(
            task_id,
            reply.running_tasks,
            reply.n_pending_tasks,
            reply.n_unique_pending,
            reply.n_pending_last_scheduled,
            reply.worker_state,
        )

    def started(self, task_id: str) -> None:
        self._started_at[task_id] = self._last_progress = time.monotonic()

    def finished(self, task_id: str) -> None:
        started = self._started_at.pop(task_id, None)
        if started is None:
            return
        self._last_progress = time.monotonic()
        seconds = self._last_progress - started
        previous = self._mean_task_seconds
        self._mean_task_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    def report(self, kwargs: dict[str, Any]) -> None:
        """A task's result, sent with the next work_cycle (or the keep-alive beat)."""
        kwargs.pop("worker", None)
        if kwargs.get("status") == _DONE:
            self._succeeded_here.add(str(kwargs["task_id"]))
        with self._lock:
            if not self._unsent:
                self._oldest_unsent = time.monotonic()
            self._unsent.append(kwargs)

    def take_unsent(self) -> list[dict[str, Any]]:
        with self._lock:
            reports, self._unsent = self._unsent, []
            return reports

    def put_back_unsent(self, reports: list[dict[str, Any]]) -> None:
        with self._lock:
            self._unsent[:0] = reports

    def held(self) -> list[str]:
        """Every task this worker holds: running, being started, leased."""
        held = [*self._owner._running_tasks, *self._leases]
        if self.starting is not None:
            held.append(self.starting)
        return held

    # -- the keep-alive thread's side ------------------------------------------------
    def beat(self, send_unsent: Any) -> None:
        """Before a ping: when a slow task has held every slot for a while, give back
        unstarted leases (with the results so far); else send results that waited a
        whole ping interval (``send_unsent`` sends them)."""
        with self._lock:
            if self._leases and time.monotonic() - self._last_progress > _LEASE_HOLD_SECONDS:
                release, self._leases = list(self._leases), collections.deque()
                self._after.clear()
                logger.info("A task runs long; giving %d unstarted leases back to the scheduler", len(release))
                self._work_cycle(0, release=release)
            elif self._unsent and time.monotonic() - self._oldest_unsent >= self._ping_interval:
                send_unsent()

    def end(self) -> None:
        """Leaving run(): send the last results and give back leases not started."""
        if not (self._leases or self._unsent or self._to_release):
            return
        release, self._leases = list(self._leases), collections.deque()
        self._after.clear()
        try:
            self._work_cycle(0, release=release)
        except Exception:
            logger.warning("Could not send the last results to the scheduler", exc_info=True)

    # -- internals -----------------------------------------------------------------
    def _pop_startable(self) -> str | None:
        """The next lease whose leased dependencies all succeeded here; a follow-on
        whose dependency failed (or was suspended) goes back to the scheduler."""
        while self._leases:
            task_id = self._leases.popleft()
            after = self._after.pop(task_id, ())
            if all(dep_id in self._succeeded_here for dep_id in after):
                return task_id
            self._to_release.append(task_id)
        return None

    def _lease_size(self) -> int:
        """About _LEASE_TARGET_SECONDS of work at the pace tasks have run so far (the
        first lease learns the pace), so slow tasks are not held from other workers."""
        slots = max(1, self._owner.worker_processes)
        if self._mean_task_seconds is None:
            return slots
        fits = int(_LEASE_TARGET_SECONDS * slots / max(self._mean_task_seconds, 1e-6))
        return max(slots, min(_LEASE_MAX_WANT, fits))

    def _work_cycle(self, want: int, release: list[str] | None = None) -> None:
        """Send unsent results (and leases given back); take up to ``want`` new leases."""
        owner = self._owner
        with self._lock:
            reports = self.take_unsent()
            arguments: dict[str, Any] = {
                "worker": owner._id,
                "host": owner.host,
                "assistant": owner._assistant,
                "want": want,
                "reports": reports,
                "current_tasks": self.held(),
            }
            release = [*self._to_release, *(release or ())]
            self._to_release = []
            if release:
                arguments["release"] = release
            if owner.worker_processes == 1 and not owner._assistant:
                arguments["follow_on"] = True
            try:
                response = owner._call_scheduler("work_cycle", arguments)
            except BaseException:
                self._unsent[:0] = reports
                self._to_release[:0] = release
                raise
        self._last_progress = time.monotonic()
        self._deadline = self._last_progress + float(response.get("lease_seconds", 0.0))
        running_tasks = response.get("running_tasks", [])
        # (task id, what describes it): a batch is one combined task, as from get_work.
        handed_out: list[tuple[str | None, dict[str, Any]]]
        if "batch_id" in response:
            handed_out = [(owner._task_id_from(response), response)]
        else:
            handed_out = [(str(entry["task_id"]), entry) for entry in response.get("tasks", [])]
        owner._remember_work_response(handed_out[0][0] if handed_out else None, running_tasks)
        held = set(self.held())
        for task_id, description in handed_out:
            known = owner._known_task(task_id, description)
            if known is not None and known not in held:
                self._leases.append(known)
                held.add(known)
                if description.get("after"):
                    self._after[known] = list(description["after"])
        self._last_reply = answer_from(None, running_tasks, response)
