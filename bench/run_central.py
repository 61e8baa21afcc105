"""The same graphs through a central scheduler: trunkline's service vs luigid.

Scheduler and worker are separate processes, as in production. Each engine's
worker talks to its own engine's scheduler; trunkline's local-scheduler time is
shown beside it for the "within 3x of local" comparison.

    python bench/run_central.py --sizes 1000 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_local import fmt, measure, median_of, ratio  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_scheduler(engine: str, state_dir: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if engine == "luigi":
        luigid = shutil.which("luigid", path=str(Path(sys.executable).parent))
        command = [str(luigid), "--address", "127.0.0.1", "--port", str(port), "--state-path", f"{state_dir}/state.pickle", "--logdir", state_dir]
    else:
        command = [sys.executable, "-m", "trunkline", "scheduler", "--port", str(port), "--state-path", f"{state_dir}/state.sqlite3"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{engine} scheduler did not start")


def central(engine: str, shape: str, n: int, repeat: int, timeout: float) -> dict:
    seconds = []
    for _ in range(repeat):
        state_dir = tempfile.mkdtemp(prefix=f"central-{engine}-")
        scheduler, port = start_scheduler(engine, state_dir)
        try:
            os.environ["BENCH_SCHEDULER_PORT"] = str(port)
            result = measure(engine, shape, n, 1, timeout)
        finally:
            os.environ.pop("BENCH_SCHEDULER_PORT", None)
            scheduler.terminate()
            scheduler.wait(30)
            shutil.rmtree(state_dir, ignore_errors=True)
        if "seconds" not in result or "error" in result:
            return result
        seconds.append(result["seconds"])
    return {"seconds": statistics.median(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=["fanin", "chain", "layered"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--skip-luigi", action="store_true", help="trunkline only (Luigi's rows take minutes)")
    args = parser.parse_args()
    print(f"1 worker process + 1 scheduler process; medians of {args.repeat}; luigi timeout {args.timeout:.0f} s")
    print(f"{'shape':8} {'N':>6} | {'tl local':>9} {'tl central':>10} {'luigid':>10} | {'central/local':>13} {'luigid/tl':>9}")
    for shape in args.shapes:
        for n in args.sizes:
            local = median_of("trunkline", shape, n, 1, args.repeat, args.timeout)
            ours = central("trunkline", shape, n, args.repeat, args.timeout)
            theirs = (
                {"error": "skipped"}
                if args.skip_luigi
                else central("luigi", shape, n, 1 if n >= 5000 else args.repeat, args.timeout)
            )
            print(
                f"{shape:8} {n:>6} | {fmt(local):>9} {fmt(ours):>10} {fmt(theirs):>10} | "
                f"{ratio(ours, local):>13} {ratio(theirs, ours):>9}",
                flush=True,
            )


if __name__ == "__main__":
    main()
