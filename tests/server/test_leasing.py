"""work_cycle: a trunkline worker sends its results and leases its next tasks in one request.

Luigi's workers (tests/server/test_service.py) and a real luigid
(tests/rpc/test_remote_scheduler.py) keep using get_work and add_task.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import trunkline as luigi
from trunkline.scheduler import Scheduler

from .conftest import InProcessServer, ServerProcess

FLOW = textwrap.dedent(
    """
    import os, sys, time
    import trunkline as luigi

    ROOT = os.environ["FLOW_ROOT"]

    def record(name):
        # one line per run() call: "<task id> <pid>"; returns how many runs so far
        fd = os.open(os.path.join(ROOT, "runs.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, f"{name} {os.getpid()}\\n".encode())
        os.close(fd)
        with open(os.path.join(ROOT, "runs.log")) as f:
            return sum(1 for _ in f)

    class Part(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, "parts", str(self.n)))

        def run(self):
            so_far = record(self.task_id)
            if so_far == int(os.environ.get("FLOW_STUCK_AT", "0")):
                # this worker's Nth run waits for the test to let it go (or to kill it)
                while not os.path.exists(os.path.join(ROOT, "go")):
                    time.sleep(0.05)
            time.sleep(float(os.environ.get("FLOW_SLEEP", "0")))
            with self.output().open("w") as f:
                f.write(str(self.n))

    class Whole(luigi.Task):
        count = luigi.IntParameter()

        def requires(self):
            return [Part(n) for n in range(self.count)]

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, f"whole-{self.count}"))

        def run(self):
            record(self.task_id)
            with self.output().open("w") as f:
                f.write("done")

    if __name__ == "__main__":
        port, count = int(sys.argv[1]), int(sys.argv[2])
        ok = luigi.build([Whole(count=count)], scheduler_host="127.0.0.1", scheduler_port=port, log_level="WARNING")
        sys.exit(0 if ok else 1)
    """
)


def start_flow(tmp_path: Path, port: int, count: int, worker_config: str = "", **env: str) -> subprocess.Popen[str]:
    script = tmp_path / "flow.py"
    if not script.exists():
        script.write_text(FLOW)
    config = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*.cfg')))}.cfg"
    config.write_text(worker_config or "[worker]\nkeep_alive = true\nwait_interval = 0.1\nwait_jitter = 0.1\n")
    return subprocess.Popen(
        [sys.executable, str(script), str(port), str(count)],
        env={**os.environ, "FLOW_ROOT": str(tmp_path), "LUIGI_CONFIG_PATH": str(config), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(flow: subprocess.Popen[str], timeout: float = 300) -> None:
    output, _ = flow.communicate(timeout=timeout)
    assert flow.returncode == 0, output


def runs(tmp_path: Path) -> list[tuple[str, int]]:
    log = tmp_path / "runs.log"
    if not log.exists():
        return []
    return [(name, int(pid)) for name, pid in (line.split() for line in log.read_text().splitlines())]


def api(port: int, method: str, **arguments: Any) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/api/{method}", data={"data": json.dumps(arguments)})


def ids_with_status(port: int, status: str) -> set[str]:
    return set(api(port, "task_list", status=status).json()["response"])


def wait_until(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- through HTTP, in process: which requests a worker makes ---------------------------------


class CountingScheduler:
    """A scheduler that counts the methods called on it (the server calls it per request)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self.calls: collections.Counter[str] = collections.Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._scheduler, name)
        if not callable(method):
            return method

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def counting_server() -> Iterator[tuple[InProcessServer, CountingScheduler]]:
    running = InProcessServer(auth_token="")
    counting = CountingScheduler(running.scheduler)
    running.scheduler = counting  # type: ignore[assignment]
    running.start()
    yield running, counting
    running.stop()


