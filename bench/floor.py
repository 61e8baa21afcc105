"""The floor: the same graph and files as bench/workflow.py, with no engine.

A topological sort (Kahn) of the same graph, then each file written atomically
(temporary file beside it, then os.replace), as a hand-written script would.

    python bench/floor.py SHAPE N ROOT [CPU_MS]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import deque

LAYER_WIDTH = 50


def deps(shape: str, n: int, i: int) -> list[int]:
    if shape == "fanin":
        return list(range(n - 1)) if i == n - 1 else []
    if shape == "chain":
        return [i - 1] if i > 0 else []
    if i < LAYER_WIDTH:
        return []
    base = (i // LAYER_WIDTH - 1) * LAYER_WIDTH
    return [base + (i + k) % LAYER_WIDTH for k in (0, 1)]


def burn(ms: int) -> None:
    end = time.process_time() + ms / 1000
    while time.process_time() < end:
        pass


def main() -> None:
    shape, n, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cpu_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    started = time.perf_counter()
    dependents: dict[int, list[int]] = {i: [] for i in range(n)}
    waiting = {}
    for i in range(n):
        ds = set(deps(shape, n, i))
        waiting[i] = len(ds)
        for d in ds:
            dependents[d].append(i)
    ready = deque(i for i in range(n) if waiting[i] == 0)
    os.makedirs(root, exist_ok=True)
    while ready:
        i = ready.popleft()
        path = os.path.join(root, f"{i}.out")
        if not os.path.exists(path):
            if cpu_ms:
                burn(cpu_ms)
            tmp = f"{path}-tmp"
            with open(tmp, "w") as f:
                f.write("x")
            os.replace(tmp, path)
        for j in dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ok": True, "seconds": seconds, "files": len(os.listdir(root)), "peak_rss_mb": peak_kb / 1024}))


if __name__ == "__main__":
    main()
