"""Cost of one get_work and one add_task as the scheduler knows more tasks.

The scheduler holds N pending tasks registered by 20 workers (a layered graph,
so some are ready and most wait on dependencies); then each worker in turn asks
for work and reports it done, and new tasks keep being added. Prints the mean
microseconds per call. Luigi's scheduler is measured beside it where it
finishes in reasonable time.

    python bench/scheduler_ops.py                  # N = 1k, 10k, 100k (and 1M with --big)
    python bench/scheduler_ops.py --sizes 1000 10000 --luigi-max 10000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

WORKERS = 20
CALLS = 2000
LAYER = 100


def populate(scheduler: Any, n: int) -> None:
    for i in range(n):
        deps = [f"T{i - LAYER}", f"T{i - LAYER + 1}"] if i >= LAYER else []
        scheduler.add_task(worker=f"w{i % WORKERS}", task_id=f"T{i}", deps=deps, family="T", params={"i": str(i)})


def measure(scheduler: Any, n: int) -> tuple[float, float]:
    get_work_seconds = add_task_seconds = 0.0
    for call in range(CALLS):
        worker = f"w{call % WORKERS}"
        started = time.perf_counter()
        reply = scheduler.get_work(worker=worker, host="bench", current_tasks=[])
        get_work_seconds += time.perf_counter() - started
        new_id = f"N{n}-{call}"
        started = time.perf_counter()
        scheduler.add_task(worker=worker, task_id=new_id, family="N", params={"c": str(call)})
        add_task_seconds += time.perf_counter() - started
        if reply.get("task_id"):
            scheduler.add_task(worker=worker, task_id=reply["task_id"], status="DONE")
    return get_work_seconds / CALLS * 1e6, add_task_seconds / CALLS * 1e6


def make(engine: str) -> Any:
    if engine == "luigi":
        import luigi.scheduler

        return luigi.scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)
    from trunkline.scheduler import Scheduler

    return Scheduler(prune_on_get_work=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--big", action="store_true", help="also 1,000,000 tasks (about 2 GB of memory)")
    parser.add_argument("--luigi-max", type=int, default=10_000, help="largest N to measure Luigi at")
    args = parser.parse_args()
    sizes = args.sizes + ([1_000_000] if args.big else [])
    print(f"{WORKERS} workers, {CALLS} calls each of get_work and add_task; mean microseconds per call")
    print(f"{'N':>9} | {'tl get_work':>11} {'tl add_task':>11} | {'luigi get_work':>14} {'luigi add_task':>14}")
    for n in sizes:
        row = f"{n:>9} |"
        for engine in ("trunkline", "luigi"):
            if engine == "luigi" and n > args.luigi_max:
                row += f" {'-':>14} {'-':>14}"
                continue
            scheduler = make(engine)
            populate(scheduler, n)
            get_work_us, add_task_us = measure(scheduler, n)
            width = 11 if engine == "trunkline" else 14
            row += f" {get_work_us:>{width}.1f} {add_task_us:>{width}.1f}" + (" |" if engine == "trunkline" else "")
        print(row, flush=True)


if __name__ == "__main__":
    main()
