"""Several worker processes against one central scheduler, measured (docs/deploying.md).

    python docs/examples/several_workers.py            # 1, 2 and 4 worker processes
    python docs/examples/several_workers.py --tasks 60 --seconds 0.2 --processes 1 3

It starts `trunkline scheduler` on a free loopback port with a fresh state
file and an auth token, then for each count N starts N `trunkline` worker
processes at once on the same workflow (as cron would on N machines): a
wrapper requiring `--tasks` tasks that each wait `--seconds` (standing in for
work done elsewhere, e.g. on Spark) and write their output. It prints the wall
time and checks that every task ran exactly once.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKFLOW = '''
import os
import time

import trunkline as luigi


class Step(luigi.Task):
    i = luigi.IntParameter()
    out = luigi.Parameter()
    seconds = luigi.FloatParameter()

    def output(self):
        return luigi.LocalTarget(os.path.join(self.out, f"step-{self.i}"))

    def run(self):
        time.sleep(self.seconds)
        with self.output().open("w") as f:
            f.write(str(os.getpid()))
        # one line per run, appended by every process: counts the runs
        with open(os.path.join(self.out, "runs.log"), "a") as log:
            log.write(f"{self.i}\\n")


class All(luigi.WrapperTask):
    tasks = luigi.IntParameter()
    out = luigi.Parameter()
    seconds = luigi.FloatParameter()

    def requires(self):
        return [Step(i=i, out=self.out, seconds=self.seconds) for i in range(self.tasks)]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the scheduler did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=0.25)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    trunkline = str(Path(sys.executable).with_name("trunkline"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "workflow.py").write_text(WORKFLOW)
        token = "s3cret-token"
        (root / "worker.cfg").write_text(f"[core]\nrpc_auth_token = {token}\n")
        port = free_port()
        scheduler = subprocess.Popen(
            [trunkline, "scheduler", "--port", str(port), "--state-path", str(root / "state.sqlite3"),
             "--auth-token", token],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            env = {**os.environ, "LUIGI_CONFIG_PATH": str(root / "worker.cfg"), "PYTHONPATH": str(root)}
            print(f"{'processes':>9} {'tasks':>6} {'wall s':>7} {'runs':>5}  {'task runs per process'}")
            for count in args.processes:
                out = root / f"out-{count}"
                out.mkdir()
                command = [trunkline, "--module", "workflow", "All", "--tasks", str(args.tasks), "--out", str(out),
                           "--seconds", str(args.seconds), "--scheduler-url", f"http://127.0.0.1:{port}/",
                           "--no-lock"]
                started = time.monotonic()
                workers = [subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL) for _ in range(count)]
                codes = [worker.wait() for worker in workers]
                wall = time.monotonic() - started
                runs = (out / "runs.log").read_text().split()
                by_pid: dict[str, int] = {}
                for i in range(args.tasks):
                    pid = (out / f"step-{i}").read_text()
                    by_pid[pid] = by_pid.get(pid, 0) + 1
                assert sorted(map(int, runs)) == list(range(args.tasks)), "a task ran twice or not at all"
                assert codes == [0] * count, f"exit codes {codes}"
                print(f"{count:>9} {args.tasks:>6} {wall:>7.2f} {len(runs):>5}  {sorted(by_pid.values(), reverse=True)}")
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
