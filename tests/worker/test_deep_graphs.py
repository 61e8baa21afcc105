"""Graphs far deeper than Python's recursion limit."""

from __future__ import annotations

import sys

import trunkline as luigi


def test_a_chain_one_hundred_thousand_tasks_deep_completes() -> None:
    depth = 100_000
    assert depth > sys.getrecursionlimit() * 10
    done: set[int] = set()

    class Link(luigi.Task):
        n = luigi.IntParameter()

        def requires(self):
            return Link(self.n - 1) if self.n > 0 else []

        def complete(self):
            return self.n in done

        def run(self):
            if self.n > 0:
                assert self.n - 1 in done, "ran before its dependency"
            done.add(self.n)

    result = luigi.build([Link(depth - 1)], local_scheduler=True, detailed_summary=True)
    assert len(done) == depth
    assert result.status == luigi.LuigiStatusCode.SUCCESS
    assert f"* {depth} ran successfully:" in result.summary_text
    assert f"- {depth} Link(n=0...{depth - 1})" in result.summary_text
