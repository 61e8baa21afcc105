"""Local-scheduler benchmark: trunkline vs Luigi 3.8.1 vs a plain-Python floor.

"bound" is bench/bound.py on trunkline's task classes: only the calls on task
code that Luigi's semantics require, so bound/floor is the best an engine using
these classes can reach.

Every measurement is a fresh process on a fresh directory (so nothing is
complete), repeated --repeat times, the engines of a row taking turns; the
table shows medians and ratios.

    python bench/run_local.py                       # the full table (slow: Luigi is)
    python bench/run_local.py --sizes 1000 --repeat 1 --shapes fanin
    python bench/run_local.py --cpu                 # 1 vs 4 workers on CPU-bound tasks

Luigi is given --timeout seconds per run; a run over it shows as "> T s".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUIGI_SINGLE_RUN_FROM = 5000


# Outputs go to tmpfs where there is one: the benchmark measures engines, and a
# VM's disk varies by several times from one run to the next.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def measure(engine: str, shape: str, n: int, workers: int, timeout: float, cpu_ms: int = 0) -> dict:
    root = tempfile.mkdtemp(prefix=f"bench-{engine}-", dir=SCRATCH)
    try:
        env = {**os.environ, "BENCH_ENGINE": engine}
        if engine == "floor":
            cmd = [sys.executable, str(HERE / "floor.py"), shape, str(n), root, str(cpu_ms)]
        elif engine == "bound":
            cmd = [sys.executable, str(HERE / "bound.py"), shape, str(n), root, str(cpu_ms)]
            env["BENCH_ENGINE"] = "trunkline"  # the task classes the bound calls into
        else:
            cmd = [sys.executable, str(HERE / "workflow.py"), shape, str(n), str(workers), root, str(cpu_ms)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"timeout": timeout}
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["files"] != n:
            result["error"] = f"wrote {result['files']} of {n} files"
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def medians_of(
    engines: list[str], shape: str, n: int, workers: int, repeat: int, timeout: float, cpu_ms: int = 0
) -> dict[str, dict]:
    """Each engine's median, its runs taken in turns with the others' so that load
    from elsewhere on the machine falls on all of them alike."""
    # A large Luigi run takes minutes; one is enough to see it.
    left = {e: 1 if e == "luigi" and n >= LUIGI_SINGLE_RUN_FROM else repeat for e in engines}
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    failed: dict[str, dict] = {}
    while any(left.values()):
        for engine in engines:
            if not left[engine]:
                continue
            left[engine] -= 1
            result = measure(engine, shape, n, workers, timeout, cpu_ms)
            if "seconds" not in result or "error" in result:
                failed[engine], left[engine] = result, 0  # one timeout/error is enough to know
            else:
                runs[engine].append(result)
    return {
        e: failed.get(e)
        or {
            "seconds": statistics.median(r["seconds"] for r in runs[e]),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs[e]),
        }
        for e in engines
    }


def median_of(engine: str, shape: str, n: int, workers: int, repeat: int, timeout: float, cpu_ms: int = 0) -> dict:
    return medians_of([engine], shape, n, workers, repeat, timeout, cpu_ms)[engine]


def fmt(result: dict) -> str:
    if "timeout" in result:
        return f"> {result['timeout']:.0f} s"
    if "error" in result:
        return "skipped" if result["error"] == "skipped" else "error"
    return f"{result['seconds']:.3f} s"


def ratio(a: dict, b: dict) -> str:
    if "seconds" in a and "seconds" in b and "error" not in a and "error" not in b:
        return f"{a['seconds'] / b['seconds']:.1f}x"
    if "timeout" in a and "seconds" in b:
        return f"> {a['timeout'] / b['seconds']:.0f}x"
    return "-"


def table(args: argparse.Namespace) -> None:
    print(
        f"repeat={args.repeat} (medians; Luigi once from N={LUIGI_SINGLE_RUN_FROM}); "
        f"luigi timeout {args.timeout:.0f} s; outputs on {SCRATCH or 'the temp dir'}; python {sys.version.split()[0]}"
    )
    header = (
        f"{'shape':8} {'N':>6} {'w':>2} | {'floor':>9} {'bound':>9} {'trunkline':>10} {'luigi':>10} | "
        f"{'bound/floor':>11} {'tl/floor':>8} {'luigi/tl':>9} | {'tl MB':>6} {'luigi MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for shape in args.shapes:
        for n in args.sizes:
            for row, workers in enumerate(args.workers):
                # floor and bound use no workers: measured with the first row, shown on every row
                engines = (["floor", "bound"] if row == 0 else []) + ["trunkline"] + ([] if args.skip_luigi else ["luigi"])
                got = medians_of(engines, shape, n, workers, args.repeat, args.timeout)
                if row == 0:
                    floor, bound = got["floor"], got["bound"]
                ours = got["trunkline"]
                theirs = got.get("luigi", {"error": "skipped"})
                print(
                    f"{shape:8} {n:>6} {workers:>2} | {fmt(floor):>9} {fmt(bound):>9} {fmt(ours):>10} {fmt(theirs):>10} | "
                    f"{ratio(bound, floor):>11} {ratio(ours, floor):>8} {ratio(theirs, ours):>9} | "
                    f"{ours.get('peak_rss_mb', 0):6.0f} {theirs.get('peak_rss_mb', 0):8.0f}",
                    flush=True,
                )


def cpu_table(args: argparse.Namespace) -> None:
    n, cpu_ms = args.cpu_tasks, 20
    print(f"CPU-bound: layered graph of {n} tasks, each burning {cpu_ms} ms of CPU; repeat={args.repeat}")
    floor = median_of("floor", "layered", n, 1, args.repeat, args.timeout, cpu_ms)
    print(f"floor (serial): {fmt(floor)}")
    for engine in ("trunkline", "luigi"):
        one = median_of(engine, "layered", n, 1, args.repeat, args.timeout, cpu_ms)
        four = median_of(engine, "layered", n, 4, args.repeat, args.timeout, cpu_ms)
        print(f"{engine:9}: 1 worker {fmt(one)}, 4 workers {fmt(four)}, speed-up {ratio(one, four)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=["fanin", "chain", "layered"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 5000, 20000])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--skip-luigi", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="only the 1-vs-4-workers CPU-bound comparison")
    parser.add_argument("--cpu-tasks", type=int, default=200)
    args = parser.parse_args()
    if args.cpu:
        cpu_table(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