def test_trunkline_worker_leases_work_in_far_fewer_requests_than_two_per_task(
    tmp_path: Path, counting_server: tuple[InProcessServer, CountingScheduler]
) -> None:
    server, counting = counting_server

    class Leaf(luigi.Task):
        n = luigi.IntParameter()

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / f"leaf-{self.n}"))

        def run(self) -> None:
            with self.output().open("w") as f:
                f.write(str(self.n))

    class Sink(luigi.Task):
        def requires(self) -> list[luigi.Task]:
            return [Leaf(n) for n in range(300)]

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "sink"))

        def run(self) -> None:
            with self.output().open("w") as f:
                f.write("done")

    assert luigi.build([Sink()], scheduler_host="127.0.0.1", scheduler_port=server.port) is True
    assert (tmp_path / "sink").read_text() == "done"
    assert len(list(tmp_path.glob("leaf-*"))) == 300
    requests = sum(count for name, count in counting.calls.items() if name != "ping")
    assert counting.calls["work_cycle"] > 0
    assert counting.calls["get_work"] == 0 and counting.calls["add_task"] == 0
    assert requests < 301 / 4, dict(counting.calls)  # Luigi's protocol needs 2 per task
    assert len(ids_with_status(server.port, "DONE")) == 301


def test_bad_work_cycle_arguments_get_400_and_change_nothing(server: InProcessServer) -> None:
    for n in range(3):
        api(server.port, "add_task", worker="w", task_id=f"T{n}", status="PENDING", runnable=True, family="T")
    leased = api(server.port, "work_cycle", worker="w", want=1, current_tasks=[]).json()["response"]["tasks"]
    assert [t["task_id"] for t in leased] == ["T0"]
    before = api(server.port, "task_list").json()["response"]
    good_report = {"task_id": "T0", "status": "DONE"}
    bad_calls: list[dict[str, Any]] = [
        {"worker": "w", "want": "3"},
        {"worker": "w", "want": -1},
        {"worker": "w", "want": 1, "follow_on": "yes"},
        {"worker": "w", "want": True},
        {"worker": 7},
        {"want": 1},
        {"worker": "w", "reports": "T0 done"},
        {"worker": "w", "reports": [good_report, {"task_id": 5, "status": "DONE"}]},
        {"worker": "w", "reports": [good_report, {"task_id": "T1", "status": "FINISHED"}]},
        {"worker": "w", "reports": [good_report, {"task_id": "T1", "status": "DONE", "deps": "T2"}]},
        {"worker": "w", "reports": [good_report, {"task_id": "T1", "status": "DONE", "surprise": 1}]},
        {"worker": "w", "reports": [good_report, {"task_id": "T1", "status": "DONE", "worker": "other"}]},
        {"worker": "w", "reports": [good_report, {"task_id": "T1", "retry_policy_dict": [1]}]},
        {"worker": "w", "current_tasks": [1, 2]},
        {"worker": "w", "release": "T0"},
        {"worker": "w", "assistant": "yes"},
    ]
    for arguments in bad_calls:
        response = api(server.port, "work_cycle", **arguments)
        assert response.status_code == 400, arguments
        assert "work_cycle" in response.json()["error"]
    assert api(server.port, "task_list").json()["response"] == before
    assert ids_with_status(server.port, "RUNNING") == {"T0"}
    assert ids_with_status(server.port, "PENDING") == {"T1", "T2"}


# -- the scheduler object: fairness, caps, resources, reports ---------------------------------


def fan_in(scheduler: Scheduler, workers: list[str], leaves: int) -> None:
    for worker in workers:
        for n in range(leaves):
            scheduler.add_task(task_id=f"L{n}", worker=worker, status="PENDING", runnable=True, family="L")
        scheduler.add_task(task_id="Sink", worker=worker, status="PENDING", deps=[f"L{n}" for n in range(leaves)])


def leased_ids(reply: dict[str, Any]) -> list[str]:
    return [entry["task_id"] for entry in reply["tasks"]]


def test_two_workers_on_a_wide_fan_in_both_get_work() -> None:
    scheduler = Scheduler(lease_max_tasks=1000)
    fan_in(scheduler, ["A", "B"], 200)
    first = leased_ids(scheduler.work_cycle(worker="A", want=1000, current_tasks=[]))
    second = leased_ids(scheduler.work_cycle(worker="B", want=1000, current_tasks=[]))
    assert 0 < len(first) <= 100
    assert len(second) > 0
    assert not set(first) & set(second)
    assert scheduler.task_list(status="RUNNING").keys() == set(first) | set(second)


def test_a_lease_is_capped_by_the_scheduler_config() -> None:
    scheduler = Scheduler(lease_max_tasks=7)
    fan_in(scheduler, ["A"], 50)
    assert len(leased_ids(scheduler.work_cycle(worker="A", want=1000, current_tasks=[]))) == 7


