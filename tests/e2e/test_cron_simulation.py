"""Cron, simulated: fresh processes every half second while dumps arrive."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

FLOW = textwrap.dedent(
    """
    import datetime, os, time
    import trunkline as luigi

    ROOT = os.environ["CRON_ROOT"]

    class DataDump(luigi.ExternalTask):
        date = luigi.DateParameter()

        def output(self):
            return luigi.LocalTarget(f"{ROOT}/dumps/{self.date}.txt")

    class AggregationTask(luigi.Task):
        date = luigi.DateParameter()
        window = luigi.IntParameter()

        def requires(self):
            return [DataDump(self.date - datetime.timedelta(days=i)) for i in range(self.window)]

        def output(self):
            return luigi.LocalTarget(f"{ROOT}/aggregated/{self.date}-{self.window}.txt")

        def run(self):
            fd = os.open(f"{ROOT}/runs.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.write(fd, f"{self.task_id}\\n".encode())
            os.close(fd)
            time.sleep(0.3)  # long enough that cron fires again while this runs
            with self.output().open("w") as out:
                out.write(str(sum(len(t.open("r").read()) for t in self.input())))

    class RunAll(luigi.WrapperTask):
        date = luigi.DateParameter()

        def requires(self):
            for window in (1, 2, 3):
                for back in range(3):
                    yield AggregationTask(self.date - datetime.timedelta(days=back), window)
    """
)
END = datetime.date(2024, 3, 31)
DAYS = [END - datetime.timedelta(days=i) for i in range(5)]


def test_cron_every_half_second_runs_each_aggregation_once_and_overlaps_exit_on_the_lock(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    (tmp_path / "dumps").mkdir()
    (tmp_path / "luigi.cfg").write_text(f"[retcode]\nalready_running = 10\n\n[core]\nlock_pid_dir = {tmp_path / 'locks'}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "CRON_ROOT": str(tmp_path), "LUIGI_CONFIG_PATH": str(tmp_path / "luigi.cfg")}
    command = [sys.executable, "-m", "trunkline", "--module", "flow", "RunAll", "--date", str(END), "--local-scheduler", "--log-level", "WARNING"]

    invocations: list[subprocess.Popen[str]] = []
    for tick in range(16):
        if tick < len(DAYS):  # one more day's dump arrives on each of the first ticks
            (tmp_path / "dumps" / f"{DAYS[-1 - tick]}.txt").write_text("x" * (tick + 1))
        invocations.append(subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        time.sleep(0.5)
    exit_codes = [process.wait(timeout=120) for process in invocations]
    # and a final run once everything has settled
    final = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    assert set(exit_codes) <= {0, 10}, [p.stderr.read() for p in invocations if p.returncode not in (0, 10)]
    assert 10 in exit_codes, "no invocation overlapped a running one; the lock was never exercised"
    assert final.returncode == 0
    ran = (tmp_path / "runs.log").read_text().split()
    assert len(ran) == len(set(ran)) == 9  # every aggregation exactly once
    assert len(list((tmp_path / "aggregated").iterdir())) == 9
