"""Spark for real: SparkSubmitTask and PySparkTask run a word count with pyspark's own
spark-submit in local mode (local[1]), and the Spark UI address reaches the scheduler
as the task's tracking URL. The command-line tests need no Spark."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from trunkline.contrib.spark import PySparkTask, SparkSubmitTask

from ._recording import run_with_recording

ConfigValues = Callable[[dict[tuple[str, str], str]], None]

# A user's module of Spark tasks, in a folder of its own: PySparkTask must ship it to the driver.
JOB_MODULE = '''
import json
import operator
import sys

import trunkline as luigi
from trunkline.contrib.spark import PySparkTask, SparkSubmitTask


class Python:
    """Driver and executors use this interpreter (it has trunkline)."""

    @property
    def pyspark_python(self):
        return sys.executable

    @property
    def pyspark_driver_python(self):
        return sys.executable


class SubmittedWordCount(Python, SparkSubmitTask):
    script = luigi.Parameter()
    source = luigi.Parameter()
    destination = luigi.Parameter()

    @property
    def app(self):
        return self.script

    def app_options(self):
        return [self.source, self.destination]

    def output(self):
        return luigi.LocalTarget(self.destination)


class InlineWordCount(Python, PySparkTask):
    source = luigi.Parameter()
    destination = luigi.Parameter()

    def app_options(self):
        return [self.source]

    def output(self):
        return luigi.LocalTarget(self.destination)

    def setup(self, conf):
        conf.set("spark.app.name", "inline-word-count")

    def main(self, sc, source):
        pairs = sc.textFile(source).flatMap(lambda line: line.split()).map(lambda w: (w, 1))
        counts = dict(pairs.reduceByKey(operator.add).collect())
        with self.output().open("w") as f:
            json.dump({"app": sc.appName, "counts": counts}, f)
'''

# The application SparkSubmitTask submits: a plain PySpark script.
SUBMITTED_APP = '''
import json
import sys
from operator import add

from pyspark.sql import SparkSession

source, destination = sys.argv[1:3]
spark = SparkSession.builder.getOrCreate()
lines = spark.sparkContext.textFile(source)
counts = dict(lines.flatMap(lambda line: line.split()).map(lambda w: (w, 1)).reduceByKey(add).collect())
with open(destination + ".tmp", "w") as f:
    json.dump(counts, f)
spark.stop()
import os
os.rename(destination + ".tmp", destination)
'''

TEXT = "to be or not to be\nthat is the question\n"
EXPECTED = {"to": 2, "be": 2, "or": 1, "not": 1, "that": 1, "is": 1, "the": 1, "question": 1}


@pytest.fixture
def spark_jobs(tmp_path: Path) -> Iterator[ModuleType]:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "spark_jobs.py").write_text(JOB_MODULE)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("spark_jobs")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("spark_jobs", None)


@pytest.fixture
def local_spark(config_values: ConfigValues, monkeypatch: pytest.MonkeyPatch) -> None:
    pyspark = pytest.importorskip("pyspark", reason="pyspark comes with trunkline's test extra")
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)")
    spark_submit = Path(sys.executable).with_name("spark-submit")
    # Everything Spark listens on stays on loopback.
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    # pip's spark-submit looks for Spark with whatever `python3` is on PATH; point it at pyspark
    monkeypatch.setenv("SPARK_HOME", os.path.dirname(pyspark.__file__))
    config_values({
        ("spark", "spark-submit"): str(spark_submit),
        ("spark", "master"): "local[1]",
        ("spark", "driver-memory"): "512m",
        ("spark", "conf"): "spark.driver.host=127.0.0.1|spark.driver.bindAddress=127.0.0.1"
                           "|spark.sql.shuffle.partitions=1|spark.ui.showConsoleProgress=false",
    })


@pytest.fixture
def text_file(tmp_path: Path) -> str:
    path = tmp_path / "text.txt"
    path.write_text(TEXT)
    return str(path)


@pytest.mark.slow
def test_spark_submit_task_runs_a_word_count_and_reports_the_spark_ui(
    spark_jobs: ModuleType, local_spark: None, text_file: str, tmp_path: Path
) -> None:
    script = tmp_path / "wordcount_app.py"
    script.write_text(SUBMITTED_APP)
    destination = tmp_path / "counts.json"
    task = spark_jobs.SubmittedWordCount(script=str(script), source=text_file, destination=str(destination))
    done, scheduler = run_with_recording(task)
    assert done, scheduler.fetch_error(task.task_id)
    assert json.loads(destination.read_text()) == EXPECTED
    assert scheduler.tracking_urls and scheduler.tracking_urls[0].startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_pyspark_task_runs_main_in_the_driver_and_reports_the_spark_ui(
    spark_jobs: ModuleType, local_spark: None, text_file: str, tmp_path: Path
) -> None:
    destination = tmp_path / "counts.json"
    task = spark_jobs.InlineWordCount(source=text_file, destination=str(destination))
    done, scheduler = run_with_recording(task)
    assert done, scheduler.fetch_error(task.task_id)
    assert json.loads(destination.read_text()) == {"app": "inline-word-count", "counts": EXPECTED}
    assert scheduler.tracking_urls and scheduler.tracking_urls[0].startswith("http://127.0.0.1:")


def test_spark_submit_command_line_comes_from_the_spark_section(config_values: ConfigValues) -> None:
    config_values({
        ("spark", "spark-submit"): "/opt/spark/bin/spark-submit",
        ("spark", "master"): "yarn",
        ("spark", "deploy-mode"): "client",
        ("spark", "jars"): "a.jar, b.jar",
        ("spark", "py-files"): "deps.zip",
        ("spark", "conf"): "spark.executor.instances=4|spark.yarn.queue=etl",
        ("spark", "driver-memory"): "2g",
        ("spark", "executor-cores"): "3",
        ("spark", "supervise"): "false",
    })

    class Job(SparkSubmitTask):
        name = "NightlyJob"
        app = "job.py"

        def app_options(self) -> list[str]:
            return ["--day", "2026-11-30"]

    assert Job().program_args() == [
        "/opt/spark/bin/spark-submit", "--master", "yarn", "--deploy-mode", "client", "--name", "NightlyJob",
        "--jars", "a.jar,b.jar", "--py-files", "deps.zip",
        "--conf", "spark.executor.instances=4", "--conf", "spark.yarn.queue=etl",
        "--driver-memory", "2g", "--executor-cores", "3", "job.py", "--day", "2026-11-30",
    ]


def test_another_spark_version_reads_its_own_section(config_values: ConfigValues) -> None:
    config_values({("spark3", "spark-submit"): "spark3-submit", ("spark3", "supervise"): "true"})

    class Job(SparkSubmitTask):
        app = "job.jar"
        entry_class = "com.example.Main"
        spark_version = "spark3"

    assert Job().program_args() == ["spark3-submit", "--class", "com.example.Main", "--supervise", "job.jar"]


def test_tracking_url_pattern_depends_on_the_deploy_mode(config_values: ConfigValues) -> None:
    class Job(SparkSubmitTask):
        app = "job.py"

    import re

    client_line = "INFO SparkUI: Bound SparkUI to 127.0.0.1, and started at http://127.0.0.1:4040\n"
    assert re.search(Job().tracking_url_pattern, client_line).group(1) == "http://127.0.0.1:4040"
    config_values({("spark", "deploy-mode"): "cluster"})
    cluster_line = "\t tracking URL: http://rm:8088/proxy/application_1_2/\n"
    assert re.search(Job().tracking_url_pattern, cluster_line).group(1) == "http://rm:8088/proxy/application_1_2/"


def test_a_task_without_an_app_says_so() -> None:
    with pytest.raises(NotImplementedError, match="app"):
        SparkSubmitTask().app_command()


def test_pyspark_task_in_cluster_mode_ships_its_pickle_with_files(config_values: ConfigValues) -> None:
    config_values({("spark", "deploy-mode"): "cluster"})

    class Job(PySparkTask):
        pass

    job = Job()
    job.run_pickle = "/tmp/run/Job.pickle"
    args = job.program_args()
    assert args[args.index("--files") + 1] == "/tmp/run/Job.pickle"
    assert args[-1] == "Job.pickle" and args[-2].endswith("pyspark_runner.py")


def test_spark_4_ui_port_line_becomes_a_url_on_the_driver_host(config_values: ConfigValues) -> None:
    import re

    config_values({("spark", "conf"): "spark.driver.host=10.1.2.3"})

    class Job(SparkSubmitTask):
        app = "job.py"

    job = Job()
    line = "26/11/30 17:03:08 INFO Utils: Successfully started service 'SparkUI' on port 4041.\n"
    match = re.search(job.tracking_url_pattern, line)
    found = next(group for group in match.groups() if group is not None)
    assert job.build_tracking_url(found) == "http://10.1.2.3:4041"


def test_spark_log_lines_reach_the_worker_log_while_the_job_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    fake_submit = tmp_path / "spark-submit"
    fake_submit.write_text(
        "#!/bin/sh\necho \"INFO SparkContext: Running Spark version 4.3.0\" >&2\n"
        "echo \"INFO Utils: Successfully started service 'SparkUI' on port 4040.\" >&2\n"
    )
    fake_submit.chmod(0o755)

    class Job(SparkSubmitTask):
        app = "job.py"
        spark_submit = str(fake_submit)

        def _driver_host(self) -> str:
            return "127.0.0.1"

    job = Job()
    urls: list[str] = []
    job.set_tracking_url = urls.append
    with caplog.at_level(logging.INFO, logger="luigi-interface"):
        job.run()
    assert "Job: INFO SparkContext: Running Spark version 4.3.0" in caplog.text
    assert urls == ["http://127.0.0.1:4040"]
