"""The worker's child processes: waiting for their results, timeouts, deaths, stopping.

A task that runs in a child (``workers > 1``, a timeout, or forced
multiprocessing) sends its result, and the scheduler calls its reporter makes,
over a pipe whose reading end the supervisor holds. End of file on that pipe
without a result means the child died. A task past its deadline is terminated
with everything it started. The clock is passed in: the worker's shell reads
``time.time()`` through its module so that tests can drive timeouts.
"""

from __future__ import annotations

import logging
import multiprocessing.connection
import time
from collections.abc import Callable
from typing import Any

from trunkline.event import Event
from trunkline.scheduler.status import TaskStatus
from trunkline._worker.messages import InlineChannel, TaskResult
from trunkline._worker.pool import PooledRun, TaskProcessPool

logger = logging.getLogger("luigi-interface")
_FAILED = TaskStatus.FAILED.value


class ChildSupervisor:
    """Watches the pipes of the running task processes and turns what arrives into results.

    ``running`` is the worker's own task id -> process map (shared, not copied).
    """

    def __init__(
        self,
        running: dict[str, Any],
        inline: InlineChannel,
        call_scheduler: Callable[[str, dict[str, Any]], Any],
        clock: Callable[[], float],
    ) -> None:
        self._running = running
        self._inline = inline
        self._call_scheduler = call_scheduler
        self._clock = clock
        self.connections: dict[str, multiprocessing.connection.Connection] = {}
        self._exiting: list[Any] = []
        self.pool: TaskProcessPool | None = None

    def watch(self, task_id: str, connection: multiprocessing.connection.Connection) -> None:
        self.connections[task_id] = connection

    # -- results -------------------------------------------------------------------
    def next_result(self, wait: float) -> TaskResult | None:
        """The next finished task's result, waiting up to ``wait`` seconds for one."""
        if self._inline.results:
            return self._inline.results.popleft()
        if not self.connections:
            # Nothing to read, but a child may still be past its deadline.
            return self._timed_out_child() if self._running else None
        deadline = time.monotonic() + wait
        while True:
            result = self._poll(max(0.0, deadline - time.monotonic()), wait)
            if result is not None or time.monotonic() >= deadline:
                return result

    def _poll(self, timeout: float, wait: float) -> TaskResult | None:
        timeout = min(timeout, self._seconds_to_next_timeout(wait))
        ready = multiprocessing.connection.wait(list(self.connections.values()), timeout)
        for connection in ready:
            assert isinstance(connection, multiprocessing.connection.Connection)
            task_id = next(t for t, c in self.connections.items() if c is connection)
            try:
                message = connection.recv()
            except (EOFError, OSError):
                return self._ended_without_result(task_id)
            if message[0] == "call":
                self._call_scheduler(str(message[1]), dict(message[2]))
                continue
            self.forget(task_id)
            result: TaskResult = message[1]
            return result
        return self._timed_out_child()

    def _seconds_to_next_timeout(self, wait: float) -> float:
        deadlines = [p.timeout_time for p in self._running.values() if p.timeout_time]
        if not deadlines:
            return wait
        try:
            return max(0.0, min(float(d) for d in deadlines) - float(self._clock()))
        except (TypeError, ValueError):  # a replaced clock that is not a number
            return wait

    def _timed_out_child(self) -> TaskResult | None:
        """A child past its deadline (terminated now), or one without a pipe that died."""
        now = self._clock()
        for task_id, process in self._running.items():
            if task_id not in self.connections and not isinstance(process, PooledRun):
                # No pipe to report its end (a process made by a replaced
                # ContextManagedTaskProcess): ask the process itself. Children with
                # a pipe are judged by it alone, so a result sent just before exit
                # is never mistaken for a death.
                if not process.is_alive() and process.exitcode:
                    return self._died(task_id, process)
            if process.timeout_time is None or not now > float(process.timeout_time):
                continue
            if not process.is_alive():
                continue
            process.terminate()
            message = f"Task {task_id} timed out after {process.worker_timeout} seconds and was terminated."
            logger.info(message)
            process.task.trigger_event(Event.TIMEOUT, process.task, message)
            self.forget(task_id)
            return (task_id, _FAILED, message, [], [])
        return None

    def _ended_without_result(self, task_id: str) -> TaskResult:
        process = self._running[task_id]
        if isinstance(process, PooledRun):
            process.terminate()  # collects the dead pool process and its exit code
        process.join(timeout=10)
        return self._died(task_id, process)

    def _died(self, task_id: str, process: Any) -> TaskResult:
        message = f"Task {task_id} died unexpectedly with exit code {process.exitcode}"
        logger.info(message)
        process.task.trigger_event(Event.PROCESS_FAILURE, process.task, message)
        self.forget(task_id)
        return (task_id, _FAILED, message, [], [])

    def forget(self, task_id: str) -> None:
        """The task's result is in (or it is gone): stop watching its pipe."""
        process = self._running.get(task_id)
        if isinstance(process, PooledRun):
            # The pool process lives on and keeps its pipe for the next task.
            self.connections.pop(task_id, None)
            if self.pool is not None:
                self.pool.release(task_id)
            return
        connection = self.connections.pop(task_id, None)
        if connection is not None:
            connection.close()
        if process is not None and getattr(process, "use_multiprocessing", False):
            # The result is in; the child is exiting. Reap it later rather than
            # wait for its exit now, which would idle a worker slot.
            self._exiting.append(process)
        self._exiting = [p for p in self._exiting if p.exitcode is None]

    # -- stopping ------------------------------------------------------------------
    def terminate_running(self) -> list[str]:
        """Terminate every task still running in a child; returns their ids."""
        stopped = []
        for task_id, process in list(self._running.items()):
            if getattr(process, "use_multiprocessing", False) and process.is_alive():
                process.terminate()
                stopped.append(task_id)
        return stopped

    def close(self) -> None:
        """Reap exiting children and stop the pool's processes."""
        for process in self._exiting:
            process.join(timeout=10)
        self._exiting.clear()
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()
        if self.pool is not None:
            self.pool.close()
            self.pool = None
