"""RemoteScheduler: a trunkline worker against a real luigid, and an absent scheduler."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import trunkline as luigi
from trunkline.rpc import RemoteScheduler, RPCError

from .conftest import free_port


def test_trunkline_worker_runs_a_workflow_against_a_real_luigid(luigid: int, tmp_path: Path) -> None:
    class Part(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"part-{self.n}"))

        def run(self):
            with self.output().open("w") as f:
                f.write(str(self.n))

    class Whole(luigi.Task):
        def requires(self):
            return [Part(n) for n in range(5)]

        def output(self):
            return luigi.LocalTarget(str(tmp_path / "whole"))

        def run(self):
            with self.output().open("w") as f:
                f.write(",".join(t.open("r").read() for t in self.input()))

    assert luigi.build([Whole()], scheduler_host="127.0.0.1", scheduler_port=luigid) is True
    assert (tmp_path / "whole").read_text() == "0,1,2,3,4"
    # luigid now knows every task as DONE
    listed = httpx.get(f"http://127.0.0.1:{luigid}/api/task_list", params={"data": '{"status": "DONE"}'}).json()
    assert len(listed["response"]) == 6


def test_absent_scheduler_fails_after_the_retries_with_a_message_saying_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("trunkline.rpc.time.sleep", lambda seconds: None)
    scheduler = RemoteScheduler(f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(RPCError) as raised:
        scheduler.ping(worker="w")
    message = str(raised.value)
    assert "--local-scheduler" in message and "trunkline scheduler" in message


def test_command_line_without_a_scheduler_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[core]\nrpc_retry_wait = 0.1\nrpc_log_retries = false\n")
    (tmp_path / "flow.py").write_text(
        "import trunkline as luigi\n"
        "class Hello(luigi.Task):\n"
        "    def run(self):\n"
        "        pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "trunkline", "--module", "flow", "Hello", "--scheduler-port", str(free_port()), "--no-lock"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "LUIGI_CONFIG_PATH": str(tmp_path / "luigi.cfg")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert "Traceback" not in done.stderr
    assert "when connecting to remote scheduler" in done.stderr and "--local-scheduler" in done.stderr
