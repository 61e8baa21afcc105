"""An AWS Batch job as a task (Luigi's ``luigi.contrib.batch``).

Requires boto3 (``pip install 'trunkline[aws-batch]'``) and AWS credentials
and a region that boto3 can find.

A :class:`BatchTask` submits a job of a registered ``job_definition`` (with
``parameters``) to ``job_queue``, or to the first ENABLED and VALID queue,
and polls ``describe_jobs`` every ``poll_time`` seconds until it SUCCEEDED; a
FAILED job raises :class:`BatchJobException` with the last lines of its
CloudWatch log. Stopping the task (SIGTERM) terminates the job.
"""

from __future__ import annotations

import json
import logging
import random
import string
import time
from typing import Any

import trunkline as luigi
from trunkline.contrib._on_sigterm import cancel_on_sigterm

logger = logging.getLogger(__name__)

try:
    import boto3
except ImportError:
    logger.warning("boto3 is not installed. BatchTasks require boto3: pip install 'trunkline[aws-batch]'")
    boto3 = None


class BatchJobException(Exception):
    pass


POLL_TIME = 10


def _random_id() -> str:
    return "batch-job-" + "".join(random.sample(string.ascii_lowercase, 8))


class BatchClient:
    """The few AWS Batch (and CloudWatch Logs) calls a BatchTask makes."""

    def __init__(self, poll_time: float = POLL_TIME) -> None:
        if boto3 is None:
            raise ImportError("BatchTask needs boto3: pip install 'trunkline[aws-batch]'")
        self.poll_time = poll_time
        self._client = boto3.client("batch")
        self._log_client = boto3.client("logs")
        self._queue = self.get_active_queue()

    def get_active_queue(self) -> str:
        """The name of the first job queue that is ENABLED and VALID."""
        queues = [
            queue["jobQueueName"]
            for queue in self._client.describe_job_queues()["jobQueues"]
            if queue["state"] == "ENABLED" and queue["status"] == "VALID"
        ]
        if not queues:
            raise Exception("No job queues with state=ENABLED and status=VALID")
        queue: str = queues[0]
        return queue

    def get_job_id_from_name(self, job_name: str) -> str | None:
        """The id of the first RUNNING job of that name."""
        jobs = self._client.list_jobs(jobQueue=self._queue, jobStatus="RUNNING")["jobSummaryList"]
        matching = [job for job in jobs if job["jobName"] == job_name]
        return matching[0]["jobId"] if matching else None

    def get_job_status(self, job_id: str) -> str:
        """SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED."""
        response = self._client.describe_jobs(jobs=[job_id])
        status_code = response["ResponseMetadata"]["HTTPStatusCode"]
        if status_code != 200:
            raise Exception("Job status request received status code {0}:\n{1}".format(status_code, response))
        status: str = response["jobs"][0]["status"]
        return status

    def get_logs(self, log_stream_name: str, get_last: int = 50) -> str:
        """The last lines of a job's CloudWatch log stream."""
        response = self._log_client.get_log_events(
            logGroupName="/aws/batch/job", logStreamName=log_stream_name, startFromHead=False
        )
        return "\n".join(event["message"] for event in response["events"][-get_last:])

    def submit_job(
        self, job_definition: str, parameters: dict[str, str], job_name: str | None = None, queue: str | None = None
    ) -> str:
        response = self._client.submit_job(
            jobName=job_name or _random_id(),
            jobQueue=queue or self.get_active_queue(),
            jobDefinition=job_definition,
            parameters=parameters,
        )
        job_id: str = response["jobId"]
        return job_id

    def wait_on_job(self, job_id: str) -> bool:
        """Poll until the job SUCCEEDED (True); a FAILED job raises with its log."""
        while True:
            status = self.get_job_status(job_id)
            if status == "SUCCEEDED":
                logger.info("Batch job %s SUCCEEDED", job_id)
                return True
            if status == "FAILED":
                jobs = self._client.describe_jobs(jobs=[job_id])["jobs"]
                logger.debug("Job details:\n%s", json.dumps(jobs, indent=4, default=str))
                logs = ""
                attempts = jobs[0].get("attempts") or []
                stream = attempts[0].get("container", {}).get("logStreamName") if attempts else None
                if stream:
                    logs = self.get_logs(stream)
                else:
                    logs = jobs[0].get("statusReason", "")
                raise BatchJobException("Job {} failed: {}".format(job_id, logs))
            time.sleep(self.poll_time)
            logger.debug("Batch job status for job %s: %s", job_id, status)

    def register_job_definition(self, json_fpath: str) -> dict[str, Any]:
        """Register the job definition in a JSON file."""
        with open(json_fpath) as f:
            job_def = json.load(f)
        response = self._client.register_job_definition(**job_def)
        status_code = response["ResponseMetadata"]["HTTPStatusCode"]
        if status_code != 200:
            raise Exception(
                "Register job definition request received status code {0}:\n{1}".format(status_code, response)
            )
        registered: dict[str, Any] = response
        return registered

    def terminate_job(self, job_id: str, reason: str) -> None:
        self._client.terminate_job(jobId=job_id, reason=reason)


class BatchTask(luigi.Task):
    """Submits a job of a registered job definition and waits for it."""

    job_definition = luigi.Parameter()
    job_name = luigi.OptionalParameter(default=None)
    job_queue = luigi.OptionalParameter(default=None)
    poll_time = luigi.IntParameter(default=POLL_TIME)

    def run(self) -> None:
        bc = BatchClient(self.poll_time)
        job_id = bc.submit_job(self.job_definition, self.parameters, job_name=self.job_name, queue=self.job_queue)
        with cancel_on_sigterm(
            lambda: bc.terminate_job(job_id, "stopped by the trunkline worker"), f"terminating Batch job {job_id}"
        ):
            bc.wait_on_job(job_id)

    @property
    def parameters(self) -> dict[str, str]:
        """The job's parameters (substituted into its definition's command)."""
        return {}