def test_leases_follow_priority_and_respect_resources() -> None:
    scheduler = Scheduler(resources={"db": 2}, lease_max_tasks=100)
    for n in range(5):
        scheduler.add_task(task_id=f"db{n}", worker="A", status="PENDING", resources={"db": 1}, priority=n)
    scheduler.add_task(task_id="urgent", worker="A", status="PENDING", priority=100)
    leased = leased_ids(scheduler.work_cycle(worker="A", want=100, current_tasks=[]))
    # the best first, and only two tasks that need the one 2-slot "db" resource
    assert leased == ["urgent", "db4", "db3"]
    more = leased_ids(scheduler.work_cycle(worker="A", want=100, current_tasks=leased))
    assert more == []
    done_one = scheduler.work_cycle(
        worker="A", want=100, current_tasks=["urgent", "db3"], reports=[{"task_id": "db4", "status": "DONE"}]
    )
    assert leased_ids(done_one) == ["db2"]


def test_a_failed_report_in_a_batch_is_applied_with_the_retry_policy() -> None:
    now = [1000.0]
    scheduler = Scheduler(clock=lambda: now[0], retry_delay=30, lease_max_tasks=100)
    for name in ("a", "b", "c"):
        scheduler.add_task(task_id=name, worker="W", status="PENDING", retry_policy_dict={"retry_count": 2})
    assert sorted(leased_ids(scheduler.work_cycle(worker="W", want=10, current_tasks=[]))) == ["a", "b", "c"]
    reports = [
        {"task_id": "a", "status": "DONE"},
        {"task_id": "b", "status": "FAILED", "expl": '"boom"', "retry_policy_dict": {"retry_count": 2}},
        {"task_id": "c", "status": "DONE"},
    ]
    reply = scheduler.work_cycle(worker="W", want=10, current_tasks=[], reports=reports)
    assert leased_ids(reply) == []  # b waits out its retry delay
    assert set(scheduler.task_list(status="DONE")) == {"a", "c"}
    assert set(scheduler.task_list(status="FAILED")) == {"b"}
    assert scheduler.fetch_error("b")["error"] == '"boom"'
    now[0] += 31  # past the retry delay, within the disconnect delay
    scheduler.prune()
    assert leased_ids(scheduler.work_cycle(worker="W", want=10, current_tasks=[])) == ["b"]
    second_failure = [{"task_id": "b", "status": "FAILED", "retry_policy_dict": {"retry_count": 2}}]
    scheduler.work_cycle(worker="W", want=10, current_tasks=[], reports=second_failure)
    assert set(scheduler.task_list(status="DISABLED")) == {"b"}  # two failures: retry_count reached


def test_released_leases_and_lost_answers() -> None:
    scheduler = Scheduler(lease_max_tasks=100)
    fan_in(scheduler, ["W"], 4)
    leased = leased_ids(scheduler.work_cycle(worker="W", want=4, current_tasks=[]))
    assert len(leased) == 4
    # The answer was lost: the worker holds nothing, so the same leases come back.
    assert sorted(leased_ids(scheduler.work_cycle(worker="W", want=4, current_tasks=[]))) == sorted(leased)
    # Given back unstarted: they are PENDING and leased again.
    reply = scheduler.work_cycle(worker="W", want=0, current_tasks=leased[2:], release=leased[:2])
    assert leased_ids(reply) == []
    assert set(scheduler.task_list(status="PENDING")) == set(leased[:2]) | {"Sink"}


# -- real processes: at most one run, a dead worker's leases --------------------------------------


def test_four_worker_processes_on_a_shared_500_task_graph_run_each_task_once(
    tmp_path: Path, server_process: ServerProcess
) -> None:
    flows = [start_flow(tmp_path, server_process.port, 500, FLOW_SLEEP="0.002") for _ in range(4)]
    for flow in flows:
        finish(flow)
    names = [name for name, _ in runs(tmp_path)]
    assert len(names) == len(set(names)) == 501
    assert len(list((tmp_path / "parts").iterdir())) == 500


def test_a_slow_task_gives_its_workers_unstarted_leases_to_another_worker(
    tmp_path: Path, server_process: ServerProcess
) -> None:
    first = start_flow(tmp_path, server_process.port, 30, FLOW_STUCK_AT="3")
    wait_until(lambda: len(runs(tmp_path)) >= 3, "the first worker to get stuck on its third task")
    second = start_flow(tmp_path, server_process.port, 30)
    # The parts the first worker had leased but not started: the second one runs them.
    wait_until(lambda: len(runs(tmp_path)) >= 30, "the second worker to run the rest of the parts")
    (tmp_path / "go").write_text("go")
    finish(first)
    finish(second)
    ran = runs(tmp_path)
    names = [name for name, _ in ran]
    assert len(names) == len(set(names)) == 31
    assert {pid for _, pid in ran} == {first.pid, second.pid}


