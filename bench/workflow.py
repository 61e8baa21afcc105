"""Benchmark graphs, written once against Luigi's API.

The engine is chosen by the environment: BENCH_ENGINE=trunkline (default) or
luigi. Every task writes one tiny file, atomically, through LocalTarget.

    python bench/workflow.py SHAPE N WORKERS ROOT [CPU_MS]

SHAPE is fanin (N leaves, one sink), chain (N tasks in a line) or layered
(N tasks in layers of 50, each depending on two tasks of the layer below).
CPU_MS makes each task burn that much CPU before writing.
Prints one JSON line: seconds, tasks run, peak RSS. With BENCH_SCHEDULER_PORT
set, the workflow uses the central scheduler on 127.0.0.1 at that port.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import time

luigi = importlib.import_module(os.environ.get("BENCH_ENGINE", "trunkline"))

LAYER_WIDTH = 50


def burn(ms: int) -> None:
    end = time.process_time() + ms / 1000
    x = 0
    while time.process_time() < end:
        x += 1


# Set once by main(); forked task processes inherit them. Keeping them out of
# the task parameters keeps each task to one parameter, as in a lean workflow.
ROOT = SHAPE = ""
N = CPU_MS = 0


class Node(luigi.Task):
    i = luigi.IntParameter()

    def requires(self):
        if SHAPE == "fanin":
            return [Node(j) for j in range(N - 1)] if self.i == N - 1 else []
        if SHAPE == "chain":
            return [Node(self.i - 1)] if self.i > 0 else []
        if self.i < LAYER_WIDTH:
            return []
        base = (self.i // LAYER_WIDTH - 1) * LAYER_WIDTH
        return [Node(base + (self.i + k) % LAYER_WIDTH) for k in (0, 1)]

    def output(self):
        return luigi.LocalTarget(os.path.join(ROOT, f"{self.i}.out"))

    def run(self):
        if CPU_MS:
            burn(CPU_MS)
        with self.output().open("w") as f:
            f.write("x")


class Top(luigi.WrapperTask):
    """Sinks of the graph: one for fanin/chain, the last layer for layered."""

    def requires(self):
        if SHAPE == "layered":
            last_layer = (N - 1) // LAYER_WIDTH * LAYER_WIDTH
            return [Node(i) for i in range(last_layer, N)]
        return [Node(N - 1)]


def main() -> None:
    global ROOT, SHAPE, N, CPU_MS
    SHAPE, N, workers, ROOT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    CPU_MS = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    root = ROOT
    logging.disable(logging.CRITICAL)  # both engines log per task; measure the engines, not the terminal
    started = time.perf_counter()
    port = os.environ.get("BENCH_SCHEDULER_PORT")
    where = {"scheduler_host": "127.0.0.1", "scheduler_port": int(port)} if port else {"local_scheduler": True}
    ok = luigi.build([Top()], workers=workers, **where)
    seconds = time.perf_counter() - started
    ran = len(os.listdir(root))
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"ok": bool(ok), "seconds": seconds, "files": ran, "peak_rss_mb": peak_kb / 1024}))


if __name__ == "__main__":
    main()
