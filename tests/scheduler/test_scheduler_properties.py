"""Property: whatever several workers do, a task runs on at most one of them,
and nothing is handed out before its dependencies are DONE."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from trunkline.scheduler import Scheduler

TASKS = [f"T{i}" for i in range(6)]
WORKERS = ["w1", "w2", "w3"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SchedulerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.scheduler = Scheduler(
            clock=self.clock, resources={}, retry_delay=5, worker_disconnect_delay=20, prune_on_get_work=True,
            stable_done_cooldown_secs=0,
        )
        # what each worker believes it is running
        self.running: dict[str, set[str]] = {w: set() for w in WORKERS}

    @rule(worker=st.sampled_from(WORKERS), task=st.sampled_from(TASKS), deps=st.lists(st.sampled_from(TASKS), max_size=2))
    def register(self, worker: str, task: str, deps: list[str]) -> None:
        deps = [d for d in deps if d < task]  # keep the graph acyclic
        self.scheduler.add_task(worker=worker, task_id=task, deps=deps, status="PENDING")

    @rule(worker=st.sampled_from(WORKERS))
    def ask_for_work(self, worker: str) -> None:
        reply = self.scheduler.get_work(worker=worker, current_tasks=sorted(self.running[worker]))
        task_id = reply["task_id"]
        if task_id is None:
            return
        listed = self.scheduler.task_list()
        for dep in self.scheduler.dep_graph(task_id)[task_id]["deps"]:
            assert listed[dep]["status"] == "DONE", f"{task_id} handed out before its dependency {dep} was DONE"
        for other, tasks in self.running.items():
            if other != worker:
                assert task_id not in tasks, f"{task_id} handed to {worker} while {other} runs it"
        self.running[worker].add(task_id)

    @rule(worker=st.sampled_from(WORKERS), outcome=st.sampled_from(["DONE", "FAILED"]), data=st.data())
    def finish(self, worker: str, outcome: str, data: st.DataObject) -> None:
        if not self.running[worker]:
            return
        task_id = data.draw(st.sampled_from(sorted(self.running[worker])))
        self.scheduler.add_task(worker=worker, task_id=task_id, status=outcome)
        self.running[worker].discard(task_id)

    @rule(worker=st.sampled_from(WORKERS))
    def vanish(self, worker: str) -> None:
        """A worker dies: it stops pinging, and what it ran is lost with it."""
        self.running[worker] = set()
        self.clock.now += 25
        for other in WORKERS:
            if other != worker:
                self.scheduler.ping(worker=other)

    @rule(seconds=st.floats(0, 10))
    def time_passes(self, seconds: float) -> None:
        self.clock.now += seconds
        for worker in WORKERS:
            self.scheduler.ping(worker=worker)

    @invariant()
    def running_tasks_have_one_worker_each(self) -> None:
        running = self.scheduler.task_list(status="RUNNING")
        for task_id, task in running.items():
            holders = [w for w, tasks in self.running.items() if task_id in tasks]
            assert len(holders) <= 1
            assert task["worker_running"] is not None


SchedulerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_scheduler_state_machine = SchedulerMachine.TestCase