def test_leases_of_a_killed_worker_are_run_by_another_after_the_disconnect_delay(tmp_path: Path) -> None:
    scheduler_config = tmp_path / "scheduler.cfg"
    scheduler_config.write_text(
        "[scheduler]\nworker_disconnect_delay = 3\nretry_delay = 0\nprune_on_get_work = true\n"
    )
    server = ServerProcess(tmp_path / "state.sqlite3", env={"LUIGI_CONFIG_PATH": str(scheduler_config)}).start()
    try:
        doomed = start_flow(tmp_path, server.port, 20, FLOW_STUCK_AT="4")
        wait_until(lambda: len(runs(tmp_path)) >= 4, "the worker to start its fourth task")
        held = ids_with_status(server.port, "RUNNING")
        doomed.kill()  # kill -9 in the middle of a task, holding leases it has not started
        doomed.wait(30)
        stuck_part = runs(tmp_path)[-1][0]
        assert stuck_part in held and len(held) > 1, held
        unstarted = held - {name for name, _ in runs(tmp_path)}
        assert unstarted and not unstarted & ids_with_status(server.port, "DONE")
        rescuer = start_flow(tmp_path, server.port, 20)
        finish(rescuer, timeout=120)
        ran = runs(tmp_path)
        by_rescuer = {name for name, pid in ran if pid == rescuer.pid}
        assert unstarted | {stuck_part} <= by_rescuer
        assert len(ids_with_status(server.port, "DONE")) == 21
    finally:
        server.stop()


def test_a_worker_finishes_after_kill_9_and_restart_of_the_scheduler(tmp_path: Path, server_process: ServerProcess) -> None:
    worker_config = (
        "[worker]\nkeep_alive = true\nwait_interval = 0.1\nwait_jitter = 0\n"
        "[core]\nrpc_retry_wait = 0.2\nrpc_retry_attempts = 150\n"
    )
    flow = start_flow(tmp_path, server_process.port, 120, worker_config=worker_config, FLOW_SLEEP="0.02")
    wait_until(lambda: len(runs(tmp_path)) >= 30, "the worker to be part-way through")
    server_process.kill_9()
    restarted = ServerProcess(server_process.state_path, server_process.port).start()
    try:
        finish(flow)
        names = [name for name, _ in runs(tmp_path)]
        assert len(names) == len(set(names)) == 121
        assert len(ids_with_status(restarted.port, "DONE")) == 121
    finally:
        restarted.stop()


# -- follow-on leases: a chain in one lease ------------------------------------------------


def register_chain(scheduler: Scheduler, worker: str, length: int, prefix: str = "C") -> list[str]:
    ids = [f"{prefix}{n}" for n in range(length)]
    for n, task_id in enumerate(ids):
        scheduler.add_task(worker=worker, task_id=task_id, status="PENDING", runnable=True, family=prefix,
                           deps=[ids[n - 1]] if n else [])
    return ids


def test_a_one_process_worker_leases_a_chain_in_order_each_after_the_one_before() -> None:
    scheduler = Scheduler()
    ids = register_chain(scheduler, "w", 5)
    plain = scheduler.work_cycle(worker="w", want=5, current_tasks=[])
    assert [entry["task_id"] for entry in plain["tasks"]] == ["C0"]  # without follow_on: what is ready

    scheduler = Scheduler()
    ids = register_chain(scheduler, "w", 5)
    lease = scheduler.work_cycle(worker="w", want=5, current_tasks=[], follow_on=True)["tasks"]
    assert [entry["task_id"] for entry in lease] == ids
    assert [entry["after"] for entry in lease] == [[], ["C0"], ["C1"], ["C2"], ["C3"]]
    assert set(scheduler.task_list(status="RUNNING", limit=False)) == set(ids)
    # The results come back in order in one call, and the chain is done.
    done = scheduler.work_cycle(worker="w", want=5, current_tasks=[], follow_on=True,
                                reports=[{"task_id": t, "status": "DONE"} for t in ids])
    assert done["tasks"] == []
    assert set(scheduler.task_list(status="DONE", limit=False)) == set(ids)


