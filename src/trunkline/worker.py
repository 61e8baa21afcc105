"""The worker: registers a graph with a scheduler, then asks for work and runs it (``luigi.worker``).

A run is ``add(task)`` for each root (walk the graph, tell the scheduler each
task's status), then ``run()``: ask for work, run it (inline with one process,
in forked children with more), report the result, until the scheduler has
nothing left this worker may run. The scheduler is anything with Luigi's RPC
methods: the in-process :class:`trunkline.scheduler.Scheduler`, a
:class:`trunkline.rpc.RemoteScheduler`, or a user's wrapper around either.

This module is the shell: it holds the names Luigi's module has and the ones
tests patch (``time``, ``signal``, ``ContextManagedTaskProcess``,
``Worker.add``), and reads them at call time. The parts that need no patch
point live in ``trunkline._worker``.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import functools
import getpass
import importlib
import inspect
import json
import logging
import multiprocessing
import os
import queue as Queue
import random
import signal
from signal import SIGINT as _SIGINT
from signal import SIGTERM as _SIGTERM
import socket
import subprocess  # noqa: F401 - a name of Luigi's module
import sys
import threading
import time
import traceback
from collections.abc import Iterator, MutableMapping
from multiprocessing.context import ForkProcess
from time import monotonic as _monotonic  # not worker.time: tests replace that one
from types import FrameType, TracebackType
from typing import Any, Literal

from trunkline import notifications
from trunkline.event import Event
from trunkline.parameter import (  # noqa: F401 - names of Luigi's module
    BoolParameter,
    FloatParameter,
    IntParameter,
    OptionalParameter,
    Parameter,
    TimeDeltaParameter,
)
from trunkline.scheduler import RetryPolicy, Scheduler  # noqa: F401
from trunkline.target import Target  # noqa: F401
from trunkline.task import Config, DynamicRequirements, Task, flatten  # noqa: F401
from trunkline.task_register import TaskClassException, load_task  # noqa: F401
from trunkline.task_status import DISABLED, DONE, FAILED, PENDING, RUNNING, UNKNOWN  # noqa: F401
from trunkline._worker.completion import AsyncCompletionException as AsyncCompletionException
from trunkline._worker.errors import SchedulerUnreachable
from trunkline._worker.completion import DequeQueue as DequeQueue
from trunkline._worker.completion import SingleProcessPool as SingleProcessPool
from trunkline._worker.completion import TracebackWrapper as TracebackWrapper
from trunkline._worker.completion import check_complete as check_complete
from trunkline._worker.completion import check_complete_cached as check_complete_cached
from trunkline._worker.completion import process_pool_checker
from trunkline._worker.config import worker as worker
from trunkline._worker.errors import TaskException as TaskException
from trunkline._worker.graph import CheckFailure, CompletenessChecker, Discovery, GraphWalker, is_external
from trunkline._worker.leases import LeaseClient, WorkAnswer, answer_from
from trunkline._worker.messages import InlineChannel, PipeChannel, ResultChannel, TaskMessageQueue, _fork
from trunkline._worker.messages import SchedulerMessage as SchedulerMessage
from trunkline._worker.messages import TaskStatusReporter as TaskStatusReporter
from trunkline._worker.pool import PooledRun, TaskProcessPool, terminate_tree
from trunkline._worker.progress import Counts, Progress
from trunkline._worker.registrations import RegistrationBatcher
from trunkline._worker.supervisor import ChildSupervisor

logger = logging.getLogger("luigi-interface")

WORKER_STATE_ACTIVE = "active"
WORKER_STATE_DISABLED = "disabled"

# Held while forking: a fork during a C-level getaddrinfo() (the keep-alive
# thread's ping) could leave the child holding that call's process-wide lock.
fork_lock = threading.Lock()
# Luigi's floor for a queue wait; kept for code that reads it.
_WAIT_INTERVAL_EPS = 0.00001

GetWorkResponse = collections.namedtuple(
    "GetWorkResponse",
    (
        "task_id",
        "running_tasks",
        "n_pending_tasks",
        "n_unique_pending",
        "n_pending_last_scheduled",
        "worker_state",
    ),
)

# Exit status of a worker stopped by SIGTERM (docs/running.md, "Signals and exit
# codes"); SIGINT ends it as Python ends on an uncaught KeyboardInterrupt.
EXIT_TERMINATED = 143
# How long children stopped by a signal get to finish their task before SIGTERM.
_STOP_GRACE_SECONDS = 5.0


def _is_external(task: Task) -> bool:
    return is_external(task)


def _get_retry_policy_dict(task: Task) -> dict[str, Any]:
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
        return str(_quote(value))
    return json.dumps(value)


def _now() -> float:
    # The clock the supervisor uses for task deadlines: this module's ``time``,
    # looked up at call time, so ``mock.patch("trunkline.worker.time")`` drives it.
    return float(time.time())


# -- which conversation the worker has with its scheduler ------------------------------
_OWN_LOCAL_METHODS = {name: getattr(Scheduler, name, None) for name in ("add_task", "add_tasks", "get_work")}


def _batches_locally(scheduler: Any) -> bool:
    """Batched registration is invisible only on trunkline's own Scheduler, untouched."""
    if type(scheduler) is not Scheduler or _OWN_LOCAL_METHODS["add_tasks"] is None:
        return False
    instance = vars(scheduler)
    return all(
        name not in instance and getattr(Scheduler, name) is method
        for name, method in _OWN_LOCAL_METHODS.items()
    )


