"""The worker: registers a graph with a scheduler, then asks for work and runs it.

A run is ``add(task)`` for each root (walk the graph, tell the scheduler each
task's status in batches), then ``run()``: ask for work, run it (inline with one
process, in forked children with more), report the result, until the scheduler
has nothing left this worker may run. The scheduler is anything with Luigi's RPC
methods: the in-process :class:`trunkline.scheduler.Scheduler` or
:class:`trunkline.rpc.RemoteScheduler`.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import getpass
import json
import logging
import multiprocessing.connection
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from trunkline import notifications
from trunkline.event import Event
from trunkline.scheduler import Scheduler
from trunkline.scheduler.status import TaskStatus
from trunkline.task import Task
from trunkline.task_register import TaskClassException, load_task
from trunkline.worker._errors import TaskException
from trunkline.worker._graph import CompletenessChecker, Discovery, GraphWalker, is_external
from trunkline.worker._pool import PooledRun, TaskProcessPool
from trunkline.worker._progress import Counts, Progress
from trunkline.worker._process import (
    InlineChannel,
    PipeChannel,
    SchedulerMessage,
    TaskProcess,
    TaskResult,
    TaskStatusReporter,
    _fork,
)
from trunkline.worker.config import worker as worker_config

logger = logging.getLogger("luigi-interface")
# The wire strings, read once: an Enum member's .value is a Python-level property.
_DONE, _FAILED, _PENDING, _RUNNING = (
    TaskStatus.DONE.value, TaskStatus.FAILED.value, TaskStatus.PENDING.value, TaskStatus.RUNNING.value
)

WORKER_STATE_ACTIVE = "active"
WORKER_STATE_DISABLED = "disabled"
# Registrations are sent to the scheduler in batches of this many tasks.
_ADD_TASK_BATCH = 500
# Leasing (a remote trunkline scheduler, see scheduler/_leasing.py): ask for
# about this many seconds of work per round trip, and never more tasks than this.
_LEASE_TARGET_SECONDS = 0.5
_LEASE_MAX_WANT = 500
# With no task started or finished for this long (a slow one holds every slot),
# unstarted leases go back to the scheduler for other workers to take.
_LEASE_HOLD_SECONDS = 2.0


@dataclass(slots=True)
class GetWorkResponse:
    task_id: str | None
    running_tasks: list[dict[str, Any]]
    n_pending_tasks: int
    n_unique_pending: int
    n_pending_last_scheduled: int
    worker_state: str


def _retry_policy_dict(task: Task) -> dict[str, Any]:
    """The task's own retry settings (None: the scheduler's), keyed as RetryPolicy's fields."""
    return {
        "retry_count": task.retry_count,
        "disable_hard_timeout": task.disable_hard_timeout,
        "disable_window": task.disable_window,
    }


_quote = json.encoder.encode_basestring_ascii


def _json_text(value: Any) -> str:
    """json.dumps(value), without the encoder's set-up for what run() usually
    explains with: nothing, or a string."""
    if value is None:
        return "null"
    if type(value) is str:
        return _quote(value)
    return json.dumps(value)


class _TaskMessageQueue:
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


def _work_response(task_id: str | None, running_tasks: list[Any], answer: dict[str, Any]) -> GetWorkResponse:
    """What the worker keeps of a get_work (or work_cycle) answer."""
    return GetWorkResponse(
        task_id=task_id,
        running_tasks=running_tasks,
        n_pending_tasks=answer.get("n_pending_tasks", 0),
        n_unique_pending=answer.get("n_unique_pending", 0),
        n_pending_last_scheduled=answer.get("n_pending_last_scheduled", 0),
        worker_state=answer.get("worker_state", WORKER_STATE_ACTIVE),
    )


class KeepAliveThread(threading.Thread):
    """Pings the scheduler so it knows the worker lives, and relays its messages."""

    def __init__(
        self,
        ping: Callable[[], Any],
        ping_interval: float,
        on_message: Callable[[dict[str, Any]], None],
    ) -> None:
        super().__init__(name="trunkline-keep-alive", daemon=True)
        self._ping = ping
        self._interval = ping_interval
        self._on_message = on_message
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                response = self._ping()
            except Exception:  # a missed ping is retried on the next beat
                logger.warning("Failed pinging scheduler", exc_info=True)
                continue
            for message in (response or {}).get("rpc_messages", []):
                self._on_message(message)


