"""An Amazon ECS task as a trunkline task (Luigi's ``luigi.contrib.ecs``).

Requires boto3 (``pip install 'trunkline[ecs]'``) and AWS credentials and a
region that boto3 can find.

An :class:`ECSTask` runs either a registered task definition
(``task_def_arn``) or one registered on the fly from a dict (``task_def``),
on ``cluster``, with the containers' ``command`` overrides and any other
``run_task`` arguments from ``run_task_kwargs``; it then polls
``describe_tasks`` every ``POLL_TIME`` seconds until every ECS task has
STOPPED. Stopping the trunkline task (SIGTERM) stops the ECS tasks.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import trunkline as luigi
from trunkline.contrib._on_sigterm import cancel_on_sigterm

logger = logging.getLogger("luigi-interface")

try:
    import boto3
except ImportError:
    logger.warning("boto3 is not installed. ECSTasks require boto3: pip install 'trunkline[ecs]'")
    boto3 = None

# The ECS client. Luigi makes it at import, which fails when no AWS region is
# configured yet; trunkline makes it on first use. Tests may set it directly.
client: Any = None

POLL_TIME = 2


def _client() -> Any:
    global client
    if client is None:
        if boto3 is None:
            raise ImportError("ECSTask needs boto3: pip install 'trunkline[ecs]'")
        client = boto3.client("ecs")
    return client


def _get_task_statuses(task_ids: list[str], cluster: str) -> list[str]:
    """RUNNING, PENDING or STOPPED for each ECS task id."""
    response = _client().describe_tasks(tasks=task_ids, cluster=cluster)
    if response["failures"] != []:
        raise Exception("There were some failures:\n{0}".format(response["failures"]))
    status_code = response["ResponseMetadata"]["HTTPStatusCode"]
    if status_code != 200:
        raise Exception("Task status request received status code {0}:\n{1}".format(status_code, response))
    return [task["lastStatus"] for task in response["tasks"]]


def _track_tasks(task_ids: list[str], cluster: str) -> None:
    """Poll until every task has STOPPED."""
    while True:
        statuses = _get_task_statuses(task_ids, cluster)
        if all(status == "STOPPED" for status in statuses):
            logger.info("ECS tasks %s STOPPED", ",".join(task_ids))
            break
        time.sleep(POLL_TIME)
        logger.debug("ECS task status for tasks %s: %s", task_ids, statuses)


class ECSTask(luigi.Task):
    """Runs an ECS task definition and waits for it; see the module's documentation.

    ``task_def`` is a taskDefinition dict, e.g. ``{"family": "hello-world",
    "containerDefinitions": [{"name": "hello-world", "image": "ubuntu",
    "memory": 1, "essential": True, "command": ["/bin/echo", "hello world"]}]}``.
    """

    task_def_arn = luigi.OptionalParameter(default=None)
    task_def = luigi.OptionalParameter(default=None)
    cluster = luigi.Parameter(default="default")

    @property
    def ecs_task_ids(self) -> list[str] | None:
        """The ARNs of the ECS tasks started, once ``run()`` has started them."""
        return getattr(self, "_task_ids", None)

    @property
    def command(self) -> list[dict[str, Any]] | None:
        """Container command overrides: ``[{"name": "myContainer", "command": ["/bin/sleep", "60"]}]``."""
        return None

    @staticmethod
    def update_container_overrides_command(container_overrides: list[dict[str, Any]], command: dict[str, Any]) -> None:
        """Set ``command`` for its container in the overrides, replacing one already there."""
        for override in container_overrides:
            if override["name"] == command["name"]:
                override["command"] = command["command"]
                return
        container_overrides.append(command)

    @property
    def combined_overrides(self) -> dict[str, Any]:
        """``run_task_kwargs``' overrides with ``command`` merged in (``command`` wins)."""
        overrides: dict[str, Any] = copy.deepcopy(self.run_task_kwargs.get("overrides", {}))
        if self.command:
            if "containerOverrides" in overrides:
                for command in self.command:
                    self.update_container_overrides_command(overrides["containerOverrides"], command)
            else:
                overrides["containerOverrides"] = self.command
        return overrides

    @property
    def run_task_kwargs(self) -> dict[str, Any]:
        """More ``run_task`` arguments: ``launchType``, ``networkConfiguration``, ``overrides``..."""
        return {}

    def run(self) -> None:
        if bool(self.task_def) == bool(self.task_def_arn):
            raise ValueError("Either (but not both) a task_def (dict) or task_def_arn (string) must be assigned")
        ecs = _client()
        if not self.task_def_arn:
            response = ecs.register_task_definition(**self.task_def)
            self.task_def_arn = response["taskDefinition"]["taskDefinitionArn"]
        run_task_kwargs = self.run_task_kwargs
        run_task_kwargs.update(
            {"taskDefinition": self.task_def_arn, "cluster": self.cluster, "overrides": self.combined_overrides}
        )
        response = ecs.run_task(**run_task_kwargs)
        if response["failures"]:
            raise Exception(", ".join(
                "fail to run task {0} reason: {1}".format(failure["arn"], failure["reason"])
                for failure in response["failures"]
            ))
        self._task_ids = [task["taskArn"] for task in response["tasks"]]
        with cancel_on_sigterm(lambda: _stop_tasks(self._task_ids, self.cluster), "stopping its ECS tasks"):
            _track_tasks(self._task_ids, self.cluster)


def _stop_tasks(task_ids: list[str], cluster: str) -> None:
    for task_id in task_ids:
        _client().stop_task(cluster=cluster, task=task_id, reason="stopped by the trunkline worker")