def _leases_remotely(scheduler: Any) -> bool:
    """trunkline's own RemoteScheduler (it defines the marker itself; a subclass
    inherits it), with Luigi's methods not replaced on the class or the instance."""
    cls = type(scheduler)
    if not vars(cls).get("round_trips_are_costly", False):
        return False
    instance = vars(scheduler)
    return all(
        name not in instance and inspect.isfunction(getattr(cls, name, None))
        for name in ("add_task", "get_work", "ping")
    )


# -- running one task -----------------------------------------------------------------------
def _unfulfilled_dependencies(task: Task, checker: CompletenessChecker) -> list[str]:
    missing = []
    for dep in task.deps():
        if checker.check(dep) is True:
            continue
        absent = [str(out) for out in flatten(dep.output()) if not out.exists()]
        missing.append(f"{dep.task_id} ({', '.join(absent)})" if absent else dep.task_id)
    return missing


class TaskProcess(ForkProcess):
    """Runs one task; ``run()`` inline, or ``start()`` in a forked child.

    It knows nothing of the graph: it runs ``run()`` (driving a generator through
    its dynamic dependencies), decides the outcome and puts one result tuple
    ``(task_id, status, expl, missing, new_deps)`` on ``result_queue``.
    """

    # reporter attribute -> task attribute, set only while run() executes
    forward_reporter_attributes = {
        "update_tracking_url": "set_tracking_url",
        "update_status_message": "set_status_message",
        "update_progress_percentage": "set_progress_percentage",
        "decrease_running_resources": "decrease_running_resources",
        "scheduler_messages": "scheduler_messages",
    }

    def __init__(
        self,
        task: Task,
        worker_id: str,
        result_queue: ResultChannel | Any,
        status_reporter: TaskStatusReporter,
        use_multiprocessing: bool = False,
        worker_timeout: float = 0,
        check_unfulfilled_deps: bool = True,
        check_complete_on_run: bool = False,
        task_completion_cache: MutableMapping[str, bool] | None = None,
    ) -> None:
        self.task = task
        self.worker_id = worker_id
        self.result_queue = result_queue
        self.status_reporter = status_reporter
        task_timeout = task.worker_timeout
        self.worker_timeout = task_timeout if task_timeout is not None else worker_timeout
        self.timeout_time = time.time() + self.worker_timeout if self.worker_timeout else None
        # A timeout can only be enforced on a process that can be killed.
        self.use_multiprocessing = use_multiprocessing or self.timeout_time is not None
        # The Process machinery even for inline tasks (~7 µs): Luigi's callers
        # start() any TaskProcess and read is_alive()/exitcode of inline ones.
        super().__init__()
        self.check_unfulfilled_deps = check_unfulfilled_deps
        self.check_complete_on_run = check_complete_on_run
        self.task_completion_cache = task_completion_cache
        self.check_complete = functools.partial(check_complete_cached, completion_cache=task_completion_cache)
        self._checker = CompletenessChecker(threads=1, cache=task_completion_cache)

    def run(self) -> None:
        task = self.task
        logger.info("[pid %s] Worker %s running   %s", os.getpid(), self.worker_id, task)
        if self.use_multiprocessing:
            # Forked children must not share a seed; and a child's SIGINT/SIGTERM
            # is the parent's business (it decides who finishes and who stops).
            random.seed(os.getpid() * time.time())
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        status = FAILED
        expl: Any = ""
        missing: list[str] = []
        new_deps: Any = []  # Luigi's callers expect None, not [], when run() yields nothing
        try:
            if self.check_unfulfilled_deps and not is_external(task):
                missing = _unfulfilled_dependencies(task, self._checker)
                if missing:
                    noun = "dependency" if len(missing) == 1 else "dependencies"
                    raise RuntimeError(f"Unfulfilled {noun} at run time: {', '.join(missing)}")
            task.trigger_event(Event.START, task)
            started = time.time()
            if is_external(task):
                if self._checker.check(task) is True:
                    status = DONE
                else:
                    expl = "Task is an external data dependency and data does not exist (yet?)."
            else:
                self._forward_attributes()
                try:
                    new_deps = self._run_get_new_deps()
                finally:
                    self._unforward_attributes()
                if new_deps:
                    status = PENDING
                    logger.info("[pid %s] Worker %s new requirements      %s", os.getpid(), self.worker_id, task)
                elif not self.check_complete_on_run or self._checker.check(task) is True:
                    status = DONE
                    if self.task_completion_cache is not None:
                        self.task_completion_cache[task.task_id] = True
                else:
                    raise TaskException("Task finished running, but complete() is still returning false.")
            if status == DONE:
                task.trigger_event(Event.PROCESSING_TIME, task, time.time() - started)
                expl = task.on_success()
                logger.info("[pid %s] Worker %s done      %s", os.getpid(), self.worker_id, task)
                task.trigger_event(Event.SUCCESS, task)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the task's failure is data, reported to the scheduler
            status = FAILED
            expl = self._handle_run_exception(exc)
        finally:
            self.result_queue.put((task.task_id, status, expl, missing, new_deps))

    def _handle_run_exception(self, exc: BaseException) -> Any:
        logger.exception("[pid %s] Worker %s failed    %s", os.getpid(), self.worker_id, self.task)
        self.task.trigger_event(Event.FAILURE, self.task, exc)
        return self.task.on_failure(exc)

    def _run_get_new_deps(self) -> list[tuple[str, str, dict[str, str]]] | None:
        """Run the task; if run() is a generator, follow its yielded requirements.

        Returns the incomplete yielded tasks, as (module, family, params), or
        None (Luigi's value, which its callers compare against).
        """
        outcome = self.task.run()
        if outcome is None or not isinstance(outcome, collections.abc.Generator):
            return None  # (None first: the usual run() returns it, and Generator is an ABC)
        to_send: Any = None
        while True:
            try:
                yielded = next(outcome) if to_send is None else outcome.send(to_send)
            except StopIteration:
                return None
            requirements = yielded if isinstance(yielded, DynamicRequirements) else DynamicRequirements(yielded)
            if not requirements.complete(self._complete_for_dynamic):
                return [(dep.task_module, dep.task_family, dep.to_str_params()) for dep in requirements.flat_requirements]
            to_send = requirements.paths

    def _complete_for_dynamic(self, task: Task) -> bool:
        result = self._checker.check(task)
        if isinstance(result, CheckFailure):
            raise TaskException(f"complete() of {task.task_id} failed:\n{result.trace}")
        return result

    def _forward_attributes(self) -> None:
        """While run() executes, the task's set_status_message() etc. reach the scheduler."""
        for reporter_attr, task_attr in self.forward_reporter_attributes.items():
            setattr(self.task, task_attr, getattr(self.status_reporter, reporter_attr))

    def _unforward_attributes(self) -> None:
        for task_attr in self.forward_reporter_attributes.values():
            setattr(self.task, task_attr, None)

    def _recursive_terminate(self) -> None:
        terminate_tree(self.pid)

    def terminate(self) -> None:
        """Terminate this process and every process it started."""
        terminate_tree(self.pid)
        self.join(timeout=10)
        if self.is_alive():
            self.kill()
            self.join(timeout=10)

    @staticmethod
    def terminate_tree(pid: int | None) -> None:
        terminate_tree(pid)


