"""Google Cloud Dataproc jobs and clusters as tasks (Luigi's ``luigi.contrib.dataproc``).

Requires the Google API client: ``pip install 'trunkline[gcp-dataproc]'``.

:class:`DataprocSparkTask` and :class:`DataprocPysparkTask` submit a job to a
running cluster and poll it every five seconds until DONE (ERROR raises);
:class:`CreateDataprocClusterTask` and :class:`DeleteDataprocClusterTask`
create and delete the cluster, so a chain can make a cluster, run on it and
remove it. While a job runs, its state is the task's status message in the
visualiser.

The API client is built on first use from the application-default
credentials (Luigi builds it at import, which fails without credentials);
``set_dataproc_client()`` replaces it, e.g. in tests.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import trunkline as luigi

logger = logging.getLogger("luigi-interface")

_dataproc_client: Any = None

try:
    import google.auth
    from googleapiclient import discovery
    from googleapiclient.errors import HttpError
except ImportError:
    logger.warning(
        "Loading Dataproc module without the python packages googleapiclient & google-auth; "
        "using it needs pip install 'trunkline[gcp-dataproc]'"
    )
    discovery = None  # type: ignore[assignment, unused-ignore]

    class HttpError(Exception):  # type: ignore[no-redef]
        """Stands in for googleapiclient's error when it is not installed (never raised)."""

        resp: Any = None


def _build_client() -> Any:
    if discovery is None:
        raise ImportError("Dataproc tasks need googleapiclient and google-auth: pip install 'trunkline[gcp-dataproc]'")
    credentials, _ = google.auth.default()
    try:
        from trunkline.contrib import gcp

        authenticate_kwargs = gcp.get_authenticate_kwargs(credentials)
    except ImportError:
        authenticate_kwargs = {"credentials": credentials}
    return discovery.build("dataproc", "v1", cache_discovery=False, **authenticate_kwargs)


def get_dataproc_client() -> Any:
    return _dataproc_client


def set_dataproc_client(client: Any) -> None:
    global _dataproc_client
    _dataproc_client = client


class _ModuleClient:
    """``task.dataproc_client``: the module's client, built on first use (an instance may set its own)."""

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            # Class-level reads (Task.get_params() scans every attribute of every task
            # class) must not reach for Google credentials.
            return self
        if _dataproc_client is None:
            set_dataproc_client(_build_client())
        return _dataproc_client


class _DataprocBaseTask(luigi.Task):
    gcloud_project_id = luigi.Parameter(significant=False, positional=False)
    dataproc_cluster_name = luigi.Parameter(significant=False, positional=False)
    dataproc_region = luigi.Parameter(default="global", significant=False, positional=False)
    dataproc_client: Any = _ModuleClient()

    def _report(self, message: str) -> None:
        # set_status_message is the worker's callback while the task runs, None outside a worker
        report: Any = getattr(self, "set_status_message", None)
        if callable(report):
            report(message)


class DataprocBaseTask(_DataprocBaseTask):
    """Submits a job to the cluster and waits for it; the Spark and PySpark tasks build on it."""

    _job: Any = None
    _job_name: Any = None
    _job_id: Any = None

    def _jobs(self) -> Any:
        return self.dataproc_client.projects().regions().jobs()

    def submit_job(self, job_config: dict[str, Any]) -> Any:
        self._job = self._jobs().submit(
            projectId=self.gcloud_project_id, region=self.dataproc_region, body=job_config
        ).execute()
        self._job_id = self._job["reference"]["jobId"]
        return self._job

    def submit_spark_job(self, jars: list[str], main_class: str, job_args: list[str] | None = None) -> Any:
        job_config = {"job": {
            "placement": {"clusterName": self.dataproc_cluster_name},
            "sparkJob": {"args": job_args or [], "mainClass": main_class, "jarFileUris": jars},
        }}
        self.submit_job(job_config)
        self._job_name = os.path.basename(self._job["sparkJob"]["mainClass"])
        logger.info("Submitted new dataproc job:%s id:%s", self._job_name, self._job_id)
        return self._job

    def submit_pyspark_job(self, job_file: str, extra_files: list[str] | None = None, job_args: list[str] | None = None) -> Any:
        job_config = {"job": {
            "placement": {"clusterName": self.dataproc_cluster_name},
            "pysparkJob": {"mainPythonFileUri": job_file, "pythonFileUris": list(extra_files or []), "args": job_args or []},
        }}
        self.submit_job(job_config)
        self._job_name = os.path.basename(self._job["pysparkJob"]["mainPythonFileUri"])
        logger.info("Submitted new dataproc job:%s id:%s", self._job_name, self._job_id)
        return self._job

    def wait_for_job(self) -> None:
        if self._job is None:
            raise Exception("You must submit a job before you can wait for it")
        while True:
            job_result = self._jobs().get(
                projectId=self.gcloud_project_id, region=self.dataproc_region, jobId=self._job_id
            ).execute()
            status = job_result["status"]["state"]
            logger.info("Current dataproc status: %s job:%s id:%s", status, self._job_name, self._job_id)
            self._report(f"Dataproc job {self._job_id}: {status}")
            if status == "DONE":
                break
            if status == "ERROR":
                raise Exception(job_result["status"]["details"])
            time.sleep(5)


