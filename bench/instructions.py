"""Instructions per task, counted by valgrind: a measure this noisy VM cannot blur.

    python bench/instructions.py                      # layered, N = 2,000
    python bench/instructions.py --shape fanin --n 1000

Runs the floor (floor.py), the semantic bound (bound.py) and trunkline
(workflow.py, local scheduler, 1 worker) under ``valgrind --tool=callgrind``,
each at N tasks and at 10, and prints ``(instructions at N - at 10) / (N - 10)``:
the user-space instructions one task costs, start-up and imports subtracted.
Wall-clock timings here vary by ±30 % from one process to the next; these
counts repeat to about 1 % (PYTHONHASHSEED is fixed), so they are what to
compare when deciding whether a change to the engine helped.

System calls run in the kernel and are not counted: the floor's writes cost
more time than their instruction count says, so the ratios here are larger
than run_local.py's wall-clock ratios. Needs valgrind (Debian: ``apt install
valgrind``); about a minute per engine at the default size.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
SCRIPTS = {"floor": "floor.py", "bound": "bound.py", "trunkline": "workflow.py"}
BASELINE_TASKS = 10


def instructions(engine: str, shape: str, n: int) -> int:
    """Instructions callgrind counts for one run of ``engine`` on ``n`` tasks."""
    root = tempfile.mkdtemp(prefix=f"instructions-{engine}-", dir=SCRATCH)
    output_root = os.path.join(root, "out")
    script = str(HERE / SCRIPTS[engine])
    arguments = [shape, str(n), "1", output_root] if engine == "trunkline" else [shape, str(n), output_root]
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, script, *arguments,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", "BENCH_ENGINE": "trunkline"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{engine} at N={n} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", default="layered", choices=["fanin", "chain", "layered"])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="valgrind runs at once")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind on the PATH (Debian: apt install valgrind)")
    if args.n <= BASELINE_TASKS:
        sys.exit(f"--n must be more than {BASELINE_TASKS} (the baseline run's size)")
    runs = [(engine, n) for engine in SCRIPTS for n in (BASELINE_TASKS, args.n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        counts = dict(zip(runs, pool.map(lambda run: instructions(run[0], args.shape, run[1]), runs)))
    per_task = {
        engine: (counts[(engine, args.n)] - counts[(engine, BASELINE_TASKS)]) / (args.n - BASELINE_TASKS)
        for engine in SCRIPTS
    }
    print(f"{args.shape}, N = {args.n}: user-space instructions per task (callgrind; start-up subtracted)")
    for engine, count in per_task.items():
        print(f"  {engine:10} {count / 1000:8.1f} k   {count / per_task['floor']:5.1f}x the floor")
    print(f"  trunkline is {per_task['trunkline'] / per_task['bound']:.1f}x the bound; "
          f"its own work (trunkline - bound) is {(per_task['trunkline'] - per_task['bound']) / 1000:.1f} k per task")


if __name__ == "__main__":
    main()