def test_no_follow_ons_while_another_worker_waits_for_work() -> None:
    scheduler = Scheduler()
    register_chain(scheduler, "w", 5)
    register_chain(scheduler, "other", 3, prefix="D")
    lease = scheduler.work_cycle(worker="w", want=5, current_tasks=[], follow_on=True)["tasks"]
    assert [entry["task_id"] for entry in lease] == ["C0"]


def test_a_fan_in_sink_is_not_a_follow_on() -> None:
    scheduler = Scheduler()
    for n in range(3):
        scheduler.add_task(worker="w", task_id=f"P{n}", status="PENDING", runnable=True, family="P")
    scheduler.add_task(worker="w", task_id="Sink", status="PENDING", runnable=True, family="S",
                       deps=["P0", "P1", "P2"])
    lease = scheduler.work_cycle(worker="w", want=10, current_tasks=[], follow_on=True)["tasks"]
    assert {entry["task_id"] for entry in lease} == {"P0", "P1", "P2"}
    assert scheduler.task_list(status="PENDING", limit=False).keys() == {"Sink"}  # others still see it wait


def test_a_released_follow_on_waits_for_its_dependency_again() -> None:
    scheduler = Scheduler()
    register_chain(scheduler, "w", 3)
    scheduler.work_cycle(worker="w", want=3, current_tasks=[], follow_on=True)
    # C0 failed: the worker gives back C1 and C2 unstarted.
    scheduler.work_cycle(worker="w", want=0, current_tasks=[], reports=[{"task_id": "C0", "status": "FAILED"}],
                         release=["C1", "C2"])
    assert scheduler.task_list(status="FAILED", limit=False).keys() == {"C0"}
    assert scheduler.task_list(status="PENDING", limit=False).keys() == {"C1", "C2"}
    assert scheduler.work_cycle(worker="w", want=3, current_tasks=[], follow_on=True)["tasks"] == []


CHAIN_FLOW = textwrap.dedent(
    """
    import os, sys
    import trunkline as luigi

    ROOT = os.environ["FLOW_ROOT"]

    class Link(luigi.Task):
        n = luigi.IntParameter()

        def requires(self):
            return [Link(self.n - 1)] if self.n else []

        def output(self):
            return luigi.LocalTarget(os.path.join(ROOT, "links", str(self.n)))

        def run(self):
            with open(os.path.join(ROOT, "runs.log"), "a") as log:
                log.write(f"{self.n}\\n")
            if self.n == int(os.environ.get("CHAIN_BREAKS_AT", "-1")):
                raise RuntimeError("this link breaks")
            with self.output().open("w") as f:
                f.write("x")

    if __name__ == "__main__":
        port, length = int(sys.argv[1]), int(sys.argv[2])
        luigi.build([Link(length - 1)], scheduler_host="127.0.0.1", scheduler_port=port, log_level="WARNING")
    """
)


def run_chain(tmp_path: Path, port: int, length: int, **env: str) -> list[int]:
    script = tmp_path / "chain.py"
    script.write_text(CHAIN_FLOW)
    done = subprocess.run(
        [sys.executable, str(script), str(port), str(length)],
        env={**os.environ, "FLOW_ROOT": str(tmp_path), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    log = tmp_path / "runs.log"
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def test_a_chain_runs_in_a_few_requests(
    tmp_path: Path, counting_server: tuple[InProcessServer, CountingScheduler]
) -> None:
    server, counting = counting_server
    assert run_chain(tmp_path, server.port, 200) == list(range(200))
    assert counting.calls["work_cycle"] < 200 / 4, dict(counting.calls)  # not one per link
    assert len(ids_with_status(server.port, "DONE")) == 200


def test_the_links_after_a_broken_one_are_given_back_not_run(tmp_path: Path, server: InProcessServer) -> None:
    ran = run_chain(tmp_path, server.port, 20, CHAIN_BREAKS_AT="7")
    assert ran == list(range(8))  # the links after the broken one never ran
    assert ids_with_status(server.port, "RUNNING") == set()
    assert [t.split("_")[1] for t in ids_with_status(server.port, "FAILED")] == ["7"]
    assert len(ids_with_status(server.port, "PENDING")) == 12
    assert len(ids_with_status(server.port, "DONE")) == 7
