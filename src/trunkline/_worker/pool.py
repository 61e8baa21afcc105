"""A pool of forked task processes, reused from task to task.

Forking a worker costs milliseconds (the kernel copies its page tables, and a
worker holding a large graph is large), which made ``workers > 1`` slower than
one worker for short tasks. The pool forks its processes once, when the worker
starts running; each then runs task after task. A process is forked after the
graph walk, so it knows every scheduled task by id; tasks added later (dynamic
dependencies) travel as (module, family, params) and are rebuilt there.

A pool process that dies is replaced. Tasks that need a process of their own
(a timeout, which is enforced by killing the process; scheduler messages,
which need a queue made before the fork) do not use the pool.
"""

from __future__ import annotations

import contextlib
import signal
import logging
import multiprocessing.connection
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from trunkline.task import Task
from trunkline.task_register import load_task
from trunkline._worker.messages import PipeChannel, _fork

logger = logging.getLogger("luigi-interface")

def terminate_tree(pid: int | None) -> None:
    """SIGTERM a process and kill everything it started.

    It does not wait for the process itself: its owner reaps it with
    ``join()``, which is also what records the exit code.
    """
    import psutil

    if pid is None:
        return
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


# An idle pool process checks this often whether its worker still lives.
_PARENT_CHECK_SECONDS = 1.0

# What the parent sends a pool process: a task to run, or None to stop.
Assignment = tuple[str, str | None, str, dict[str, str]] | None


def _serve(
    connection: multiprocessing.connection.Connection,
    known_tasks: Mapping[str, Task],
    make_process: Callable[[Task, PipeChannel], Any],
    inherited: list[multiprocessing.connection.Connection],
) -> None:
    """The loop a pool process runs until told to stop, or until its worker is gone."""
    # The fork copied the parent's ends of the other pool processes' pipes; held
    # here, they would keep those processes from ever seeing the parent go away.
    for other in inherited:
        with contextlib.suppress(OSError):
            other.close()
    # The worker's SIGTERM handler raises in the worker; here the default (exit) is right.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    channel = PipeChannel(connection)
    while True:
        try:
            while not connection.poll(_PARENT_CHECK_SECONDS):
                if os.getppid() != parent:
                    return  # the worker died without telling us: nothing to run for
            assignment: Assignment = connection.recv()
        except (EOFError, OSError):
            return  # the worker went away
        except KeyboardInterrupt:
            return  # Ctrl-C reached the process group while idle: the worker stops us anyway
        if assignment is None:
            return
        task_id, module, family, params = assignment
        random.seed(os.getpid() * time.time())
        task = known_tasks.get(task_id)
        if task is None:
            task = load_task(module, family, params)
        make_process(task, channel).run()


class PoolProcess:
    """One reusable task process and the parent's end of its pipe."""

    def __init__(self, process: Any, connection: multiprocessing.connection.Connection) -> None:
        self.process = process
        self.connection = connection
        self.task_id: str | None = None

    def assign(self, task: Task) -> None:
        self.task_id = task.task_id
        self.connection.send((task.task_id, task.task_module, task.task_family, task.to_str_params()))

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.connection.send(None)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)
        self.connection.close()


class TaskProcessPool:
    def __init__(
        self,
        size: int,
        known_tasks: Mapping[str, Task],
        make_process: Callable[[Task, PipeChannel], Any],
    ) -> None:
        self._size = size
        self._known_tasks = known_tasks
        self._make_process = make_process
        self._idle: list[PoolProcess] = []
        self._busy: dict[str, PoolProcess] = {}

    def _spawn(self) -> PoolProcess:
        parent_end, child_end = _fork.Pipe(duplex=True)
        process = _fork.Process(
            target=_serve,
            args=(child_end, self._known_tasks, self._make_process, self._parent_ends()),
            daemon=True,
        )
        process.start()
        child_end.close()
        return PoolProcess(process, parent_end)

    def _parent_ends(self) -> list[multiprocessing.connection.Connection]:
        return [member.connection for member in [*self._idle, *self._busy.values()]]

    def submit(self, task: Task) -> multiprocessing.connection.Connection:
        """Start ``task`` in an idle pool process; returns the connection its result comes on."""
        if not self._idle and len(self._busy) < self._size:
            self._idle.append(self._spawn())
        member = self._idle.pop() if self._idle else self._spawn()
        member.assign(task)
        self._busy[task.task_id] = member
        return member.connection

    def release(self, task_id: str) -> None:
        """The task's result is in: its process is free for the next task."""
        member = self._busy.pop(task_id, None)
        if member is not None:
            member.task_id = None
            self._idle.append(member)

    def discard(self, task_id: str) -> int | None:
        """The task's process died or must be killed: drop it; returns its exit code."""
        member = self._busy.pop(task_id, None)
        if member is None:
            return None
        # A process whose pipe closed is already on its way out: let it finish
        # exiting, so its exit code is the one it chose.
        member.process.join(timeout=1)
        if member.process.is_alive():
            terminate_tree(member.process.pid)
            member.process.join(timeout=10)
        if member.process.is_alive():
            member.process.kill()
            member.process.join(timeout=10)
        member.connection.close()
        return member.process.exitcode  # type: ignore[no-any-return]

    def pid_of(self, task_id: str) -> int | None:
        member = self._busy.get(task_id)
        return None if member is None else member.process.pid

    def holds(self, task_id: str) -> bool:
        return task_id in self._busy

    def close(self) -> None:
        for member in [*self._idle, *self._busy.values()]:
            member.stop()
        self._idle.clear()
        self._busy.clear()


class _NoInbox:
    scheduler_messages = None


class PooledRun:
    """Stands where a TaskProcess would for a task running in the pool."""

    use_multiprocessing = True
    timeout_time: float | None = None
    worker_timeout = 0
    status_reporter = _NoInbox()

    def __init__(self, task: Task, pool: TaskProcessPool) -> None:
        self.task = task
        self._pool = pool
        self.exitcode: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pool.pid_of(self.task.task_id)

    def is_alive(self) -> bool:
        return self._pool.holds(self.task.task_id)

    def terminate(self) -> None:
        self.exitcode = self._pool.discard(self.task.task_id)

    def join(self, timeout: float | None = None) -> None:
        return None
