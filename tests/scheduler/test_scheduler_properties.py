"""Property: whatever several workers do, a task runs on at most one of them,
and nothing is handed out before its dependencies are DONE (or, in a lease with
follow-ons, before them in the same lease)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from trunkline.scheduler import Scheduler

TASKS = [f"T{i}" for i in range(6)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def machine_for(workers: list[str]) -> type[RuleBasedStateMachine]:
    """The state machine with these workers. With one worker (or workers that
    vanish), leases carry follow-ons; with several live ones they rarely do."""

    class SchedulerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = Clock()
            self.scheduler = Scheduler(
                clock=self.clock, resources={}, retry_delay=5, worker_disconnect_delay=20, prune_on_get_work=True,
                stable_done_cooldown_secs=0,
            )
            # what each worker believes it is running (or holds leased)
            self.running: dict[str, set[str]] = {w: set() for w in workers}
            # a follow-on lease -> the leased tasks that must succeed first
            self.after: dict[tuple[str, str], list[str]] = {}
            self.succeeded: set[tuple[str, str]] = set()

        @rule(worker=st.sampled_from(workers), task=st.sampled_from(TASKS), deps=st.lists(st.sampled_from(TASKS), max_size=2))
        def register(self, worker: str, task: str, deps: list[str]) -> None:
            deps = [d for d in deps if d < task]  # keep the graph acyclic
            self.scheduler.add_task(worker=worker, task_id=task, deps=deps, status="PENDING")

        @rule(worker=st.sampled_from(workers))
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

        @rule(worker=st.sampled_from(workers), want=st.integers(1, 4), follow_on=st.booleans())
        def lease_work(self, worker: str, want: int, follow_on: bool) -> None:
            reply = self.scheduler.work_cycle(
                worker=worker, want=want, follow_on=follow_on, current_tasks=sorted(self.running[worker])
            )
            listed = self.scheduler.task_list()
            earlier: set[str] = set()
            for entry in reply["tasks"]:
                task_id = entry["task_id"]
                for dep in self.scheduler.dep_graph(task_id)[task_id]["deps"]:
                    assert listed[dep]["status"] == "DONE" or dep in earlier, (
                        f"{task_id} leased before its dependency {dep} was DONE or leased before it"
                    )
                assert set(entry["after"]) <= earlier
                for other, tasks in self.running.items():
                    if other != worker:
                        assert task_id not in tasks, f"{task_id} leased to {worker} while {other} runs it"
                earlier.add(task_id)
                self.running[worker].add(task_id)
                self.after[(worker, task_id)] = list(entry["after"])

        @rule(worker=st.sampled_from(workers), outcome=st.sampled_from(["DONE", "FAILED"]), data=st.data())
        def finish(self, worker: str, outcome: str, data: st.DataObject) -> None:
            if not self.running[worker]:
                return
            task_id = data.draw(st.sampled_from(sorted(self.running[worker])))
            self.running[worker].discard(task_id)
            after = self.after.pop((worker, task_id), [])
            if not all((worker, dep) in self.succeeded for dep in after):
                # as a worker does: a follow-on whose dependency did not succeed goes back unstarted
                self.scheduler.work_cycle(worker=worker, want=0, release=[task_id], current_tasks=sorted(self.running[worker]))
                return
            self.scheduler.add_task(worker=worker, task_id=task_id, status=outcome)
            if outcome == "DONE":
                self.succeeded.add((worker, task_id))

        @rule(worker=st.sampled_from(workers))
        def vanish(self, worker: str) -> None:
            """A worker dies: it stops pinging, and what it ran is lost with it."""
            self.running[worker] = set()
            self.after = {key: value for key, value in self.after.items() if key[0] != worker}
            self.clock.now += 25
            for other in workers:
                if other != worker:
                    self.scheduler.ping(worker=other)

        @rule(seconds=st.floats(0, 10))
        def time_passes(self, seconds: float) -> None:
            self.clock.now += seconds
            for worker in workers:
                self.scheduler.ping(worker=worker)

        @invariant()
        def running_tasks_have_one_worker_each(self) -> None:
            running = self.scheduler.task_list(status="RUNNING")
            for task_id, task in running.items():
                holders = [w for w, tasks in self.running.items() if task_id in tasks]
                assert len(holders) <= 1
                assert task["worker_running"] is not None

    return SchedulerMachine


def _test_case(workers: list[str], examples: int) -> type:
    case = machine_for(workers).TestCase
    case.settings = settings(max_examples=examples, stateful_step_count=40, deadline=None)
    return case


test_scheduler_state_machine = _test_case(["w1", "w2", "w3"], 80)
test_one_worker_leasing_chains = _test_case(["w1"], 80)
test_two_workers_one_often_gone = _test_case(["w1", "w2"], 80)
