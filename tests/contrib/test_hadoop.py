"""Hadoop Streaming jobs: in-process with LocalJobRunner, and submitted with `hadoop jar`
to a stand-in `hadoop` (tests/contrib/standin_hadoop.py) that runs the mapper, combiner and
reducer commands it is given with a sort between, as Hadoop Streaming does."""

from __future__ import annotations

import importlib
import json
import logging
import os
import stat
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import trunkline as luigi
from trunkline.contrib import hadoop

from ._recording import run_with_recording

# A user's job module: written to a folder of its own so that, on the stand-in's
# "nodes", it can only be imported from the packages.tar the runner ships.
JOB_MODULE = '''
import trunkline as luigi
from trunkline.contrib import hadoop


class Text(luigi.ExternalTask):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)


class WordCount(hadoop.JobTask):
    source = luigi.Parameter()
    stopwords = luigi.Parameter()
    destination = luigi.Parameter()
    on_hadoop = luigi.BoolParameter()

    def requires(self):
        return Text(self.source)

    def requires_local(self):
        return Text(self.stopwords)

    def output(self):
        return luigi.LocalTarget(self.destination)

    def job_runner(self):
        return hadoop.DefaultHadoopJobRunner() if self.on_hadoop else hadoop.LocalJobRunner()

    def init_local(self):
        # runs in the worker; what it sets travels to the nodes in the pickle
        with self.input_local().open("r") as f:
            self.skip = set(f.read().split())

    def init_mapper(self):
        self.seen_by_this_mapper = 0

    def mapper(self, line):
        for word in line.split():
            if word in self.skip:
                self.incr_counter("words", "skipped", 1)
                continue
            self.incr_counter("words", "mapped", 1)
            self.seen_by_this_mapper += 1
            yield word.lower(), 1

    def final_mapper(self):
        yield "__mapped__", self.seen_by_this_mapper

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


class Upper(hadoop.JobTask):
    """Map-only: no reducer."""
    source = luigi.Parameter()
    destination = luigi.Parameter()

    def requires(self):
        return Text(self.source)

    def output(self):
        return luigi.LocalTarget(self.destination)

    def job_runner(self):
        return hadoop.LocalJobRunner()

    def mapper(self, line):
        yield line.upper(),


class Broken(WordCount):
    def mapper(self, line):
        raise ValueError("a bad record: " + line)
'''

TEXT = "the cat sat\non the mat\nThe Cat\n"


@pytest.fixture
def job_module(tmp_path: Path) -> Iterator[ModuleType]:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "wordcount_job.py").write_text(JOB_MODULE)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("wordcount_job")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("wordcount_job", None)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "text.txt").write_text(TEXT)
    (tmp_path / "stop.txt").write_text("the\n")
    return str(tmp_path / "text.txt"), str(tmp_path / "stop.txt")


