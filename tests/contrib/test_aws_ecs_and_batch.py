"""ECSTask and BatchTask against moto's AWS server on loopback (boto3 sends its real requests).

The ECS test stops the ECS task from outside while the trunkline task polls
(moto also moves it towards STOPPED on its own). Moto's Batch runs jobs in Docker, which
cannot run here, so its jobs end FAILED: the Batch test checks the submission
and that a failed job fails the task with the job's reason.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("boto3", reason="boto3 comes with trunkline's ecs/aws-batch extras")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is a test dependency")

import boto3  # noqa: E402

from trunkline.contrib import batch, ecs  # noqa: E402


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(ecs, "client", None)  # made again, against moto
        monkeypatch.setattr(ecs, "POLL_TIME", 0.05)
        yield endpoint
    finally:
        server.stop()


TASK_DEF = {
    "family": "hello-world",
    "containerDefinitions": [
        {"name": "hello", "image": "ubuntu", "memory": 16, "essential": True, "command": ["/bin/echo", "hi"]},
        {"name": "helper", "image": "ubuntu", "memory": 16, "essential": True, "command": ["/bin/true"]},
    ],
}


def test_ecs_task_registers_runs_with_overrides_and_waits_until_stopped(aws: str) -> None:
    client = boto3.client("ecs")
    client.create_cluster(clusterName="jobs")

    class Hello(ecs.ECSTask):
        @property
        def command(self) -> list[dict[str, Any]]:
            return [{"name": "hello", "command": ["/bin/sleep", "60"]}]

        @property
        def run_task_kwargs(self) -> dict[str, Any]:
            return {"launchType": "FARGATE", "overrides": {
                "containerOverrides": [{"name": "hello", "command": ["replaced"]},
                                       {"name": "helper", "command": ["/bin/false"]}]}}

    task = Hello(task_def=TASK_DEF, cluster="jobs")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            task.run()
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 30
    while not task.ecs_task_ids:
        assert time.monotonic() < deadline and runner.is_alive(), errors
        time.sleep(0.02)
    (arn,) = task.ecs_task_ids
    described = client.describe_tasks(cluster="jobs", tasks=[arn])["tasks"][0]
    # (moto moves a task towards STOPPED on its own as it is described)
    assert {o["name"]: o["command"] for o in described["overrides"]["containerOverrides"]} == {
        "hello": ["/bin/sleep", "60"], "helper": ["/bin/false"],
    }
    client.stop_task(cluster="jobs", task=arn)
    runner.join(timeout=30)
    assert not runner.is_alive() and errors == []
    assert client.describe_tasks(cluster="jobs", tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"
    assert task.task_def_arn.startswith("arn:aws:ecs:") and ":task-definition/hello-world:" in task.task_def_arn


def test_ecs_task_needs_exactly_one_of_task_def_and_arn(aws: str) -> None:
    with pytest.raises(ValueError, match="Either"):
        ecs.ECSTask().run()
    with pytest.raises(ValueError, match="Either"):
        ecs.ECSTask(task_def=TASK_DEF, task_def_arn="arn:x").run()


def test_batch_task_submits_to_the_active_queue_and_a_failed_job_fails_the_task(aws: str) -> None:
    iam, client = boto3.client("iam"), boto3.client("batch")
    role = iam.create_role(RoleName="batchrole", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environment = client.create_compute_environment(
        computeEnvironmentName="cenv", type="UNMANAGED", state="ENABLED", serviceRole=role
    )["computeEnvironmentArn"]
    client.create_job_queue(jobQueueName="queue1", state="ENABLED", priority=1,
                            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}])
    client.register_job_definition(jobDefinitionName="jobdef", type="container", containerProperties={
        "image": "busybox", "vcpus": 1, "memory": 128, "command": ["echo", "Ref::message"]})

    class Greet(batch.BatchTask):
        @property
        def parameters(self) -> dict[str, str]:
            return {"message": "hello"}

    task = Greet(job_definition="jobdef", job_name="greeting", poll_time=0)
    with pytest.raises(batch.BatchJobException, match="failed"):
        task.run()
    (job,) = client.list_jobs(jobQueue="queue1", jobStatus="FAILED")["jobSummaryList"]
    assert job["jobName"] == "greeting"
    described = client.describe_jobs(jobs=[job["jobId"]])["jobs"][0]
    # moto 4 (pinned below 5 for Luigi's own s3_test) does not echo a job's
    # parameters back; moto 5 does, and then they must be the task's.
    assert described.get("parameters", {"message": "hello"}) == {"message": "hello"}
    assert described["jobQueue"].endswith("job-queue/queue1")
