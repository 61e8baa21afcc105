"""The scheduler service as a process: real workers, kill -9, at most one run per task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ServerProcess

FLOW = textwrap.dedent(
    """
    import os, sys, time
    import {engine} as luigi

    ROOT = os.environ["FLOW_ROOT"]

    def record(name):
        fd = os.open(os.path.join(ROOT, "runs.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, (name + "\\n").encode())
        os.close(fd)

    class Part(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, "parts", str(self.n)))

        def run(self):
            record(self.task_id)
            time.sleep(float(os.environ.get("FLOW_SLEEP", "0")))
            with self.output().open("w") as f:
                f.write(str(self.n))

    class Whole(luigi.Task):
        first = luigi.IntParameter(default=0)
        count = luigi.IntParameter(default=5)

        def requires(self):
            return [Part(n) for n in range(self.first, self.first + self.count)]

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, f"whole-{{self.first}}-{{self.count}}"))

        def run(self):
            record(self.task_id)
            with self.output().open("w") as f:
                f.write("done")

    if __name__ == "__main__":
        port, first, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        ok = luigi.build([Whole(first=first, count=count)], scheduler_host="127.0.0.1", scheduler_port=port,
                         log_level="WARNING", workers=int(os.environ.get("FLOW_WORKERS", "1")))
        sys.exit(0 if ok else 1)
    """
)


def run_flow(tmp_path: Path, engine: str, port: int, first: int = 0, count: int = 5, **env: str) -> subprocess.Popen[str]:
    script = tmp_path / f"flow_{engine}.py"
    if not script.exists():
        script.write_text(FLOW.format(engine=engine))
    return subprocess.Popen(
        [sys.executable, str(script), str(port), str(first), str(count)],
        env={**os.environ, "FLOW_ROOT": str(tmp_path), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def done_ids(port: int) -> set[str]:
    body = httpx.post(f"http://127.0.0.1:{port}/api/task_list", data={"data": json.dumps({"status": "DONE"})}).json()
    return set(body["response"])


def runs(tmp_path: Path) -> list[str]:
    log = tmp_path / "runs.log"
    return log.read_text().split() if log.exists() else []


def test_a_real_luigi_worker_runs_a_workflow_against_the_trunkline_scheduler(
    tmp_path: Path, server_process: ServerProcess
) -> None:
    pytest.importorskip("luigi", reason="Luigi 3.8.1 comes with the test extra")
    flow = run_flow(tmp_path, "luigi", server_process.port)
    output, _ = flow.communicate(timeout=120)
    assert flow.returncode == 0, output
    assert (tmp_path / "whole-0-5").read_text() == "done"
    assert len(done_ids(server_process.port)) == 6


def test_done_tasks_survive_kill_9_of_the_scheduler(tmp_path: Path, server_process: ServerProcess) -> None:
    flow = run_flow(tmp_path, "trunkline", server_process.port)
    assert flow.wait(timeout=120) == 0
    before = done_ids(server_process.port)
    assert len(before) == 6
    server_process.kill_9()
    restarted = ServerProcess(server_process.state_path, server_process.port).start()
    try:
        assert done_ids(restarted.port) == before
    finally:
        restarted.stop()


def start_eight_workers(tmp_path: Path, port: int, firsts: list[int], count: int) -> None:
    # keep_alive: a worker whose next task waits on another worker's stays to run it.
    config = tmp_path / "worker.cfg"
    config.write_text("[worker]\nkeep_alive = true\nwait_interval = 0.1\nwait_jitter = 0.1\n")
    flows = [
        run_flow(tmp_path, "trunkline", port, first=first, count=count, FLOW_SLEEP="0.002", LUIGI_CONFIG_PATH=str(config))
        for first in firsts
    ]
    for flow in flows:
        output, _ = flow.communicate(timeout=300)
        assert flow.returncode == 0, output


@pytest.mark.parametrize("attempt", range(10))
def test_eight_workers_with_different_roots_sharing_sub_graphs_run_each_task_once(
    tmp_path: Path, server_process: ServerProcess, attempt: int
) -> None:
    # Worker k needs parts 50k .. 50k+149: 500 parts, most shared by three workers.
    start_eight_workers(tmp_path, server_process.port, [k * 50 for k in range(8)], 150)
    ran = runs(tmp_path)
    parts = [r for r in ran if r.startswith("Part_")]
    assert len(parts) == len(set(parts)) == 500
    assert len(list((tmp_path / "parts").iterdir())) == 500
    wholes = [r for r in ran if r.startswith("Whole_")]
    assert len(wholes) == len(set(wholes)) == 8


def test_eight_workers_running_the_same_command_run_each_task_once(tmp_path: Path, server_process: ServerProcess) -> None:
    # As cron on eight machines would: the same root task everywhere.
    start_eight_workers(tmp_path, server_process.port, [0] * 8, 200)
    ran = runs(tmp_path)
    assert len(ran) == len(set(ran)) == 201


def test_task_of_a_killed_worker_is_rerun_by_another_after_the_disconnect_delay(tmp_path: Path) -> None:
    scheduler_config = tmp_path / "scheduler.cfg"
    scheduler_config.write_text(
        "[scheduler]\nworker_disconnect_delay = 2\nretry_delay = 0\nprune_on_get_work = true\n"
    )
    server = ServerProcess(tmp_path / "state.sqlite3", env={"LUIGI_CONFIG_PATH": str(scheduler_config)}).start()
    worker_config = tmp_path / "worker.cfg"
    worker_config.write_text("[worker]\nkeep_alive = true\nwait_interval = 0.2\nwait_jitter = 0\n")
    try:
        doomed = run_flow(tmp_path, "trunkline", server.port, count=1, FLOW_SLEEP="60", LUIGI_CONFIG_PATH=str(worker_config))
        deadline = time.monotonic() + 60
        while not any(r.startswith("Part_") for r in runs(tmp_path)):
            assert time.monotonic() < deadline, "the first worker never started the task"
            time.sleep(0.1)
        doomed.kill()  # kill -9 in the middle of the task
        doomed.wait(30)
        assert not (tmp_path / "parts" / "0").exists()
        rescuer = run_flow(tmp_path, "trunkline", server.port, count=1, FLOW_SLEEP="0", LUIGI_CONFIG_PATH=str(worker_config))
        output, _ = rescuer.communicate(timeout=120)
        assert rescuer.returncode == 0, output
        parts = [r for r in runs(tmp_path) if r.startswith("Part_")]
        assert len(parts) == 2  # started by the killed worker, run again by the rescuer
        assert (tmp_path / "parts" / "0").read_text() == "0"
        assert len(done_ids(server.port)) == 2
    finally:
        server.stop()
