"""A Kubernetes Job as a task (Luigi's ``luigi.contrib.kubernetes``).

Requires pykube: ``pip install 'trunkline[kubernetes]'``.

:class:`KubernetesJobTask` submits a ``batch/v1`` Job built from its
``spec_schema`` (the pod spec), labelled ``spawned_by=luigi`` and with a
``luigi_task_id`` label, waits for its pods to start, then polls the Job's
status every ``poll_interval`` seconds until it succeeds, or fails more often
than ``max_retrials``. Configuration, section ``[kubernetes]``:
``auth_method`` (``kubeconfig`` or ``service-account``), ``kubeconfig_path``,
``max_retrials``, ``kubernetes_namespace``. Stopping the task (SIGTERM)
deletes the Job and its pods.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import trunkline as luigi
from trunkline.contrib._on_sigterm import cancel_on_sigterm

logger = logging.getLogger("luigi-interface")

try:
    from pykube.config import KubeConfig
    from pykube.http import HTTPClient
    from pykube.objects import Job, Pod
except ImportError:
    logger.warning("pykube is not installed. KubernetesJobTask requires pykube: pip install 'trunkline[kubernetes]'")


class kubernetes(luigi.Config):
    auth_method = luigi.Parameter(default="kubeconfig", description="Authorization method to access the cluster")
    kubeconfig_path = luigi.Parameter(
        default="~/.kube/config", description="Path to kubeconfig file for cluster authentication"
    )
    max_retrials = luigi.IntParameter(default=0, description="Max retrials in event of job failure")
    kubernetes_namespace = luigi.OptionalParameter(default=None, description="K8s namespace in which the job will run")


class KubernetesJobTask(luigi.Task):
    __DEFAULT_POLL_INTERVAL = 5
    __DEFAULT_POD_CREATION_INTERVAL = 5
    _kubernetes_config = None  # read when first needed, not at import

    def _init_kubernetes(self) -> None:
        try:
            client_classes = (HTTPClient, KubeConfig)
        except NameError:
            raise ImportError("KubernetesJobTask needs pykube: pip install 'trunkline[kubernetes]'") from None
        http_client, kube_config = client_classes
        self.__logger = logger
        self.__logger.debug("Kubernetes auth method: %s", self.auth_method)
        if self.auth_method == "kubeconfig":
            self.__kube_api = http_client(kube_config.from_file(self.kubeconfig_path))
        elif self.auth_method == "service-account":
            self.__kube_api = http_client(kube_config.from_service_account())
        else:
            raise ValueError("Illegal auth_method")
        self.job_uuid = str(uuid.uuid4().hex)
        now = datetime.now(timezone.utc)
        self.uu_name = "%s-%s-%s" % (self.name, now.strftime("%Y%m%d%H%M%S"), self.job_uuid[:16])

    @property
    def auth_method(self) -> str:
        """``kubeconfig`` (the default) or ``service-account``."""
        method: str = self.kubernetes_config.auth_method
        return method

    @property
    def kubeconfig_path(self) -> str:
        """The kubeconfig file (ignored for ``service-account``)."""
        path: str = self.kubernetes_config.kubeconfig_path
        return path

    @property
    def kubernetes_namespace(self) -> str | None:
        """The namespace to run in; the cluster's default when None."""
        namespace: str | None = self.kubernetes_config.kubernetes_namespace
        return namespace

    @property
    def name(self) -> str:
        """The job's name; a time stamp and a unique id are appended."""
        raise NotImplementedError("subclass must define name")

    @property
    def labels(self) -> dict[str, str]:
        """Labels for the Job and its pods."""
        return {}

    @property
    def spec_schema(self) -> dict[str, Any]:
        """The pod spec: ``{"containers": [{"name": ..., "image": ..., "command": [...]}]}``.

        ``restartPolicy`` defaults to ``Never``; ``OnFailure`` would retry in
        the cluster past ``max_retrials`` and may keep the task waiting.
        """
        raise NotImplementedError("subclass must define spec_schema")

    @property
    def max_retrials(self) -> int:
        retrials: int = self.kubernetes_config.max_retrials
        return retrials

    @property
    def backoff_limit(self) -> int:
        """Pod failures before Kubernetes marks the Job failed."""
        return 6

    @property
    def delete_on_success(self) -> bool:
        return True

    @property
    def print_pod_logs_on_exit(self) -> bool:
        return False

    @property
    def active_deadline_seconds(self) -> int | None:
        return None

    @property
    def kubernetes_config(self) -> kubernetes:
        if not self._kubernetes_config:
            self._kubernetes_config = kubernetes()
        return self._kubernetes_config

    @property
    def poll_interval(self) -> float:
        """Seconds between two status checks."""
        return self.__DEFAULT_POLL_INTERVAL

    @property
    def pod_creation_wait_interal(self) -> float:  # (sic) Luigi's name
        """Seconds to wait for the pods of a just-submitted Job."""
        return self.__DEFAULT_POD_CREATION_INTERVAL

    def __track_job(self) -> None:
        while not self.__verify_job_has_started():
            time.sleep(self.poll_interval)
            self.__logger.debug("Waiting for Kubernetes job %s to start", self.uu_name)
        self.__print_kubectl_hints()
        status = self.__get_job_status()
        while status == "RUNNING":
            self.__logger.debug("Kubernetes job %s is running", self.uu_name)
            time.sleep(self.poll_interval)
            status = self.__get_job_status()
        if status == "FAILED":
            raise RuntimeError("Kubernetes job " + self.uu_name + " failed")
        self.__logger.info("Kubernetes job %s succeeded", self.uu_name)
        self.signal_complete()

    def signal_complete(self) -> None:
        """Called when the Job succeeded: e.g. write the output that marks the task complete."""

    def __get_pods(self) -> list[Any]:
        found = Pod.objects(self.__kube_api, namespace=self.kubernetes_namespace).filter(
            selector="job-name=" + self.uu_name
        )
        return [Pod(self.__kube_api, item) for item in found.response["items"]]

    def __get_job(self) -> Any:
        jobs = Job.objects(self.__kube_api, namespace=self.kubernetes_namespace).filter(
            selector="luigi_task_id=" + self.job_uuid
        ).response["items"]
        if len(jobs) != 1:
            raise RuntimeError("Kubernetes job " + self.uu_name + " not found")
        return Job(self.__kube_api, jobs[0])

    def __print_pod_logs(self) -> None:
        for pod in self.__get_pods():
            logs = pod.logs(timestamps=True).strip()
            self.__logger.info("Fetching logs from %s", pod.name)
            for line in logs.split("\n") if logs else []:
                self.__logger.info(line)

    def __print_kubectl_hints(self) -> None:
        self.__logger.info("To stream Pod logs, use:")
        for pod in self.__get_pods():
            self.__logger.info("`kubectl logs -f pod/%s -n %s`", pod.name, pod.namespace)

    def __verify_job_has_started(self) -> bool:
        """True once every pod runs; raises when one ended badly or cannot start."""
        self.__get_job()
        pods = self.__get_pods()
        if not pods:
            self.__logger.debug("No pods found for %s, waiting for cluster state to match the job definition", self.uu_name)
            time.sleep(self.pod_creation_wait_interal)
            pods = self.__get_pods()
        if not pods:
            raise RuntimeError("No pod scheduled by " + self.uu_name)
        for pod in pods:
            status = pod.obj["status"]
            for container in status.get("containerStatuses", []):
                state = container["state"]
                if "terminated" in state:
                    ended = state["terminated"]
                    if ended["exitCode"] != 0:
                        raise RuntimeError(
                            "Pod %s %s (exit code %d). Logs: `kubectl logs pod/%s`"
                            % (pod.name, ended["reason"], ended["exitCode"], pod.name)
                        )
                if "waiting" in state:
                    reason = state["waiting"]["reason"]
                    if reason != "ContainerCreating":
                        raise RuntimeError("Pod %s %s. Logs: `kubectl logs pod/%s`" % (pod.name, reason, pod.name))
            for condition in status.get("conditions", []):
                if "message" in condition:
                    if condition["reason"] == "ContainersNotReady":
                        return False
                    if condition["status"] == "False":
                        raise RuntimeError("[ERROR] %s - %s" % (condition["reason"], condition["message"]))
        return True

    def __get_job_status(self) -> str:
        """SUCCEEDED, FAILED (more failures than max_retrials) or RUNNING."""
        job = self.__get_job()
        status = job.obj["status"]
        if status.get("succeeded", 0) > 0:
            job.scale(replicas=0)
            if self.print_pod_logs_on_exit:
                self.__print_pod_logs()
            if self.delete_on_success:
                self.__delete_job_cascade(job)
            return "SUCCEEDED"
        if "failed" in status:
            failed = status["failed"]
            self.__logger.debug("Kubernetes job %s status.failed: %s", self.uu_name, failed)
            if self.print_pod_logs_on_exit:
                self.__print_pod_logs()
            if failed > self.max_retrials:
                job.scale(replicas=0)  # no more retries
                return "FAILED"
        return "RUNNING"

    def __delete_job_cascade(self, job: Any) -> None:
        # Background propagation: the Job's pods go with it
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        response = self.__kube_api.delete(json=options, **job.api_kwargs())
        if response.status_code != 200:
            self.__kube_api.raise_for_status(response)

    def run(self) -> None:
        self._init_kubernetes()
        spec = self.spec_schema
        job_json: dict[str, Any] = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": self.uu_name, "labels": {"spawned_by": "luigi", "luigi_task_id": self.job_uuid}},
            "spec": {
                "backoffLimit": self.backoff_limit,
                "template": {"metadata": {"name": self.uu_name, "labels": {}}, "spec": spec},
            },
        }
        if self.kubernetes_namespace is not None:
            job_json["metadata"]["namespace"] = self.kubernetes_namespace
        if self.active_deadline_seconds is not None:
            job_json["spec"]["activeDeadlineSeconds"] = self.active_deadline_seconds
        job_json["metadata"]["labels"].update(self.labels)
        job_json["spec"]["template"]["metadata"]["labels"].update(self.labels)
        if "restartPolicy" not in spec:
            job_json["spec"]["template"]["spec"]["restartPolicy"] = "Never"
        self.__logger.info("Submitting Kubernetes Job: %s", self.uu_name)
        job = Job(self.__kube_api, job_json)
        job.create()
        self.__logger.info("Start tracking Kubernetes Job: %s", self.uu_name)
        with cancel_on_sigterm(lambda: self.__delete_job_cascade(job), "deleting its Kubernetes job"):
            self.__track_job()

    def output(self) -> Any:
        """Needed to know the task is complete, unless ``complete()`` is overridden."""
        return None
