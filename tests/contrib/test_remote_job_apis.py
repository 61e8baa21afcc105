"""Beam/Dataflow, Dataproc and OpenPAI tasks at their boundary.

Beam: the launcher is a real subprocess (a stand-in pipeline script) that
records the command line it was given. Dataproc: the Google API client is
replaced with a recording stand-in through ``set_dataproc_client``. OpenPAI:
requests talks to a stand-in REST server on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import trunkline as luigi
from trunkline.contrib import beam_dataflow, dataproc

from ._fake_http import Reply, Request, fake_http_server
from ._recording import run_with_recording


class JavaKeys(beam_dataflow.DataflowParamKeys):
    runner = "runner"
    project = "project"
    zone = "zone"
    region = "region"
    staging_location = "stagingLocation"
    temp_location = "tempLocation"
    gcp_temp_location = "gcpTempLocation"
    num_workers = "numWorkers"
    autoscaling_algorithm = "autoscalingAlgorithm"
    max_num_workers = "maxNumWorkers"
    disk_size_gb = "diskSizeGb"
    worker_machine_type = "workerMachineType"
    worker_disk_type = "workerDiskType"
    job_name = "jobName"
    service_account = "serviceAccount"
    network = "network"
    subnetwork = "subnetwork"
    labels = "labels"


# A stand-in pipeline: records its arguments, writes its output, fails when asked.
PIPELINE = r'''
import json, sys
args = sys.argv[1:]
open(sys.argv[0] + ".args", "w").write(json.dumps(args))
print("pipeline started")
if "--fail=yes" in args:
    print("pipeline broke", flush=True)
    sys.exit(4)
out = [a.split("=", 1)[1] for a in args if a.startswith("--output=")][0]
open(out, "w").write("done")
'''


def _beam_task(tmp_path: Path, *extra: str) -> Any:
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    (tmp_path / "in").mkdir()

    class Input(luigi.ExternalTask):
        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "in"))

    class Pipeline(beam_dataflow.BeamDataflowJobTask):
        dataflow_params = JavaKeys()
        project = "proj"
        temp_location = "gs://tmp/x"
        runner = "DirectRunner"
        labels = {"team": "data"}

        def requires(self) -> Any:
            return {"events": Input()}

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "out.txt"))

        def dataflow_executable(self) -> list[str]:
            return [sys.executable, str(script)]

        def args(self) -> list[str]:
            return list(extra)

    return Pipeline, script


def test_beam_task_launches_the_pipeline_with_options_inputs_and_outputs(tmp_path: Path) -> None:
    Pipeline, script = _beam_task(tmp_path, "--extra=1")
    done, _ = run_with_recording(Pipeline())
    assert done
    assert json.loads(Path(str(script) + ".args").read_text()) == [
        "--runner=DirectRunner", "--project=proj", "--tempLocation=gs://tmp/x", '--labels={"team": "data"}',
        "--extra=1", f"--events={tmp_path / 'in'}/part-*", f"--output={tmp_path / 'out.txt'}",
    ]


def test_a_failed_pipeline_fails_the_task_and_calls_cleanup_without_ending_the_worker(tmp_path: Path) -> None:
    Pipeline, _ = _beam_task(tmp_path, "--fail=yes")
    cleaned: list[BaseException] = []

    class Cleans(Pipeline):  # type: ignore[misc, valid-type]
        def cleanup_on_error(self, error: BaseException) -> None:
            cleaned.append(error)

    task = Cleans()
    with pytest.raises(subprocess.CalledProcessError) as caught:
        task.run()
    assert caught.value.returncode == 4 and "pipeline broke" in caught.value.output
    assert cleaned == [caught.value]


class _Call:
    """One step of the Google API client's call chain; execute() answers from the script."""

    def __init__(self, client: FakeDataproc, path: str) -> None:
        self.client, self.path = client, path

    def __getattr__(self, name: str) -> Any:
        def step(**kwargs: Any) -> _Call:
            call = _Call(self.client, f"{self.path}.{name}")
            call.kwargs = kwargs
            return call

        return step

    def execute(self) -> Any:
        self.client.calls.append((self.path, self.kwargs))
        return self.client.answers[self.path].pop(0)


