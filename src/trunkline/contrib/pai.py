"""A Microsoft OpenPAI job as a task (Luigi's ``luigi.contrib.pai``).

Requires requests. Configuration, section ``[OpenPai]``: ``pai_url``,
``username``, ``password``, ``expiration`` (of the token, in seconds).

A :class:`PaiTask` gets a token when it is created (``POST /api/v1/token``),
submits a job of its ``tasks`` (:class:`TaskRole` s) in ``image``
(``POST /api/v1/jobs``, which answers 202) and polls ``GET
/api/v1/jobs/<name>`` until the job leaves WAITING/RUNNING: SUCCEED
completes the task, any other end state fails it. The task is complete when
the job of its name has succeeded.
"""

from __future__ import annotations

import abc
import json
import logging
import time
from typing import Any
from urllib.parse import urljoin

import trunkline as luigi

logger = logging.getLogger("luigi-interface")

try:
    import requests as rs
    from requests.exceptions import HTTPError
except ImportError:
    logger.warning("requests is not installed. PaiTask requires requests: pip install requests")
    rs = None  # type: ignore[assignment, unused-ignore]

    class HTTPError(Exception):  # type: ignore[no-redef]
        def __init__(self, *args: Any, response: Any = None) -> None:
            super().__init__(*args)
            self.response = response


def slot_to_dict(o: Any) -> dict[str, Any]:
    """The set slots of a PAI object, for ``json.dumps(default=...)``."""
    return {
        key: getattr(o, key)
        for key in o.__slots__
        if not key.startswith("__") and getattr(o, key, None) is not None
    }


class PaiJob:
    """An OpenPAI job: name, image and task roles, plus optional directories and settings."""

    __slots__ = (
        "jobName", "image", "authFile", "dataDir", "outputDir", "codeDir", "virtualCluster", "taskRoles",
        "gpuType", "retryCount",
    )

    def __init__(self, jobName: str, image: str, tasks: list[TaskRole]) -> None:
        self.jobName = jobName
        self.image = image
        if not (isinstance(tasks, list) and tasks):
            raise TypeError("you must specify one task at least.")
        self.taskRoles = tasks


class Port:
    """Ports for a task role: ``label``, the first port (0: any) and how many."""

    __slots__ = ("label", "beginAt", "portNumber")

    def __init__(self, label: str, begin_at: int = 0, port_number: int = 1) -> None:
        self.label = label
        self.beginAt = begin_at
        self.portNumber = port_number


