"""run() that yields tasks: suspended, the yielded tasks run, then run() resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

import trunkline as luigi


@pytest.mark.parametrize("workers", [1, 3])
def test_yielded_tasks_run_then_the_task_resumes_with_their_outputs(
    tmp_path: Path, workers: int
) -> None:
    class Part(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"part-{self.n}"))

        def run(self):
            with self.output().open("w") as f:
                f.write(str(self.n * 10))

    class Whole(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "whole"))

        def run(self):
            first = yield Part(n=1)
            rest = yield [Part(n=2), Part(n=3)]
            values = [first.open("r").read()] + [t.open("r").read() for t in rest]
            with self.output().open("w") as f:
                f.write(",".join(values))

    assert luigi.build([Whole()], local_scheduler=True, workers=workers) is True
    assert (tmp_path / "whole").read_text() == "10,20,30"


def test_dynamic_requirements_with_custom_complete(tmp_path: Path) -> None:
    class Chunk(luigi.Task):
        n = luigi.IntParameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / f"chunk-{self.n}"))

        def run(self):
            with self.output().open("w") as f:
                f.write("c")

    class Collector(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "collected"))

        def run(self):
            chunks = [Chunk(n) for n in range(4)]

            def all_exist(complete_fn):
                return all(complete_fn(chunk) for chunk in chunks)

            yield luigi.DynamicRequirements(chunks, all_exist)
            with self.output().open("w") as f:
                f.write(str(len(list((tmp_path).glob("chunk-*")))))

    assert luigi.build([Collector()], local_scheduler=True) is True
    assert (tmp_path / "collected").read_text() == "4"