class ContextManagedTaskProcess(TaskProcess):
    """A TaskProcess whose run() happens inside ``context`` (a dotted class name
    of a context manager taking the process), as ``[worker] task_process_context`` asks."""

    def __init__(self, context: str | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def run(self) -> None:
        if not self.context:
            super().run()
            return
        module_path, class_name = self.context.rsplit(".", 1)
        context_cls = getattr(importlib.import_module(module_path), class_name)
        # The result leaves only once the context has exited: the worker treats
        # a result as "this task is over", and what __exit__ does is part of it.
        destination = self.result_queue
        held = _HeldResult(destination)
        self.result_queue = held
        try:
            with context_cls(self):
                super().run()
        finally:
            self.result_queue = destination
            held.release()


class _HeldResult:
    """Stands for a result queue, keeping the result until release()."""

    def __init__(self, destination: Any) -> None:
        self._destination = destination
        self._results: list[Any] = []

    def put(self, result: Any) -> None:
        self._results.append(result)

    def release(self) -> None:
        for result in self._results:
            self._destination.put(result)
        self._results.clear()


class KeepAliveThread(threading.Thread):
    """Pings the scheduler so it knows the worker lives, and relays its messages."""

    def __init__(self, scheduler: Any, worker_id: str, ping_interval: float, rpc_message_callback: Any) -> None:
        super().__init__(name="trunkline-keep-alive", daemon=True)
        self._scheduler = scheduler
        self._worker_id = worker_id
        self._ping_interval = ping_interval
        self._rpc_message_callback = rpc_message_callback
        self._should_stop = threading.Event()

    def stop(self) -> None:
        self._should_stop.set()

    def run(self) -> None:
        while not self._should_stop.wait(self._ping_interval):
            with fork_lock:
                try:
                    response = self._scheduler.ping(worker=self._worker_id)
                except BaseException:  # a missed ping is retried on the next beat
                    logger.warning("Failed pinging scheduler", exc_info=True)
                    continue
            for message in (response or {}).get("rpc_messages", []):
                self._rpc_message_callback(message)
        logger.info("Worker %s was stopped. Shutting down Keep-Alive thread", self._worker_id)


class _Beat:
    """What the keep-alive thread pings: the worker's scheduler, after the worker
    has sent results that waited (leasing) under its lock."""

    def __init__(self, owner: Worker) -> None:
        self._owner = owner

    def ping(self, worker: str) -> Any:
        return self._owner._beat()


def rpc_message_callback(fn: Any) -> Any:
    """Marks a Worker method the scheduler may call through ping's rpc_messages."""
    fn.is_rpc_message_callback = True
    return fn


class WorkerConfigError(ValueError, AssertionError):
    """A ``[worker]`` value the worker cannot run with. Luigi asserts these, so
    it is an AssertionError too, for code that catches that."""


class _Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the run loop unwinds and cleans up."""


class Worker:
    """Schedules tasks with a scheduler and runs the ones it is given.

    Use as a context manager: entering starts the keep-alive thread (and the
    SIGUSR1 / SIGTERM handlers), leaving stops it and stops task processes
    still alive.
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
        self._config = worker(**kwargs)
        if self._config.wait_interval <= 0:
            raise WorkerConfigError(f"[worker] wait_interval must be positive (got {self._config.wait_interval})")
        if self._config.wait_jitter < 0:
            raise WorkerConfigError(f"[worker] wait_jitter must be zero or more (got {self._config.wait_jitter})")
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
        self._task_completion_cache: dict[str, bool] | None = {} if self._config.cache_task_completion else None
        self._checker = CompletenessChecker(
            threads=self._config.check_complete_threads, cache=self._task_completion_cache
        )
        self._inline = InlineChannel(self._call_scheduler)
        self._running_tasks: dict[str, Any] = {}
        self._children = ChildSupervisor(self._running_tasks, self._inline, self._call_scheduler, _now)
        self._registrations = RegistrationBatcher(self._call_scheduler, self._id)
        self._batch_this_walk = False
        self._idle_since: datetime.datetime | None = None
        self._keep_alive_thread: KeepAliveThread | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._interrupted_by: int | None = None

        # Leasing: with trunkline's RemoteScheduler, one work_cycle call sends the
        # results of the tasks run since the last one and leases the next few.
        self._leasing = _leases_remotely(self._scheduler)
        self._leases = LeaseClient(self, self._scheduler_lock, self._config.ping_interval)

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
            _Beat(self), self._id, self._config.ping_interval, self._handle_rpc_message
        )
        self._keep_alive_thread.start()
        if threading.current_thread() is threading.main_thread():
            # AttributeError: a platform (or a patched worker.signal) without SIGUSR1.
            if not self._config.no_install_shutdown_handler:
                with contextlib.suppress(AttributeError):
                    self._install_handler(signal.SIGUSR1, self.handle_interrupt)
                    signal.siginterrupt(signal.SIGUSR1, False)
            # SIGTERM unwinds the run loop as Ctrl-C does, so children are stopped
            # and what was interrupted is reported (see _stop_children).
            with contextlib.suppress(AttributeError):
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self._install_handler(signal.SIGTERM, self._handle_sigterm)
        return self

    def _install_handler(self, signum: int, handler: Any) -> None:
        with contextlib.suppress(ValueError, AttributeError, OSError):
            self._previous_handlers[signum] = signal.signal(signum, handler)

    def _handle_sigterm(self, signum: int, _frame: FrameType | None) -> None:
        raise _Interrupted(f"Stopped by signal {signum}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self._keep_alive_thread is not None:
            self._keep_alive_thread.stop()
            self._keep_alive_thread.join()
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        if interrupted:
            self._interrupted_by = _SIGTERM if issubclass(exc_type, _Interrupted) else _SIGINT  # type: ignore[arg-type]
            self._stop_children(_STOP_GRACE_SECONDS)
        else:
            for process in list(self._running_tasks.values()):
                if getattr(process, "use_multiprocessing", False) and process.is_alive():
                    process.terminate()
        self._children.close()
        for signum, previous in self._previous_handlers.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, previous)
        self._previous_handlers.clear()
        self._checker.close()
        if self._interrupted_by == _SIGTERM:
            # SIGTERM's own default is to end the process; do that, now that the
            # children are stopped, with the status a shell reports for it.
            raise SystemExit(EXIT_TERMINATED) from exc
        return False  # never swallow the exception

    def _stop_children(self, grace: float) -> None:
        """Interrupted: give children ``grace`` seconds to finish their task (their
        results are reported as usual), then terminate the rest and tell the
        scheduler each of those was interrupted."""
        deadline = _monotonic() + grace
        with contextlib.suppress(Exception):
            while self._children.connections and _monotonic() < deadline:
                result = self._children.next_result(max(0.0, deadline - _monotonic()))
                if result is not None:
                    self._report_result(result)
        for task_id in self._children.terminate_running():
            self._running_tasks.pop(task_id, None)
            self._children.forget(task_id)
            message = f"Task {task_id} was interrupted: the worker was stopped by a signal."
            logger.warning(message)
            with contextlib.suppress(Exception):
                self._add_task(
                    worker=self._id,
                    task_id=task_id,
                    status=FAILED,
                    expl=json.dumps(message),
                    runnable=None,
                    assistant=self._assistant,
                )
        if self._leasing:
            with contextlib.suppress(Exception):
                self._leases.end()  # the results and releases above go out now

    # -- talking to the scheduler ------------------------------------------------
    def _call_scheduler(self, method: str, kwargs: dict[str, Any]) -> Any:
        with self._scheduler_lock:
            return getattr(self._scheduler, method)(**kwargs)

    def _add_task(self, *args: Any, **kwargs: Any) -> None:
        """Tell the scheduler a task's status now, recording it for the summary."""
        self._record_registration(kwargs)
        with self._scheduler_lock:
            self._scheduler.add_task(*args, **kwargs)
        logger.debug("Informed scheduler that task   %s   has status   %s", kwargs.get("task_id"), kwargs.get("status"))

    def _record_registration(self, kwargs: dict[str, Any]) -> None:
        task_id = kwargs.get("task_id")
        task = self._scheduled_tasks.get(task_id) if task_id is not None else None
        if task is not None:
            self._add_task_history.append((task, kwargs["status"], kwargs.get("runnable")))
            kwargs["owners"] = task._owner_list()
            if kwargs.get("params"):
                kwargs["param_visibilities"] = task._get_param_visibilities()
        for batch_task in self._batch_running_tasks.pop(task_id, ()):  # type: ignore[arg-type]
            self._add_task_history.append((batch_task, kwargs["status"], True))

    def _batching(self) -> bool:
        return self._leasing or _batches_locally(self._scheduler)

    def _queue_registration(self, **kwargs: Any) -> None:
        self._record_registration(kwargs)
        self._registrations.queue(kwargs, self._batch_this_walk, self._send_unsent_reports)

    def _flush_registrations(self) -> None:
        self._registrations.flush(self._send_unsent_reports)

    def _send_unsent_reports(self) -> None:
        if not self._leasing:
            return
        with self._scheduler_lock:
            reports = self._leases.take_unsent()
            try:
                self._registrations.send(reports)
            except BaseException:
                self._leases.put_back_unsent(reports)
                raise

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
        pool = None
        checker = self._checker
        if multiprocess:
            # Luigi's parallel scheduling: complete() checks in a process pool.
            pool = multiprocessing.Pool(processes=processes if processes > 0 else None)
            checker = process_pool_checker(pool, self._task_completion_cache)
        walker = GraphWalker(checker, retry_external_tasks=self._config.retry_external_tasks)
        # Decided once per walk: whether the scheduler is one where batching is invisible.
        self._batch_this_walk = self._batching()
        walked = False
        try:
            for discovery in walker.walk(task, self._task_limit_reached):
                self._register(discovery)
            walked = True
            # Inside the try: a scheduler that cannot be reached while the last
            # registrations go out is a framework error, e-mailed as Luigi's
            # worker (which sends each task as it finds it) e-mails it.
            self._flush_registrations()
        except (KeyboardInterrupt, TaskException):
            raise
        except Exception as exc:
            self.add_succeeded = False
            formatted = traceback.format_exc()
            if isinstance(exc, SchedulerUnreachable):
                # The raised error says which scheduler and what to do; a traceback
                # through the HTTP client would bury that.
                logger.error("Luigi unexpected framework error while scheduling %s: no scheduler answered", task)
            else:
                logger.exception("Luigi unexpected framework error while scheduling %s", task)
            task.trigger_event(Event.BROKEN_TASK, task, exc)
            self._email_unexpected_error(task, formatted)
            raise
        finally:
            if pool is not None:
                pool.close()
                pool.join()
            if not walked:
                # The tasks found before the walk stopped stay registered, as
                # Luigi's leave them; the walk's own error is the one raised.
                with contextlib.suppress(Exception):
                    self._flush_registrations()
        return self.add_succeeded

    def _task_limit_reached(self) -> bool:
        limit = self._config.task_limit
        return limit is not None and len(self._scheduled_tasks) >= limit

    def _register(self, discovery: Discovery) -> None:
        task = discovery.task
        status = discovery.status.value
        if discovery.failure is not None:
            self.add_succeeded = False
            self._report_scheduling_failure(task, discovery)
        elif status == UNKNOWN and self._task_limit_reached():
            logger.warning(
                "Will not run %s or any dependencies due to exceeded task-limit of %d", task, self._config.task_limit
            )
        if discovery.deps is not None:
            self._add_task_batcher(task)
        self._scheduled_tasks[task.task_id] = task
        if status == PENDING and discovery.runnable:
            self._to_run.add(task.task_id)
        self._queue_registration(
            task_id=task.task_id,
            status=status,
            deps=None if discovery.deps is None else [d.task_id for d in discovery.deps],
            runnable=discovery.runnable,
            priority=task.priority,
            resources=task.process_resources(),
            params=task.to_str_params(),
            family=task.task_family,
            module=task.task_module,
            batchable=task.batchable,
            retry_policy_dict=_get_retry_policy_dict(task),
            accepts_messages=task.accepts_messages,
        )

    def _report_scheduling_failure(self, task: Task, discovery: Discovery) -> None:
        trace = discovery.failure or ""
        method = "complete()" if discovery.failure_kind == "complete" else "deps()"
        logger.warning("Will not run %s or any dependencies due to error in %s method:\n%s", task, method, trace)
        self._announce_scheduling_failure(task, trace)
        if self._config.send_failure_email:
            self._email_error(
                task,
                trace,
                "Luigi: {task} failed scheduling. Host: {host}",
                f"Will not run {{task}} or any dependencies due to error in {method} method",
            )

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
        except Exception:
            # As Luigi's worker: a scheduler refusing the announcement is a
            # framework error, e-mailed here and raised out of add().
            self._email_unexpected_error(task, traceback.format_exc())
            raise

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
        message = notifications.format_task_error(formatted_headline, task, command, formatted_traceback)
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
    def _add_worker(self) -> None:
        self._worker_info.append(("first_task", self._first_task))
        self._call_scheduler("add_worker", {"worker": self._id, "info": self._worker_info})

    def run(self) -> bool:
        """Run tasks until none is left for this worker; True if all succeeded."""
        logger.info("Running Worker with %d processes", self.worker_processes)
        self.run_succeeded = True
        self._add_worker()
        self._progress = Progress()
        self._progress.start()
        try:
            return self._run_until_idle()
        finally:
            if self._leasing:
                self._leases.end()
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

    def _get_work(self) -> Any:
        if self._stop_requesting_work:
            return GetWorkResponse(None, 0, 0, 0, 0, WORKER_STATE_DISABLED)
        if self._leasing and self.worker_processes > 0:
            try:
                return self._leases.next_task()
            except NotImplementedError:
                # A scheduler without work_cycle (a real luigid): Luigi's calls from now on.
                logger.debug("The scheduler has no work_cycle; using get_work and add_task")
                self._leasing = False
                self._flush_registrations()
        with self._scheduler_lock:
            if self.worker_processes > 0:
                response = self._scheduler.get_work(
                    worker=self._id,
                    host=self.host,
                    assistant=self._assistant,
                    current_tasks=list(self._running_tasks),
                )
            else:
                response = self._scheduler.count_pending(worker=self._id)
        running_tasks = response.get("running_tasks", [])
        task_id = self._task_id_from(response)
        self._remember_work_response(task_id, running_tasks)
        task_id = self._known_task(task_id, response)
        answer = answer_from(task_id, running_tasks, response)
        return GetWorkResponse(
            answer.task_id,
            answer.running_tasks,
            answer.n_pending_tasks,
            answer.n_unique_pending,
            answer.n_pending_last_scheduled,
            answer.worker_state,
        )

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
                self._scheduled_tasks[member] for member in response["batch_task_ids"] if member in self._scheduled_tasks
            ]
        return task_id

    def _beat(self) -> Any:
        """The keep-alive ping; when leasing, results that waited go first."""
        if self._leasing:
            self._leases.beat(self._send_unsent_reports)
        return self._call_scheduler("ping", {"worker": self._id})

    def _task_id_from(self, response: dict[str, Any]) -> str | None:
        if response.get("task_id") is not None:
            return str(response["task_id"])
        if "batch_id" not in response:
            return None
        # A batch: the scheduler hands out one combined task; load and claim it.
        try:
            task = load_task(response.get("task_module"), response["task_family"], response["task_params"])
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
                "status": RUNNING,
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
            self._add_task(worker=self._id, task_id=task_id, status=FAILED, runnable=False, expl=error_message)
        notifications.send_error_email(subject, error_message)

    # -- starting task processes ------------------------------------------------------
    def _run_task(self, task_id: str) -> None:
        try:
            self._start_task(task_id)
        finally:
            self._leases.starting = None  # in _running_tasks now (or never started)

    def _start_task(self, task_id: str) -> None:
        if task_id in self._running_tasks:
            logger.debug("Got already running task id %s from scheduler, taking a break", task_id)
            next(self._sleeper())
            return
        task = self._scheduled_tasks[task_id]
        if self._leasing:
            self._leases.started(task_id)
        if self._uses_pool(task):
            with fork_lock:
                self._children.watch(task_id, self._task_pool().submit(task))
            self._running_tasks[task_id] = PooledRun(task, self._task_pool())
            return
        process = self._create_task_process(task)
        self._running_tasks[task_id] = process
        if process.use_multiprocessing:
            with fork_lock:
                process.start()
            # The parent keeps only the reading end; EOF then means the child is gone.
            channel = process.result_queue
            if isinstance(channel, PipeChannel):
                channel._connection.close()
        else:
            process.run()

    def _multiprocessing(self) -> bool:
        return self._config.force_multiprocessing or self.worker_processes > 1

    def _uses_pool(self, task: Task) -> bool:
        """Tasks in child processes reuse pooled processes, unless they need their own:
        a timeout is enforced by killing the process, messages need a queue, and a
        replaced ContextManagedTaskProcess must be the one that runs."""
        # (_multiprocessing() spelled out: this and _create_task_process run once per task)
        if not (self._config.force_multiprocessing or self.worker_processes > 1) or (
            ContextManagedTaskProcess is not _OWN_PROCESS_CLASS
        ):
            return False
        task_timeout = task.worker_timeout
        timeout = task_timeout if task_timeout is not None else self._config.timeout
        return not timeout and not task.accepts_messages

    def _task_pool(self) -> TaskProcessPool:
        if self._children.pool is None:
            self._children.pool = TaskProcessPool(
                max(1, self.worker_processes), self._scheduled_tasks, self._pooled_task_process
            )
        return self._children.pool

    def _pooled_task_process(self, task: Task, channel: PipeChannel) -> TaskProcess:
        """Runs inside a pool process: the task, inline there, reporting over the pipe."""
        reporter = TaskStatusReporter(self._scheduler, task.task_id, self._id, None, channel)
        return ContextManagedTaskProcess(
            self._config.task_process_context,
            task,
            self._id,
            channel,
            reporter,
            use_multiprocessing=False,
            check_unfulfilled_deps=self._config.check_unfulfilled_deps,
            check_complete_on_run=self._config.check_complete_on_run,
            task_completion_cache=self._task_completion_cache,
        )

    def _create_task_process(self, task: Task) -> TaskProcess:
        use_multiprocessing = self._config.force_multiprocessing or self.worker_processes > 1
        task_timeout = task.worker_timeout
        timeout = task_timeout if task_timeout is not None else self._config.timeout
        use_multiprocessing = use_multiprocessing or bool(timeout)
        channel: InlineChannel | PipeChannel
        if use_multiprocessing:
            reader, writer = _fork.Pipe(duplex=False)
            self._children.watch(task.task_id, reader)
            channel = PipeChannel(writer)
        else:
            channel = self._inline
        reporter = TaskStatusReporter(self._scheduler, task.task_id, self._id, None, channel)
        if task.accepts_messages:
            raw: Any = _fork.Queue() if use_multiprocessing else Queue.Queue()
            reporter.scheduler_messages = TaskMessageQueue(raw, reporter)
        return ContextManagedTaskProcess(
            self._config.task_process_context,
            task,
            self._id,
            channel,
            reporter,
            use_multiprocessing=use_multiprocessing,
            worker_timeout=self._config.timeout,
            check_unfulfilled_deps=self._config.check_unfulfilled_deps,
            check_complete_on_run=self._config.check_complete_on_run,
            task_completion_cache=self._task_completion_cache,
        )

    # -- results -----------------------------------------------------------------------
    def _handle_next_task(self) -> None:
        """Wait (up to wait_interval) for one task to finish and report it."""
        self._idle_since = None
        result = self._children.next_result(self._config.wait_interval)
        if result is not None:
            self._report_result(result)

    def _report_result(self, result: Any) -> None:
        task_id, status, expl, missing, new_requirements = result
        task = self._scheduled_tasks[task_id]
        if task_id not in self._running_tasks:
            return
        if status == FAILED and not (is_external(task) and self._config.retry_external_tasks):
            self._email_task_failure(task, expl)
        new_deps: list[str] = []
        if new_requirements:
            new_tasks = [load_task(module, family, params) for module, family, params in new_requirements]
            for new_task in new_tasks:
                self.add(new_task)
            new_deps = [t.task_id for t in new_tasks]
        report = dict(
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
            retry_policy_dict=_get_retry_policy_dict(task),
        )
        if self._leasing:
            self._leases.finished(task_id)
            self._record_registration(report)
            self._leases.report(report)
        else:
            self._add_task(**report)
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
        self.run_succeeded &= status == DONE or bool(new_deps)

    def _count_outcome(self, task_id: str, status: str) -> None:
        if status == DONE:
            self._finished.done += 1
            self._to_run.discard(task_id)
        elif status == FAILED:
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
            jitter = self._config.wait_jitter
            wait_interval = self._config.wait_interval + random.uniform(0, jitter)
            logger.debug("Sleeping for %f seconds", wait_interval)
            time.sleep(wait_interval)
            yield

    def _keep_alive(self, response: Any) -> bool:
        config = self._config
        if not config.keep_alive:
            return False
        if self._assistant:
            return True
        if config.count_last_scheduled:
            return bool(response.n_pending_last_scheduled > 0)
        if config.count_uniques:
            return bool(response.n_unique_pending > 0)
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
    def dispatch_scheduler_message(self, task_id: str, message_id: str, content: Any, **kwargs: Any) -> None:
        process = self._running_tasks.get(str(task_id))
        if process is None:
            return
        inbox = process.status_reporter.scheduler_messages
        if inbox is not None:
            inbox.put((str(task_id), message_id, content, kwargs))


_OWN_PROCESS_CLASS = ContextManagedTaskProcess

for _cls in (
    AsyncCompletionException,
    DequeQueue,
    SingleProcessPool,
    TaskException,
    TracebackWrapper,
    SchedulerMessage,
    TaskStatusReporter,
    worker,
):
    _cls.__module__ = __name__
for _fn in (check_complete, check_complete_cached):
    _fn.__module__ = __name__
del _cls, _fn
