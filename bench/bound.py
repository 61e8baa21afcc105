"""The semantic bound: the user code Luigi's semantics oblige an engine to call.

The same graph and classes as bench/workflow.py (engine chosen by BENCH_ENGINE,
default trunkline), but no scheduler and no worker: only the calls that
Luigi 3.8.1's worker makes on task code in a local, one-worker run with the
default configuration, in the same order. Any engine that keeps Luigi's
semantics must make at least these calls, so bound/floor is the best ratio
such an engine can reach on these graphs with these task classes. Left out:
calls that reach no workflow code by default (trigger_event with no handlers,
the parameter strings and names sent to the scheduler, the summary).

    python bench/bound.py SHAPE N ROOT [CPU_MS]

Prints one JSON line, like workflow.py and floor.py.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
from collections import deque
from collections.abc import Generator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workflow  # noqa: E402  (reads BENCH_ENGINE at import, as in a real run)

Task = Any  # a task of whichever engine workflow.py imported


def is_external(task: Task) -> bool:
    # Luigi treats a task with nothing to run as external: checked, never expanded or run.
    run = task.run
    return run is None or run == NotImplemented


def walk(root: Task) -> dict[str, tuple[Task, list[Task]]]:
    """Worker.add from the root; returns the incomplete tasks and their deps.

    Luigi checks a task's completeness as soon as it is discovered (with one
    worker its "pool" runs the check at once and queues the result), then,
    when the task is taken from the queue, asks an incomplete non-external task
    for its deps and queues the ones not seen before. That queue is a deque
    read from the right, so the last task discovered is expanded first. Once a
    task's deps are through, it is registered with the scheduler, which reads
    process_resources().
    """
    incomplete: dict[str, tuple[Task, list[Task]]] = {}
    seen = {root.task_id}
    queue: deque[tuple[Task, bool]] = deque([(root, root.complete())])
    while queue:
        task, done = queue.pop()  # last in, first out, as Luigi's one-process queue
        if not done and not is_external(task):
            deps = task.deps()  # requires(), flattened
            for dep in deps:
                if dep.task_id not in seen:
                    seen.add(dep.task_id)
                    queue.append((dep, dep.complete()))
            incomplete[task.task_id] = (task, deps)
        task.process_resources()  # sent with the task's registration
    return incomplete


def order(incomplete: dict[str, tuple[Task, list[Task]]]) -> list[Task]:
    """Kahn's topological sort over the incomplete tasks (the scheduler's job, no user code)."""
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {task_id: [] for task_id in incomplete}
    for task_id, (_, deps) in incomplete.items():
        pending = {dep.task_id for dep in deps if dep.task_id in incomplete}
        waiting[task_id] = len(pending)
        for dep_id in pending:
            dependents[dep_id].append(task_id)
    ready = deque(task_id for task_id, count in waiting.items() if count == 0)
    ordered: list[Task] = []
    while ready:
        task_id = ready.popleft()
        ordered.append(incomplete[task_id][0])
        for other in dependents[task_id]:
            waiting[other] -= 1
            if waiting[other] == 0:
                ready.append(other)
    return ordered


def run(task: Task) -> None:
    """TaskProcess.run with the defaults, then the worker's report of the result."""
    if not is_external(task):
        # check_unfulfilled_deps=True: the deps are asked for again and each checked.
        for dep in task.deps():
            if not dep.complete():
                raise RuntimeError(f"unfulfilled dependency at run time: {dep.task_id}")
    if isinstance(task.run(), Generator):
        raise NotImplementedError("dynamic dependencies are not part of these graphs")
    # check_complete_on_run=False: no complete() after run(); the task is done.
    task.on_success()  # its return value is the explanation sent with DONE
    task.process_resources()  # sent again with the DONE report


def main() -> None:
    workflow.SHAPE, workflow.N, workflow.ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    workflow.CPU_MS = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    logging.disable(logging.CRITICAL)  # as workflow.main does
    started = time.perf_counter()
    for task in order(walk(workflow.Top())):
        run(task)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    files = len(os.listdir(workflow.ROOT))
    print(json.dumps({"ok": True, "seconds": seconds, "files": files, "peak_rss_mb": peak_kb / 1024}))


if __name__ == "__main__":
    main()