def rpc_message_callback(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a Worker method the scheduler may call through ping's rpc_messages."""
    fn.is_rpc_message_callback = True  # type: ignore[attr-defined]
    return fn


class Worker:
    """Schedules tasks with a scheduler and runs the ones it is given.

    Use as a context manager: entering starts the keep-alive thread, leaving
    stops it and terminates task processes still alive.
    """

    def __init__(
        self,
        scheduler: Any = None,
        worker_id: str | None = None,
        worker_processes: int = 1,
        assistant: bool = False,
        **kwargs: Any,
    ) -> None:
        self._scheduler = scheduler if scheduler is not None else Scheduler()
        self.worker_processes = int(worker_processes)
        self._worker_info = self._generate_worker_info()
        self._worker_info[1] = ("workers", self.worker_processes)
        self._config = worker_config(**kwargs)
        if self._config.wait_interval <= 0:
            raise ValueError(
                f"[worker] wait_interval must be positive (got {self._config.wait_interval})"
            )
        if self._config.wait_jitter < 0:
            raise ValueError(
                f"[worker] wait_jitter must be zero or more (got {self._config.wait_jitter})"
            )
        self._id = worker_id or self._config.id or self._generate_worker_id(self._worker_info)
        self._assistant = assistant
        self._stop_requesting_work = False
        self.host = socket.gethostname()

        self._scheduled_tasks: dict[str, Task] = {}
        self._batch_running_tasks: dict[str, list[Task]] = {}
        self._batch_families_sent: set[str] = set()
        self._first_task: str | None = None
        self.add_succeeded = True
        self.run_succeeded = True
        self.unfulfilled_counts: collections.Counter[str] = collections.Counter()

        # Calls on the scheduler come from the main thread and the keep-alive
        # thread; the in-process scheduler is not thread-safe on its own.
        self._scheduler_lock = threading.RLock()
        self._completion_cache: dict[str, bool] | None = (
            {} if self._config.cache_task_completion else None
        )
        self._checker = CompletenessChecker(
            threads=self._config.check_complete_threads, cache=self._completion_cache
        )
        self._inline = InlineChannel(self._call_scheduler)
        self._running_tasks: dict[str, TaskProcess] = {}
        self._child_connections: dict[str, multiprocessing.connection.Connection] = {}
        self._exiting_children: list[TaskProcess] = []
        self._pool: TaskProcessPool | None = None
        self._idle_since: datetime.datetime | None = None
        self._pending_registrations: list[dict[str, Any]] = []
        self._scheduler_has_add_tasks = True
        self._keep_alive_thread: KeepAliveThread | None = None
        self._previous_sigusr1: Any = None

        # Leasing: with a scheduler across the network, one work_cycle call sends
        # the results of the tasks run since the last one and leases the next few.
        self._leasing = bool(getattr(self._scheduler, "round_trips_are_costly", False))
        self._leases: collections.deque[str] = collections.deque()
        # The lease taken from _leases and not yet in _running_tasks: still held.
        self._starting: str | None = None
        self._lease_deadline = 0.0
        self._last_reply = GetWorkResponse(None, [], 0, 0, 0, WORKER_STATE_ACTIVE)
        self._unsent_reports: list[dict[str, Any]] = []
        self._oldest_unsent = 0.0
        self._started_at: dict[str, float] = {}
        self._mean_task_seconds: float | None = None
        self._last_progress = 0.0
        # Follow-on leases (one process only: leases run one after another): a
        # leased task -> the leased tasks it needs, which must succeed here first.
        self._lease_after: dict[str, list[str]] = {}
        self._succeeded_here: set[str] = set()
        self._to_release: list[str] = []

        # Runnable tasks this worker registered and has not finished: the progress line.
        self._to_run: set[str] = set()
        self._finished = Counts()
        self._progress: Progress | None = None

        # For the execution summary.
        self._add_task_history: list[tuple[Task, str, bool | None]] = []
        self._get_work_response_history: list[dict[str, Any]] = []

    # -- identity ------------------------------------------------------------
    @staticmethod
    def _generate_worker_info() -> list[tuple[str, Any]]:
        info: list[tuple[str, Any]] = [("salt", f"{random.randrange(0, 10_000_000_000):09d}")]
        info.append(("workers", 0))  # set in __init__; keeps Luigi's key order
        with contextlib.suppress(Exception):
            info.append(("host", socket.gethostname()))
        with contextlib.suppress(Exception):
            info.append(("username", getpass.getuser()))
        info.append(("pid", os.getpid()))
        sudo_user = os.getenv("SUDO_USER")
        if sudo_user:
            info.append(("sudo_user", sudo_user))
        return info

    def _generate_worker_id(self, worker_info: list[tuple[str, Any]]) -> str:
        return "Worker({})".format(", ".join(f"{key}={value}" for key, value in worker_info))

    # -- context manager -------------------------------------------------------
    def __enter__(self) -> Worker:
        self._keep_alive_thread = KeepAliveThread(
            self._beat,
            self._config.ping_interval,
            self._handle_rpc_message,
        )
        self._keep_alive_thread.start()
        if not self._config.no_install_shutdown_handler:
            with contextlib.suppress(ValueError, AttributeError):  # not the main thread
                self._previous_sigusr1 = signal.signal(signal.SIGUSR1, self.handle_interrupt)
                signal.siginterrupt(signal.SIGUSR1, False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._keep_alive_thread is not None:
            self._keep_alive_thread.stop()
            self._keep_alive_thread.join()
        for process in self._running_tasks.values():
            if process.use_multiprocessing and process.is_alive():
                process.terminate()
        for process in self._exiting_children:
            process.join(timeout=10)
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._previous_sigusr1 is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGUSR1, self._previous_sigusr1)
        self._checker.close()

    # -- talking to the scheduler ------------------------------------------------
    def _call_scheduler(self, method: str, kwargs: dict[str, Any]) -> Any:
        with self._scheduler_lock:
            return getattr(self._scheduler, method)(**kwargs)

    def _add_task(self, **kwargs: Any) -> None:
        """Tell the scheduler a task's status now, recording it for the summary."""
        self._record_registration(kwargs)
        self._call_scheduler("add_task", kwargs)
        logger.debug("Informed scheduler that task   %s   has status   %s", kwargs["task_id"], kwargs["status"])

    def _record_registration(self, kwargs: dict[str, Any]) -> None:
        task_id = kwargs["task_id"]
        task = self._scheduled_tasks.get(task_id)
        if task is not None:
            self._add_task_history.append((task, kwargs["status"], kwargs["runnable"]))
            kwargs["owners"] = task._owner_list()
            if kwargs.get("params"):
                kwargs["param_visibilities"] = task._get_param_visibilities()
        for batch_task in self._batch_running_tasks.pop(task_id, ()):
            self._add_task_history.append((batch_task, kwargs["status"], True))

    def _queue_registration(self, **kwargs: Any) -> None:
        self._record_registration(kwargs)
        self._pending_registrations.append(kwargs)
        if len(self._pending_registrations) >= _ADD_TASK_BATCH:
            self._flush_registrations()

    def _flush_registrations(self) -> None:
        # Results not yet sent go first, so the scheduler sees everything in order.
        self._send_unsent_reports()
        batch, self._pending_registrations = self._pending_registrations, []
        self._send_registrations(batch)

    def _send_unsent_reports(self) -> None:
        with self._scheduler_lock:
            reports = self._take_unsent_reports()
            try:
                self._send_registrations(reports)
            except BaseException:
                self._unsent_reports[:0] = reports
                raise

    def _send_registrations(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        if self._scheduler_has_add_tasks:
            try:
                self._call_scheduler("add_tasks", {"worker": self._id, "tasks": batch})
                return
            except (AttributeError, NotImplementedError):
                # A scheduler without the batched call (a real luigid).
                self._scheduler_has_add_tasks = False
        for kwargs in batch:
            self._call_scheduler("add_task", {"worker": self._id, **kwargs})

    # -- scheduling: add() -------------------------------------------------------
    def _validate_task(self, task: object) -> None:
        if not isinstance(task, Task):
            raise TaskException(f"Can not schedule non-task {task}")
        if not task.initialized():
            raise TaskException(
                f"Task of class {type(task).__name__} not initialized. "
                "Did you override __init__ and forget to call super(...).__init__?"
            )

    def add(self, task: Task, multiprocess: bool = False, processes: int = 0) -> bool:
        """Walk ``task``'s graph and register every task with the scheduler.

        Returns True if the task and its dependencies were scheduled, or were
        complete already.
        """
        if self._first_task is None and hasattr(task, "task_id"):
            self._first_task = task.task_id
        self.add_succeeded = True
        self._validate_task(task)
        walker = GraphWalker(self._checker, retry_external_tasks=self._config.retry_external_tasks)
        try:
            for discovery in walker.walk(task, self._task_limit_reached):
                self._register(discovery)
        except (KeyboardInterrupt, TaskException):
            raise
        except Exception as exc:
            self.add_succeeded = False
            formatted = traceback.format_exc()
            logger.exception("Luigi unexpected framework error while scheduling %s", task)
            task.trigger_event(Event.BROKEN_TASK, task, exc)
            self._email_unexpected_error(task, formatted)
            raise
        finally:
            self._flush_registrations()
        return self.add_succeeded

    def _task_limit_reached(self) -> bool:
        limit = self._config.task_limit
        return limit is not None and len(self._scheduled_tasks) >= limit

    def _register(self, discovery: Discovery) -> None:
        task = discovery.task
        if discovery.failure is not None:
            self.add_succeeded = False
            self._report_scheduling_failure(task, discovery)
        elif discovery.status is TaskStatus.UNKNOWN and self._task_limit_reached():
            logger.warning(
                "Will not run %s or any dependencies due to exceeded task-limit of %d",
                task,
                self._config.task_limit,
            )
        if discovery.deps is not None:
            self._add_task_batcher(task)
        self._scheduled_tasks[task.task_id] = task
        if discovery.status is TaskStatus.PENDING and discovery.runnable:
            self._to_run.add(task.task_id)
        self._queue_registration(
            task_id=task.task_id,
            status=discovery.status.value,
            deps=None if discovery.deps is None else [d.task_id for d in discovery.deps],
            runnable=discovery.runnable,
            priority=task.priority,
            resources=task.process_resources(),
            params=task.to_str_params(),
            family=task.task_family,
            module=task.task_module,
            batchable=task.batchable,
            retry_policy_dict=_retry_policy_dict(task),
            accepts_messages=task.accepts_messages,
        )

    def _report_scheduling_failure(self, task: Task, discovery: Discovery) -> None:
        trace = discovery.failure or ""
        if discovery.failure_kind == "complete":
            logger.warning("Will not run %s or any dependencies due to error in complete() method:\n%s", task, trace)
            subject = "Luigi: {task} failed scheduling. Host: {host}"
            headline = "Will not run {task} or any dependencies due to error in complete() method"
        else:
            logger.warning("Will not run %s or any dependencies due to error in deps() method:\n%s", task, trace)
            subject = "Luigi: {task} failed scheduling. Host: {host}"
            headline = "Will not run {task} or any dependencies due to error in deps() method"
        self._announce_scheduling_failure(task, trace)
        if self._config.send_failure_email:
            self._email_error(task, trace, subject, headline)

    def _announce_scheduling_failure(self, task: Task, expl: str) -> None:
        try:
            self._call_scheduler(
                "announce_scheduling_failure",
                {
                    "worker": self._id,
                    "task_name": str(task),
                    "family": task.task_family,
                    "params": task.to_str_params(only_significant=True),
                    "expl": expl,
                    "owners": task._owner_list(),
                },
            )
        except Exception:  # only feeds batched e-mails; never worth failing a run for
            logger.debug("announce_scheduling_failure was not accepted", exc_info=True)

    def _add_task_batcher(self, task: Task) -> None:
        family = task.task_family
        if family in self._batch_families_sent:
            return
        batch_param_names = type(task).batch_param_names()
        if batch_param_names:
            self._call_scheduler(
                "add_task_batcher",
                {
                    "worker": self._id,
                    "task_family": family,
                    "batched_args": batch_param_names,
                    "max_batch_size": task.max_batch_size,
                },
            )
        self._batch_families_sent.add(family)

    # -- e-mail --------------------------------------------------------------------
    def _email_error(self, task: Task, formatted_traceback: str, subject: str, headline: str) -> None:
        formatted_subject = subject.format(task=task, host=self.host)
        formatted_headline = headline.format(task=task, host=self.host)
        command = " ".join(sys.argv)
        message = notifications.format_task_error(
            formatted_headline, task, command, formatted_traceback
        )
        notifications.send_error_email(formatted_subject, message, task.owner_email)

    def _email_unexpected_error(self, task: Task, formatted_traceback: str) -> None:
        self._email_error(
            task,
            formatted_traceback,
            subject="Luigi: Framework error while scheduling {task}. Host: {host}",
            headline="Luigi framework error",
        )

    def _email_task_failure(self, task: Task, formatted_traceback: str) -> None:
        if self._config.send_failure_email:
            self._email_error(
                task,
                formatted_traceback,
                subject="Luigi: {task} FAILED. Host: {host}",
                headline="A task failed when running. Most likely run() raised an exception.",
            )

    # -- running: run() ------------------------------------------------------------
    def run(self) -> bool:
        """Run tasks until none is left for this worker; True if all succeeded."""
        logger.info("Running Worker with %d processes", self.worker_processes)
        self.run_succeeded = True
        self._call_scheduler(
            "add_worker",
            {"worker": self._id, "info": [*self._worker_info, ("first_task", self._first_task)]},
        )
        self._progress = Progress()
        self._progress.start()
        try:
            return self._run_until_idle()
        finally:
            self._end_leases()
            self._progress.stop()
            self._progress = None

    def _run_until_idle(self) -> bool:
        sleeper = self._sleeper()
        while True:
            while len(self._running_tasks) >= self.worker_processes > 0:
                self._handle_next_task()
            response = self._get_work()
            if response.worker_state == WORKER_STATE_DISABLED:
                self._start_phasing_out()
            if response.task_id is None:
                if self._running_tasks:
                    self._handle_next_task()
                    continue
                self._idle_since = self._idle_since or datetime.datetime.now()
                if self._keep_alive(response):
                    next(sleeper)
                    continue
                break
            self._run_task(response.task_id)
        while self._running_tasks:
            self._handle_next_task()
        return self.run_succeeded

    def _get_work(self) -> GetWorkResponse:
        if self._stop_requesting_work:
            return GetWorkResponse(None, [], 0, 0, 0, WORKER_STATE_DISABLED)
        if self._leasing and self.worker_processes > 0:
            try:
                return self._next_lease()
            except NotImplementedError:
                # A scheduler without work_cycle (a real luigid): Luigi's calls from now on.
                logger.debug("The scheduler has no work_cycle; using get_work and add_task")
                self._leasing = False
                self._flush_registrations()
        if self.worker_processes > 0:
            response = self._call_scheduler(
                "get_work",
                {
                    "worker": self._id,
                    "host": self.host,
                    "assistant": self._assistant,
                    "current_tasks": list(self._running_tasks),
                },
            )
        else:
            response = self._call_scheduler("count_pending", {"worker": self._id})
        running_tasks = response.get("running_tasks", [])
        task_id = self._task_id_from(response)
        self._remember_work_response(task_id, running_tasks)
        task_id = self._known_task(task_id, response)
        return _work_response(task_id, running_tasks, response)

    def _remember_work_response(self, task_id: str | None, running_tasks: list[dict[str, Any]]) -> None:
        """For the summary, which names the workers running what this one waited
        for: only answers that gave this worker nothing say who runs what."""
        if task_id is None:
            self._get_work_response_history.append({"task_id": None, "running_tasks": running_tasks})

    def _known_task(self, task_id: str | None, response: dict[str, Any]) -> str | None:
        """The task handed out, loaded if this worker did not schedule it (None if it cannot be)."""
        if task_id is not None and task_id not in self._scheduled_tasks:
            logger.info("Did not schedule %s, will load it dynamically", task_id)
            try:
                self._scheduled_tasks[task_id] = load_task(
                    response.get("task_module"), response["task_family"], response["task_params"]
                )
            except Exception as exc:  # unknown module or class, or parameters it cannot parse
                self._handle_task_load_error(exc, [task_id])
                self.run_succeeded = False
                return None
        if task_id is not None and "batch_task_ids" in response:
            self._batch_running_tasks[task_id] = [
                self._scheduled_tasks[member]
                for member in response["batch_task_ids"]
                if member in self._scheduled_tasks
            ]
        return task_id

    # -- leasing: one round trip sends results and brings the next tasks ----------------
    def _next_lease(self) -> GetWorkResponse:
        """The next leased task to start, asking the scheduler when none is held."""
        with self._scheduler_lock:  # the keep-alive thread may give leases back
            if self._leases and time.monotonic() > self._lease_deadline:
                # Held unstarted too long: the scheduler may think this worker gone and
                # have given them away. Ask again; it hands back those still ours.
                logger.info("Dropping %d leases held past their time; asking the scheduler again", len(self._leases))
                self._leases.clear()
                self._lease_after.clear()
            task_id = self._pop_startable_lease()
            if task_id is None:
                self._work_cycle(self._lease_size())
                task_id = self._pop_startable_lease()
            if task_id is None:
                return self._last_reply
            self._starting = task_id
        reply = self._last_reply
        return GetWorkResponse(
            task_id,
            reply.running_tasks,
            reply.n_pending_tasks,
            reply.n_unique_pending,
            reply.n_pending_last_scheduled,
            reply.worker_state,
        )

    def _pop_startable_lease(self) -> str | None:
        """The next lease whose leased dependencies all succeeded here; a follow-on
        whose dependency failed (or was suspended) goes back to the scheduler."""
        while self._leases:
            task_id = self._leases.popleft()
            after = self._lease_after.pop(task_id, ())
            if all(dep_id in self._succeeded_here for dep_id in after):
                return task_id
            self._to_release.append(task_id)
        return None

    def _lease_size(self) -> int:
        """About _LEASE_TARGET_SECONDS of work at the pace tasks have run so far (the
        first lease learns the pace), so slow tasks are not held from other workers."""
        slots = max(1, self.worker_processes)
        if self._mean_task_seconds is None:
            return slots
        fits = int(_LEASE_TARGET_SECONDS * slots / max(self._mean_task_seconds, 1e-6))
        return max(slots, min(_LEASE_MAX_WANT, fits))

    def _note_task_time(self, task_id: str) -> None:
        started = self._started_at.pop(task_id, None)
        if started is None:
            return
        self._last_progress = time.monotonic()
        seconds = self._last_progress - started
        previous = self._mean_task_seconds
        self._mean_task_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    def _work_cycle(self, want: int, release: list[str] | None = None) -> None:
        """Send unsent results (and leases given back); take up to ``want`` new leases."""
        with self._scheduler_lock:
            reports = self._take_unsent_reports()
            arguments: dict[str, Any] = {
                "worker": self._id,
                "host": self.host,
                "assistant": self._assistant,
                "want": want,
                "reports": reports,
                "current_tasks": self._held_tasks(),
            }
            release = [*self._to_release, *(release or ())]
            self._to_release = []
            if release:
                arguments["release"] = release
            if self.worker_processes == 1 and not self._assistant:
                arguments["follow_on"] = True
            try:
                response = self._call_scheduler("work_cycle", arguments)
            except BaseException:
                self._unsent_reports[:0] = reports
                self._to_release[:0] = release
                raise
        self._last_progress = time.monotonic()
        self._lease_deadline = self._last_progress + float(response.get("lease_seconds", 0.0))
        running_tasks = response.get("running_tasks", [])
        # (task id, what describes it): a batch is one combined task, as from get_work.
        handed_out: list[tuple[str | None, dict[str, Any]]]
        if "batch_id" in response:
            handed_out = [(self._task_id_from(response), response)]
        else:
            handed_out = [(str(entry["task_id"]), entry) for entry in response.get("tasks", [])]
        self._remember_work_response(handed_out[0][0] if handed_out else None, running_tasks)
        held = set(self._held_tasks())
        for task_id, description in handed_out:
            known = self._known_task(task_id, description)
            if known is not None and known not in held:
                self._leases.append(known)
                held.add(known)
                if description.get("after"):
                    self._lease_after[known] = list(description["after"])
        self._last_reply = _work_response(None, running_tasks, response)

    def _held_tasks(self) -> list[str]:
        """Every task this worker holds: running, being started, leased."""
        held = [*self._running_tasks, *self._leases]
        if self._starting is not None:
            held.append(self._starting)
        return held

    def _report(self, **kwargs: Any) -> None:
        """A task's result: sent now, or with the next work_cycle when leasing."""
        if not self._leasing:
            self._add_task(**kwargs)
            return
        self._record_registration(kwargs)
        kwargs.pop("worker", None)
        if kwargs.get("status") == _DONE:
            self._succeeded_here.add(str(kwargs["task_id"]))
        with self._scheduler_lock:
            if not self._unsent_reports:
                self._oldest_unsent = time.monotonic()
            self._unsent_reports.append(kwargs)

    def _take_unsent_reports(self) -> list[dict[str, Any]]:
        with self._scheduler_lock:
            reports, self._unsent_reports = self._unsent_reports, []
            return reports

    def _beat(self) -> Any:
        """The keep-alive thread's ping. First, when a slow task has held every slot
        for a while, it gives back unstarted leases (with the results so far); else
        it sends results that waited a whole ping interval."""
        with self._scheduler_lock:
            if self._leases and time.monotonic() - self._last_progress > _LEASE_HOLD_SECONDS:
                release, self._leases = list(self._leases), collections.deque()
                self._lease_after.clear()
                logger.info("A task runs long; giving %d unstarted leases back to the scheduler", len(release))
                self._work_cycle(0, release=release)
            elif self._unsent_reports and time.monotonic() - self._oldest_unsent >= self._config.ping_interval:
                self._send_unsent_reports()
        return self._call_scheduler("ping", {"worker": self._id})

    def _end_leases(self) -> None:
        """Leaving run(): send the last results and give back leases not started."""
        if not self._leasing or not (self._leases or self._unsent_reports or self._to_release):
            return
        release, self._leases = list(self._leases), collections.deque()
        self._lease_after.clear()
        try:
            self._work_cycle(0, release=release)
        except Exception:
            logger.warning("Could not send the last results to the scheduler", exc_info=True)

    def _task_id_from(self, response: dict[str, Any]) -> str | None:
        if response.get("task_id") is not None:
            return str(response["task_id"])
        if "batch_id" not in response:
            return None
        # A batch: the scheduler hands out one combined task; load and claim it.
        try:
            task = load_task(
                response.get("task_module"), response["task_family"], response["task_params"]
            )
        except Exception as exc:
            self._handle_task_load_error(exc, response["batch_task_ids"])
            self.run_succeeded = False
            return None
        self._call_scheduler(
            "add_task",
            {
                "worker": self._id,
                "task_id": task.task_id,
                "module": response.get("task_module"),
                "family": response["task_family"],
                "params": task.to_str_params(),
                "status": _RUNNING,
                "batch_id": response["batch_id"],
            },
        )
        return str(task.task_id)

    def _handle_task_load_error(self, exc: Exception, task_ids: list[str]) -> None:
        message = f"Cannot find task(s) sent by scheduler: {','.join(task_ids)}"
        logger.exception(message)
        subject = f"Luigi: {message}"
        error_message = notifications.wrap_traceback(exc)
        for task_id in task_ids:
            self._add_task(
                worker=self._id,
                task_id=task_id,
                status=_FAILED,
                runnable=False,
                expl=error_message,
            )
        notifications.send_error_email(subject, error_message)

    def _run_task(self, task_id: str) -> None:
        try:
            self._start_task(task_id)
        finally:
            self._starting = None  # in _running_tasks now (or never started)

    def _start_task(self, task_id: str) -> None:
        if task_id in self._running_tasks:
            logger.debug("Got already running task id %s from scheduler, taking a break", task_id)
            next(self._sleeper())
            return
        task = self._scheduled_tasks[task_id]
        if self._leasing:
            self._started_at[task_id] = self._last_progress = time.monotonic()
        if self._uses_pool(task):
            self._child_connections[task_id] = self._task_pool().submit(task)
            self._running_tasks[task_id] = PooledRun(task, self._task_pool())  # type: ignore[assignment]
            return
        process = self._create_task_process(task)
        self._running_tasks[task_id] = process
        if process.use_multiprocessing:
            process.start()
            # The parent keeps only the reading end; EOF then means the child is gone.
            process.result_queue._connection.close()  # type: ignore[attr-defined]
        else:
            process.run()

    def _uses_pool(self, task: Task) -> bool:
        """Tasks in child processes reuse pooled processes, unless they need their own:
        a timeout is enforced by killing the process, and messages need a queue."""
        if not (self._config.force_multiprocessing or self.worker_processes > 1):
            return False
        task_timeout = task.worker_timeout
        timeout = task_timeout if task_timeout is not None else self._config.timeout
        return not timeout and not task.accepts_messages

    def _task_pool(self) -> TaskProcessPool:
        if self._pool is None:
            self._pool = TaskProcessPool(
                max(1, self.worker_processes), self._scheduled_tasks, self._pooled_task_process
            )
        return self._pool

    def _pooled_task_process(self, task: Task, channel: PipeChannel) -> TaskProcess:
        """Runs inside a pool process: the task, inline there, reporting over the pipe."""
        reporter = TaskStatusReporter(self._scheduler, task.task_id, self._id, None, channel)
        return TaskProcess(
            task,
            self._id,
            channel,
            reporter,
            use_multiprocessing=False,
            check_unfulfilled_deps=self._config.check_unfulfilled_deps,
            check_complete_on_run=self._config.check_complete_on_run,
            task_completion_cache=self._completion_cache,
            context=self._config.task_process_context,
        )

    def _create_task_process(self, task: Task) -> TaskProcess:
        use_multiprocessing = self._config.force_multiprocessing or self.worker_processes > 1
        task_timeout = task.worker_timeout
        if task_timeout is not None:
            use_multiprocessing = use_multiprocessing or bool(task_timeout)
        else:
            use_multiprocessing = use_multiprocessing or bool(self._config.timeout)
        channel: InlineChannel | PipeChannel
        if use_multiprocessing:
            reader, writer = _fork.Pipe(duplex=False)
            self._child_connections[task.task_id] = reader
            channel = PipeChannel(writer)
        else:
            channel = self._inline
        reporter = TaskStatusReporter(self._scheduler, task.task_id, self._id, None, channel)
        if task.accepts_messages:
            raw: Any = _fork.Queue() if use_multiprocessing else queue.Queue()
            reporter.scheduler_messages = _TaskMessageQueue(raw, reporter)
        return TaskProcess(
            task,
            self._id,
            channel,
            reporter,
            use_multiprocessing=use_multiprocessing,
            worker_timeout=self._config.timeout,
            check_unfulfilled_deps=self._config.check_unfulfilled_deps,
            check_complete_on_run=self._config.check_complete_on_run,
            task_completion_cache=self._completion_cache,
            context=self._config.task_process_context,
        )

    # -- results -----------------------------------------------------------------------
    def _next_result(self) -> TaskResult | None:
        """The next finished task's result, waiting up to wait_interval for one."""
        if self._inline.results:
            return self._inline.results.popleft()
        if not self._child_connections:
            return None
        deadline = time.monotonic() + self._config.wait_interval
        while True:
            result = self._poll_children(max(0.0, deadline - time.monotonic()))
            if result is not None or time.monotonic() >= deadline:
                return result

    def _poll_children(self, timeout: float) -> TaskResult | None:
        timeout = min(timeout, self._seconds_to_next_task_timeout())
        ready = multiprocessing.connection.wait(list(self._child_connections.values()), timeout)
        for connection in ready:
            assert isinstance(connection, multiprocessing.connection.Connection)
            task_id = next(t for t, c in self._child_connections.items() if c is connection)
            try:
                message = connection.recv()
            except (EOFError, OSError):
                return self._child_ended_without_result(task_id)
            if message[0] == "call":
                self._call_scheduler(str(message[1]), dict(message[2]))
                continue
            self._forget_child(task_id)
            result: TaskResult = message[1]
            return result
        return self._timed_out_child()

    def _seconds_to_next_task_timeout(self) -> float:
        deadlines = [p.timeout_time for p in self._running_tasks.values() if p.timeout_time]
        if not deadlines:
            return float(self._config.wait_interval)
        return max(0.0, min(deadlines) - time.time())

    def _timed_out_child(self) -> TaskResult | None:
        now = time.time()
        for task_id, process in self._running_tasks.items():
            if process.timeout_time is not None and now > process.timeout_time and process.is_alive():
                process.terminate()
                message = (
                    f"Task {task_id} timed out after {process.worker_timeout} seconds "
                    "and was terminated."
                )
                logger.info(message)
                process.task.trigger_event(Event.TIMEOUT, process.task, message)
                self._forget_child(task_id)
                return (task_id, _FAILED, message, [], [])
        return None

    def _child_ended_without_result(self, task_id: str) -> TaskResult:
        process = self._running_tasks[task_id]
        if isinstance(process, PooledRun):
            process.terminate()  # collects the dead pool process and its exit code
        process.join(timeout=10)
        message = f"Task {task_id} died unexpectedly with exit code {process.exitcode}"
        logger.info(message)
        process.task.trigger_event(Event.PROCESS_FAILURE, process.task, message)
        self._forget_child(task_id)
        return (task_id, _FAILED, message, [], [])

    def _forget_child(self, task_id: str) -> None:
        process = self._running_tasks.get(task_id)
        if isinstance(process, PooledRun):
            # The pool process lives on and keeps its pipe for the next task.
            self._child_connections.pop(task_id, None)
            if self._pool is not None:
                self._pool.release(task_id)
            return
        connection = self._child_connections.pop(task_id, None)
        if connection is not None:
            connection.close()
        if process is not None and process.use_multiprocessing:
            # The result is in; the child is exiting. Reap it later rather than
            # wait for its exit now, which would idle a worker slot.
            self._exiting_children.append(process)
        self._exiting_children = [p for p in self._exiting_children if p.exitcode is None]

    def _handle_next_task(self) -> None:
        """Wait (up to wait_interval) for one task to finish and report it."""
        self._idle_since = None
        result = self._next_result()
        if result is None:
            return
        task_id, status, expl, missing, new_requirements = result
        task = self._scheduled_tasks[task_id]
        if task_id not in self._running_tasks:
            return
        if status == _FAILED and not (
            is_external(task) and self._config.retry_external_tasks
        ):
            self._email_task_failure(task, expl)
        new_deps: list[str] = []
        if new_requirements:
            new_tasks = [load_task(module, family, params) for module, family, params in new_requirements]
            for new_task in new_tasks:
                self.add(new_task)
            new_deps = [t.task_id for t in new_tasks]
        self._note_task_time(task_id)
        self._report(
            worker=self._id,
            task_id=task_id,
            status=status,
            expl=_json_text(expl),
            resources=task.process_resources(),
            runnable=None,
            params=task.to_str_params(),
            family=task.task_family,
            module=task.task_module,
            new_deps=new_deps,
            assistant=self._assistant,
            retry_policy_dict=_retry_policy_dict(task),
        )
        self._running_tasks.pop(task_id)
        self._count_outcome(task_id, status)
        if missing:
            # A dependency vanished between scheduling and running: schedule the
            # task again, but not forever.
            reschedule = True
            for missing_id in missing:
                self.unfulfilled_counts[missing_id] += 1
                if self.unfulfilled_counts[missing_id] > self._config.max_reschedules:
                    reschedule = False
            if reschedule:
                self.add(task)
        self.run_succeeded &= status == _DONE or bool(new_deps)

    def _count_outcome(self, task_id: str, status: str) -> None:
        if status == _DONE:
            self._finished.done += 1
            self._to_run.discard(task_id)
        elif status == _FAILED:
            self._finished.failed += 1
            self._to_run.discard(task_id)
        if self._progress is not None:
            running = len(self._running_tasks)
            self._progress.update(
                Counts(
                    done=self._finished.done,
                    running=running,
                    pending=max(0, len(self._to_run) - running),
                    failed=self._finished.failed,
                )
            )

    # -- idling ------------------------------------------------------------------------
    def _sleeper(self) -> Iterator[None]:
        while True:
            time.sleep(self._config.wait_interval + random.uniform(0, self._config.wait_jitter))
            yield

    def _keep_alive(self, response: GetWorkResponse) -> bool:
        config = self._config
        if not config.keep_alive:
            return False
        if self._assistant:
            return True
        if config.count_last_scheduled:
            return response.n_pending_last_scheduled > 0
        if config.count_uniques:
            return response.n_unique_pending > 0
        if response.n_pending_tasks == 0:
            return False
        if not config.max_keep_alive_idle_duration or not self._idle_since:
            return True
        shutdown_at = self._idle_since + config.max_keep_alive_idle_duration
        return bool(shutdown_at > datetime.datetime.now())

    def handle_interrupt(self, signum: int, _frame: Any) -> None:
        """SIGUSR1: stop asking for work, finish what runs, then exit."""
        if signum == signal.SIGUSR1:
            self._start_phasing_out()

    def _start_phasing_out(self) -> None:
        self._config.keep_alive = False
        self._stop_requesting_work = True

    # -- messages from the scheduler -----------------------------------------------------
    def _handle_rpc_message(self, message: dict[str, Any]) -> None:
        logger.info("Worker %s got message %s", self._id, message)
        name, kwargs = message["name"], message.get("kwargs", {})
        func = getattr(self, name, None)
        if not callable(func):
            logger.error("Worker %s has no function '%s'", self._id, name)
        elif not getattr(func, "is_rpc_message_callback", False):
            logger.error("Worker %s function '%s' is not available as rpc message callback", self._id, name)
        else:
            func(**kwargs)

    @rpc_message_callback
    def set_worker_processes(self, n: int) -> None:
        self.worker_processes = max(1, int(n))
        self._call_scheduler("add_worker", {"worker": self._id, "info": {"workers": self.worker_processes}})

    @rpc_message_callback
    def dispatch_scheduler_message(
        self, task_id: str, message_id: str, content: Any, **kwargs: Any
    ) -> None:
        process = self._running_tasks.get(str(task_id))
        if process is None:
            return
        inbox = process.status_reporter.scheduler_messages
        if inbox is not None:
            inbox.put((str(task_id), message_id, content, kwargs))