class FakeDataproc:
    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def projects(self) -> _Call:
        return _Call(self, "projects")


def test_dataproc_pyspark_task_submits_and_reports_the_job_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataproc.time, "sleep", lambda seconds: None)
    client = FakeDataproc({
        "projects.regions.jobs.submit": [{"reference": {"jobId": "job-7"},
                                          "pysparkJob": {"mainPythonFileUri": "gs://code/job.py"}}],
        "projects.regions.jobs.get": [{"status": {"state": "RUNNING"}}, {"status": {"state": "DONE"}}],
    })
    monkeypatch.setattr(dataproc, "_dataproc_client", client)
    task = dataproc.DataprocPysparkTask(
        gcloud_project_id="proj", dataproc_cluster_name="etl", dataproc_region="europe-west1",
        job_file="gs://code/job.py", extra_files="gs://code/lib.py", job_args="a,b",
    )
    done, scheduler = run_with_recording(task)
    assert done
    submit = client.calls[0]
    assert submit == ("projects.regions.jobs.submit", {"projectId": "proj", "region": "europe-west1", "body": {
        "job": {"placement": {"clusterName": "etl"}, "pysparkJob": {
            "mainPythonFileUri": "gs://code/job.py", "pythonFileUris": ["gs://code/lib.py"], "args": ["a", "b"]}}}})
    assert scheduler.status_messages == ["Dataproc job job-7: RUNNING", "Dataproc job job-7: DONE"]


def test_dataproc_job_in_error_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataproc.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(dataproc, "_dataproc_client", FakeDataproc({
        "projects.regions.jobs.submit": [{"reference": {"jobId": "j"}, "sparkJob": {"mainClass": "com.x.Main"}}],
        "projects.regions.jobs.get": [{"status": {"state": "ERROR", "details": "executor lost"}}],
    }))
    task = dataproc.DataprocSparkTask(gcloud_project_id="p", dataproc_cluster_name="c", main_class="com.x.Main")
    with pytest.raises(Exception, match="executor lost"):
        task.run()


def test_pai_task_gets_a_token_submits_the_job_and_polls_until_it_succeeds(
    config_values: Any,
) -> None:
    pytest.importorskip("requests", reason="PaiTask needs requests")
    from trunkline.contrib import pai

    states = iter(["WAITING", "RUNNING", "SUCCEED"])

    def route(request: Request) -> Reply:
        if request.path == "/api/v1/token":
            return Reply(body={"token": "t0k"})
        if request.method == "POST" and request.path == "/api/v1/jobs":
            return Reply(status=202, body={"message": "accepted"})
        if request.path == "/api/v1/jobs/train-model":
            return Reply(body={"jobStatus": {"state": next(states)}})
        return Reply(status=404, body={})

    with fake_http_server(route) as server:
        config_values({("OpenPai", "pai_url"): server.url, ("OpenPai", "password"): "secret"})

        class Train(pai.PaiTask):
            name = "train-model"
            image = "openpai/example"
            tasks = [pai.TaskRole("trainer", "python train.py", memoryMB=512, portList=[pai.Port("http")])]
            _PaiTask__POLL_TIME = 0

            def output(self) -> Any:
                return None

        task = Train()
        task.run()
    token_request, submit = server.requests[0], server.find("POST", "/api/v1/jobs")[0]
    assert token_request.json() == {"username": "admin", "password": "secret", "expiration": 3600}
    job = submit.json()
    assert job["jobName"] == "train-model" and job["image"] == "openpai/example"
    assert job["taskRoles"] == [{"name": "trainer", "taskNumber": 1, "cpuNumber": 1, "memoryMB": 512, "shmMB": 64,
                                 "gpuNumber": 0, "portList": [{"label": "http", "beginAt": 0, "portNumber": 1}],
                                 "command": "python train.py"}]
    assert len(server.find("GET", "/api/v1/jobs/train-model")) == 3