class DataprocSparkTask(DataprocBaseTask):
    """A Spark job (a main class in jars) on the cluster."""

    main_class = luigi.Parameter()
    jars = luigi.Parameter(default="")
    job_args = luigi.Parameter(default="")

    def run(self) -> None:
        self.submit_spark_job(
            main_class=self.main_class,
            jars=self.jars.split(",") if self.jars else [],
            job_args=self.job_args.split(",") if self.job_args else [],
        )
        self.wait_for_job()


class DataprocPysparkTask(DataprocBaseTask):
    """A PySpark job (a main .py file) on the cluster."""

    job_file = luigi.Parameter()
    extra_files = luigi.Parameter(default="")
    job_args = luigi.Parameter(default="")

    def run(self) -> None:
        self.submit_pyspark_job(
            job_file=self.job_file,
            extra_files=self.extra_files.split(",") if self.extra_files else [],
            job_args=self.job_args.split(",") if self.job_args else [],
        )
        self.wait_for_job()


class CreateDataprocClusterTask(_DataprocBaseTask):
    """Creates the cluster; complete once it exists."""

    gcloud_zone = luigi.Parameter(default="europe-west1-c")
    gcloud_network = luigi.Parameter(default="default")
    master_node_type = luigi.Parameter(default="n1-standard-2")
    master_disk_size = luigi.Parameter(default="100")
    worker_node_type = luigi.Parameter(default="n1-standard-2")
    worker_disk_size = luigi.Parameter(default="100")
    worker_normal_count = luigi.Parameter(default="2")
    worker_preemptible_count = luigi.Parameter(default="0")
    image_version = luigi.Parameter(default="")

    def _get_cluster_status(self) -> Any:
        return self.dataproc_client.projects().regions().clusters().get(
            projectId=self.gcloud_project_id, region=self.dataproc_region, clusterName=self.dataproc_cluster_name
        ).execute()

    def complete(self) -> bool:
        try:
            self._get_cluster_status()
            return True
        except HttpError as e:
            if e.resp.status == 404:
                return False
            raise

    def run(self) -> None:
        base_uri = f"https://www.googleapis.com/compute/v1/projects/{self.gcloud_project_id}"
        zone_uri = f"{base_uri}/zones/{self.gcloud_zone}"
        cluster_conf = {
            "clusterName": self.dataproc_cluster_name,
            "projectId": self.gcloud_project_id,
            "config": {
                "configBucket": "",
                "gceClusterConfig": {
                    "networkUri": f"{base_uri}/global/networks/{self.gcloud_network}",
                    "zoneUri": zone_uri,
                    "serviceAccountScopes": ["https://www.googleapis.com/auth/cloud-platform"],
                },
                "masterConfig": {
                    "numInstances": 1,
                    "machineTypeUri": f"{zone_uri}/machineTypes/{self.master_node_type}",
                    "diskConfig": {"bootDiskSizeGb": self.master_disk_size, "numLocalSsds": 0},
                },
                "workerConfig": {
                    "numInstances": self.worker_normal_count,
                    "machineTypeUri": f"{zone_uri}/machineTypes/{self.worker_node_type}",
                    "diskConfig": {"bootDiskSizeGb": self.worker_disk_size, "numLocalSsds": 0},
                },
                "secondaryWorkerConfig": {"numInstances": self.worker_preemptible_count, "isPreemptible": True},
                "softwareConfig": {"imageVersion": self.image_version} if self.image_version else {},
            },
        }
        self.dataproc_client.projects().regions().clusters().create(
            projectId=self.gcloud_project_id, region=self.dataproc_region, body=cluster_conf
        ).execute()
        while True:
            time.sleep(10)
            cluster_status = self._get_cluster_status()
            status = cluster_status["status"]["state"]
            logger.info("Creating new dataproc cluster: %s status: %s", self.dataproc_cluster_name, status)
            self._report(f"Dataproc cluster {self.dataproc_cluster_name}: {status}")
            if status == "RUNNING":
                break
            if status == "ERROR":
                raise Exception(cluster_status["status"]["details"])


class DeleteDataprocClusterTask(_DataprocBaseTask):
    """Deletes the cluster; complete once it is gone.

    Require the tasks that run on the cluster (and have them require the
    creation task) to make, use and remove a cluster in one chain; keep
    inputs and outputs in gs://, which outlives the cluster.
    """

    def _get_cluster_status(self) -> Any:
        try:
            return self.dataproc_client.projects().regions().clusters().get(
                projectId=self.gcloud_project_id, region=self.dataproc_region,
                clusterName=self.dataproc_cluster_name, fields="status",
            ).execute()
        except HttpError as e:
            if e.resp.status == 404:
                return None
            raise

    def complete(self) -> bool:
        return self._get_cluster_status() is None

    def run(self) -> None:
        self.dataproc_client.projects().regions().clusters().delete(
            projectId=self.gcloud_project_id, region=self.dataproc_region, clusterName=self.dataproc_cluster_name
        ).execute()
        while True:
            time.sleep(10)
            status = self._get_cluster_status()
            if status is None:
                logger.info("Finished shutting down cluster: %s", self.dataproc_cluster_name)
                break
            logger.info("Shutting down cluster: %s current status: %s", self.dataproc_cluster_name, status["status"]["state"])