@pytest.fixture
def standin_hadoop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_values: Callable[[dict[tuple[str, str], str]], None]
) -> Path:
    """`hadoop` on PATH is the stand-in; returns the file its command lines are logged to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = Path(__file__).with_name("standin_hadoop.py")
    wrapper = bin_dir / "hadoop"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    log = tmp_path / "hadoop-calls.jsonl"
    monkeypatch.setenv("STANDIN_HADOOP_LOG", str(log))
    config_values({
        ("hadoop", "streaming-jar"): "/opt/hadoop/share/hadoop-streaming.jar",
        ("hadoop", "python-executable"): sys.executable,
        ("hadoop", "command"): "hadoop",
    })
    return log


def counts(text: str) -> dict[str, int]:
    return {word: int(n) for word, n in (line.split("\t") for line in text.splitlines())}


def test_local_runner_counts_words_with_combiner_hooks_and_local_requirements(
    job_module: ModuleType, inputs: tuple[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source, stop = inputs
    task = job_module.WordCount(source=source, stopwords=stop, destination=str(tmp_path / "counts.tsv"))
    assert luigi.build([task], local_scheduler=True)
    assert counts((tmp_path / "counts.tsv").read_text()) == {
        "cat": 2, "sat": 1, "on": 1, "mat": 1, "the": 1, "__mapped__": 6,
    }
    # counters follow Hadoop Streaming's protocol on stderr
    err = capfd.readouterr().err
    assert "reporter:counter:words,mapped,1" in err
    assert "reporter:counter:words,skipped,1" in err


def test_local_runner_writes_mapper_output_directly_for_a_map_only_job(
    job_module: ModuleType, inputs: tuple[str, str], tmp_path: Path
) -> None:
    task = job_module.Upper(source=inputs[0], destination=str(tmp_path / "upper.txt"))
    assert luigi.build([task], local_scheduler=True)
    assert (tmp_path / "upper.txt").read_text() == TEXT.upper()


def test_batched_counters_are_sent_once_the_threshold_is_reached_and_flushed_at_the_end(
    capfd: pytest.CaptureFixture[str],
) -> None:
    class Counting(hadoop.JobTask):
        batch_counter_default = 3

        def mapper(self, line):  # type: ignore[no-untyped-def]
            self.incr_counter("g", "n", 1)
            yield line, 1

    job = Counting()
    job._counter_dict = {}
    job.serialize, job.internal_serialize, job.deserialize = str, repr, eval
    out = __import__("io").StringIO()
    job.run_mapper(__import__("io").StringIO("a\nb\nc\nd\n"), out)
    err = capfd.readouterr().err
    assert err.splitlines() == ["reporter:counter:g,n,3", "reporter:counter:g,n,1"]


def test_hadoop_runner_submits_a_streaming_job_that_runs_the_shipped_job(
    job_module: ModuleType, inputs: tuple[str, str], tmp_path: Path, standin_hadoop: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, stop = inputs
    destination = tmp_path / "counts"
    task = job_module.WordCount(source=source, stopwords=stop, destination=str(destination), on_hadoop=True)
    with caplog.at_level(logging.INFO, logger="luigi-interface"):
        done, scheduler = run_with_recording(task)
    assert done
    assert counts((destination / "part-00000").read_text()) == {
        "cat": 2, "sat": 1, "on": 1, "mat": 1, "the": 1, "__mapped__": 6,
    }
    # the job's stderr was logged as it came, counters included
    assert "words,mapped=6" in caplog.text and "words,skipped=2" in caplog.text
    assert scheduler.tracking_urls == ["http://127.0.0.1:8088/proxy/job_standin_0001/"]

    (argv,) = [json.loads(line) for line in standin_hadoop.read_text().splitlines()]
    assert argv[:2] == ["jar", "/opt/hadoop/share/hadoop-streaming.jar"]
    pairs = list(zip(argv[2::2], argv[3::2]))
    assert ("-mapper", f"{sys.executable} mrrunner.py map") in pairs
    assert ("-combiner", f"{sys.executable} mrrunner.py combiner") in pairs
    assert ("-reducer", f"{sys.executable} mrrunner.py reduce") in pairs
    assert ("-D", "mapred.reduce.tasks=25") in pairs
    assert ("-D", f"mapred.job.name={task}") in pairs
    assert ("-input", source) in pairs
    shipped = sorted(os.path.basename(value) for option, value in pairs if option == "-file")
    assert shipped == ["job-instance.pickle", "mrrunner.py", "packages.tar"]
    # Hadoop wrote beside the output, which was moved into place at the end
    output_arg = dict(pairs)["-output"]
    assert output_arg.startswith(f"{destination}-temp-") and not os.path.exists(output_arg)


def test_a_failing_mapper_fails_the_task_with_hadoops_output_in_the_error(
    job_module: ModuleType, inputs: tuple[str, str], tmp_path: Path, standin_hadoop: Path
) -> None:
    source, stop = inputs
    task = job_module.Broken(source=source, stopwords=stop, destination=str(tmp_path / "never"), on_hadoop=True)
    done, scheduler = run_with_recording(task)
    assert not done
    error = scheduler.fetch_error(task.task_id)["error"]
    assert "Streaming job failed with exit code 1" in error
    # mrrunner leaves the traceback hex-encoded for the job tracker pages
    assert "luigi-exc-hex=" in error
    assert not (tmp_path / "never").exists()


def test_create_packages_archive_includes_parent_package_inits(tmp_path: Path) -> None:
    import tarfile

    import trunkline.contrib.spark

    archive = tmp_path / "p.tar"
    hadoop.create_packages_archive([trunkline.contrib.spark], str(archive))
    names = set(tarfile.open(archive).getnames())
    assert "trunkline/__init__.py" in names
    assert "trunkline/contrib/spark.py" in names and "trunkline/contrib/mrrunner.py" in names