class TaskRole:
    """One role of a PAI job: its command and the resources of each of its tasks."""

    __slots__ = (
        "name", "taskNumber", "cpuNumber", "memoryMB", "shmMB", "gpuNumber", "portList", "command",
        "minFailedTaskCount", "minSucceededTaskCount",
    )

    def __init__(
        self, name: str, command: str, taskNumber: int = 1, cpuNumber: int = 1, memoryMB: int = 2048,
        shmMB: int = 64, gpuNumber: int = 0, portList: list[Port] | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.taskNumber = taskNumber
        self.cpuNumber = cpuNumber
        self.memoryMB = memoryMB
        self.shmMB = shmMB
        self.gpuNumber = gpuNumber
        self.portList = list(portList or [])


class OpenPai(luigi.Config):
    pai_url = luigi.Parameter(default="http://127.0.0.1:9186", description="rest server url, default is http://127.0.0.1:9186")
    username = luigi.Parameter(default="admin", description="your username")
    password = luigi.OptionalParameter(default=None, description="your password")
    expiration = luigi.IntParameter(default=3600, description="expiration time in seconds")


class PaiTask(luigi.Task):
    __POLL_TIME = 5

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The job's name, unique on the cluster."""
        return "SklearnExample"

    @property
    @abc.abstractmethod
    def image(self) -> str:
        """The Docker image of every task of the job."""
        return "openpai/pai.example.sklearn"

    @property
    @abc.abstractmethod
    def tasks(self) -> list[TaskRole]:
        """The job's task roles (one at least)."""
        return []

    @property
    def auth_file_path(self) -> str | None:
        """A Docker registry authentication file on HDFS."""
        return None

    @property
    def data_dir(self) -> str | None:
        return None

    @property
    def code_dir(self) -> str | None:
        """Code on HDFS, no data, under 200 MB."""
        return None

    @property
    def output_dir(self) -> str:
        return "$PAI_DEFAULT_FS_URI/{0}/output".format(self.name)

    @property
    def virtual_cluster(self) -> str:
        return "default"

    @property
    def gpu_type(self) -> str | None:
        return None

    @property
    def retry_count(self) -> int:
        return 0

    def __init_token(self) -> None:
        if rs is None:
            raise ImportError("PaiTask needs requests: pip install requests")
        self.__openpai = OpenPai()
        request_json = json.dumps({
            "username": self.__openpai.username,
            "password": self.__openpai.password,
            "expiration": self.__openpai.expiration,
        })
        logger.debug("Requesting token from OpenPai")
        response = rs.post(
            urljoin(self.__openpai.pai_url, "/api/v1/token"),
            headers={"Content-Type": "application/json"}, data=request_json,
        )
        logger.debug("Get token response %s", response.text)
        if response.status_code != 200:
            msg = "Get token request failed, response is {}".format(response.text)
            logger.error(msg)
            raise Exception(msg)
        self.__token = response.json()["token"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__init_token()

    def __check_job_status(self) -> bool:
        """False while the job waits or runs, True once it SUCCEEDed; raises for other ends."""
        response = rs.get(urljoin(self.__openpai.pai_url, "/api/v1/jobs/{0}".format(self.name)))
        logger.debug("Check job response %s", response.text)
        if response.status_code == 404:
            msg = "Job {0} is not found".format(self.name)
            logger.debug(msg)
            raise HTTPError(msg, response=response)
        if response.status_code != 200:
            msg = "Get job request failed, response is {}".format(response.text)
            logger.error(msg)
            raise HTTPError(msg, response=response)
        job_state = response.json()["jobStatus"]["state"]
        if job_state in ("UNKNOWN", "WAITING", "RUNNING"):
            logger.debug("Job %s is running in state %s", self.name, job_state)
            report: Any = getattr(self, "set_status_message", None)
            if callable(report):
                report(f"OpenPAI job {self.name}: {job_state}")
            return False
        msg = "Job {0} finished in state {1}".format(self.name, job_state)
        logger.info(msg)
        if job_state == "SUCCEED":
            return True
        raise RuntimeError(msg)

    def run(self) -> None:
        job: Any = PaiJob(self.name, self.image, self.tasks)
        job.virtualCluster = self.virtual_cluster
        job.authFile = self.auth_file_path
        job.codeDir = self.code_dir
        job.dataDir = self.data_dir
        job.outputDir = self.output_dir
        job.retryCount = self.retry_count
        job.gpuType = self.gpu_type
        request_json = json.dumps(job, default=slot_to_dict)
        logger.debug("Submit job request %s", request_json)
        response = rs.post(
            urljoin(self.__openpai.pai_url, "/api/v1/jobs"),
            headers={"Content-Type": "application/json", "Authorization": "Bearer {}".format(self.__token)},
            data=request_json,
        )
        logger.debug("Submit job response %s", response.text)
        if response.status_code != 202:  # PAI accepts a job with 202
            msg = "Submit job failed, response code is {0}, body is {1}".format(response.status_code, response.text)
            logger.error(msg)
            raise HTTPError(msg, response=response)
        while not self.__check_job_status():
            time.sleep(self.__POLL_TIME)

    def output(self) -> Any:
        # Luigi's returns HdfsTarget(self.output()), which recurses forever;
        # override output() (or rely on complete()) instead.
        raise NotImplementedError("PaiTask: define output() or rely on complete() (the job's state)")

    def complete(self) -> bool:
        try:
            return self.__check_job_status()
        except (HTTPError, RuntimeError):
            return False
