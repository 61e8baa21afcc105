"""The execution summary's lines for large families, read straight from a worker's history.

The summary orders a family's tasks by ``str``, but only as far as the line needs;
these pin the lines that depend on that order (the first task, the first two,
the first values of a list) and the explanations of pending tasks.
"""

from __future__ import annotations

from typing import Any

import trunkline as luigi
from trunkline import execution_summary

REQUIRES: dict[str, list[luigi.Task]] = {}


class SumNumber(luigi.Task):
    n = luigi.IntParameter()

    def requires(self) -> list[luigi.Task]:
        return REQUIRES.get(self.task_id, [])


class SumWord(luigi.Task):
    word = luigi.Parameter()


class SumPair(luigi.Task):
    left = luigi.IntParameter()
    right = luigi.Parameter()


class SumData(luigi.ExternalTask):
    n = luigi.IntParameter()


class History:
    """The parts of a worker the summary reads."""

    def __init__(self, *entries: tuple[luigi.Task, str, bool]) -> None:
        self._add_task_history = list(entries)
        self._get_work_response_history: list[dict[str, Any]] = []
        self._scheduled_tasks = {task.task_id: task for task, _, _ in entries}
        self._id = "this-worker"


def ran(*tasks: luigi.Task) -> list[tuple[luigi.Task, str, bool]]:
    return [(task, "PENDING", True) for task in tasks] + [(task, "DONE", True) for task in tasks]


def lines(worker: History) -> list[str]:
    return execution_summary.summary(worker).splitlines()


def test_a_long_list_shows_the_smallest_values_in_string_order() -> None:
    words = [SumWord(word=f"w{k}") for k in range(500, 0, -3)]
    assert "    - 167 SumWord(word=w101,w104,w107,w11,w110,w113,w116,...)" in lines(History(*ran(*words)))


def test_a_short_list_shows_every_value_in_string_order_not_value_order() -> None:
    # "a c)" < "a()" < "a)": the order of the printed tasks, not of the values
    words = [SumWord(word=w) for w in ("b", "a c", "a", "a(")]
    assert "    - 4 SumWord(word=a c,a(,a,b)" in lines(History(*ran(*words)))


def test_a_contiguous_range_with_a_gap_is_a_list_and_without_is_a_range() -> None:
    full = [SumNumber(n=k) for k in range(3000)]
    assert "    - 3000 SumNumber(n=0...2999)" in lines(History(*ran(*full)))
    gap = [task for task in full if task.n != 1500]
    assert "    - 2999 SumNumber(n=0,1,10,100,1000,1001,1002,1003,...)" in lines(History(*ran(*gap)))


def test_families_of_two_varying_parameters_name_their_first_tasks() -> None:
    two = [SumPair(left=2, right="b"), SumPair(left=1, right="a")]
    assert "    - 2 SumPair(left=1, right=a) and SumPair(left=2, right=b)" in lines(History(*ran(*two)))
    many = [SumPair(left=k, right="ab"[k % 2]) for k in range(2000, 0, -1)]
    assert "    - 2000 SumPair(left=1, right=b) ..." in lines(History(*ran(*many)))
    one_varies = [SumPair(left=k, right="same") for k in range(50)]
    assert "    - 50 SumPair(left=0...49, right=same)" in lines(History(*ran(*one_varies)))


def test_pending_tasks_are_explained_by_what_they_wait_for() -> None:
    failed, missing = SumNumber(n=1), SumData(n=1)
    after_failure = [SumNumber(n=k) for k in range(2, 40)]
    REQUIRES.clear()
    REQUIRES[after_failure[0].task_id] = [failed]
    for below, above in zip(after_failure, after_failure[1:]):
        REQUIRES[above.task_id] = [below]
    waiting = SumNumber(n=100)
    REQUIRES[waiting.task_id] = [missing]
    alone = SumNumber(n=200)
    history = History(
        (failed, "PENDING", True),
        (failed, "FAILED", True),
        (missing, "PENDING", False),
        (waiting, "PENDING", True),
        (alone, "PENDING", True),
        *[(task, "PENDING", True) for task in after_failure],
    )
    try:
        text = lines(history)
        sets = execution_summary._summary_dict(history)
    finally:
        REQUIRES.clear()
    assert "    * 38 had failed dependencies:" in text
    assert "        - 38 SumNumber(n=2...39)" in text
    assert "    * 1 had missing dependencies:" in text
    assert "        - 1 SumNumber(n=100)" in text
    assert "    * 1 was not granted run permission by the scheduler:" in text
    assert "        - 1 SumNumber(n=200)" in text
    assert after_failure[-1] in sets["upstream_failure"] and alone in sets["not_run"]
    assert failed in sets["failed"] and missing in sets["still_pending_ext"]
