"""Where a local-scheduler run spends its time: the graph walk and registration
(``Worker.add``), running (``Worker.run``) and the execution summary.

    python bench/phases.py SHAPE N        # e.g. layered 5000

The same graphs as ``workflow.py`` (outputs under /dev/shm when it exists).
Prints the seconds of each phase and the total per task.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workflow  # noqa: E402

import trunkline as luigi  # noqa: E402
import trunkline.execution_summary as execution_summary  # noqa: E402
from trunkline import worker as _loop  # noqa: E402

TIMES: dict[str, float] = {}


def timed(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)


def main() -> None:
    shape, n = sys.argv[1], int(sys.argv[2])
    base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    root = os.path.join(base, f"trunkline-phases-{os.getpid()}")
    workflow.SHAPE, workflow.N, workflow.ROOT = shape, n, root
    logging.disable(logging.CRITICAL)
    timed(_loop.Worker, "add", "walk + register")
    timed(_loop.Worker, "run", "run")
    timed(execution_summary.LuigiRunResult, "__init__", "summary")
    try:
        started = time.perf_counter()
        luigi.build([workflow.Top()], local_scheduler=True)
        total = time.perf_counter() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for label, seconds in TIMES.items():
        print(f"{label:>16}: {seconds:.3f} s ({seconds / n * 1e6:.0f} µs/task)")
    print(f"{'total':>16}: {total:.3f} s ({total / n * 1e6:.0f} µs/task)")


if __name__ == "__main__":
    main()
