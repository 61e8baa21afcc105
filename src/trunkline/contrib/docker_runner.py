"""A Docker container as a task (Luigi's ``luigi.contrib.docker_runner``).

Requires the Docker SDK: ``pip install 'trunkline[docker]'``.

:class:`DockerTask` runs ``command`` in ``image`` through the Docker Engine
API (the SDK's low-level ``APIClient``, which can bind single files): it pulls
the image when it is missing (or always, with ``force_pull``), creates the
container with the task's binds, environment and options, starts it and
waits. A non-zero exit raises ``docker.errors.ContainerError`` carrying the
container's stderr. By default a fresh host folder is mounted at
``container_tmp_dir`` (``/tmp/luigi``, also in ``$LUIGI_TMP_DIR``) for files
too big for the container, and removed afterwards. Stopping the task (SIGTERM)
kills the container.
"""

from __future__ import annotations

import logging
from tempfile import mkdtemp
from typing import Any

import trunkline as luigi
from trunkline.local_target import LocalFileSystem
from trunkline.contrib._on_sigterm import cancel_on_sigterm

logger = logging.getLogger("luigi-interface")

try:
    import docker
    from docker.errors import APIError, ContainerError, ImageNotFound
except ImportError:
    logger.warning("docker is not installed. DockerTask requires docker: pip install 'trunkline[docker]'")
    docker = None


def _require_docker() -> None:
    if docker is None:
        raise ImportError("DockerTask needs the Docker SDK: pip install 'trunkline[docker]'")


class DockerTask(luigi.Task):
    """Runs a command in a Docker container; override the properties to configure it."""

    @property
    def image(self) -> str:
        return "alpine"

    @property
    def command(self) -> str | list[str]:
        return "echo hello world"

    @property
    def name(self) -> str | None:
        return None

    @property
    def host_config_options(self) -> dict[str, Any]:
        """More ``create_host_config`` options, e.g. device requests or ``shm_size``."""
        return {}

    @property
    def container_options(self) -> dict[str, Any]:
        """More ``create_container`` options, e.g. ``{"user": "1000:1000"}``."""
        return {}

    @property
    def environment(self) -> dict[str, str]:
        return {}

    @property
    def container_tmp_dir(self) -> str:
        return "/tmp/luigi"

    @property
    def binds(self) -> str | list[str] | None:
        """More volumes: ``["/host/path:/container/path", ...]``."""
        return None

    @property
    def network_mode(self) -> str:
        return ""

    @property
    def docker_url(self) -> str | None:
        """The Docker daemon's address; None for the default socket."""
        return None

    @property
    def auto_remove(self) -> bool:
        return True

    @property
    def force_pull(self) -> bool:
        return False

    @property
    def mount_tmp(self) -> bool:
        return True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _require_docker()
        self.__logger = logger
        # the low-level client: the high-level one cannot bind single files
        self._client = docker.APIClient(self.docker_url)
        self._image = self.image if ":" in self.image else f"{self.image}:latest"
        if self.mount_tmp:
            # dir="/tmp" explicitly: Docker for Mac shares /tmp, not the default temp folder
            self._host_tmp_dir = mkdtemp(suffix=self.task_id, prefix="luigi-docker-tmp-dir-", dir="/tmp")
            self._binds = [f"{self._host_tmp_dir}:{self.container_tmp_dir}"]
        else:
            self._binds = []
        # Luigi writes this into the dict `environment` returns, which is lost
        # when the property builds a new dict on each call (the default does);
        # keep the merged environment instead.
        self._environment = {**self.environment, "LUIGI_TMP_DIR": self.container_tmp_dir}
        if isinstance(self.binds, str):
            self._binds.append(self.binds)
        elif isinstance(self.binds, list):
            self._binds.extend(self.binds)
        self._volumes = [bind.split(":")[1] for bind in self._binds]

    def run(self) -> None:
        if self.force_pull or len(self._client.images(name=self._image)) == 0:
            logger.info("Pulling docker image %s", self._image)
            try:
                for logline in self._client.pull(self._image, stream=True):
                    # bytes or str depending on the SDK's version (Luigi assumes bytes)
                    logger.debug(logline.decode("utf-8") if isinstance(logline, bytes) else logline)
            except APIError as e:
                self.__logger.warning("Error in Docker API: %s", e.explanation)
                raise
        if self.auto_remove and self.name:
            # a container left by an earlier run would clash on the name
            try:
                self._client.remove_container(self.name, force=True)
            except APIError as e:
                self.__logger.warning("Ignored error in Docker API: %s", e.explanation)
        try:
            logger.debug("Creating image: %s command: %s volumes: %s", self._image, self.command, self._binds)
            host_config = self._client.create_host_config(
                binds=self._binds, network_mode=self.network_mode, **self.host_config_options
            )
            container = self._client.create_container(
                self._image,
                command=self.command,
                name=self.name,
                environment=self._environment,
                volumes=self._volumes,
                host_config=host_config,
                **self.container_options,
            )
            container_id = container["Id"]
            with cancel_on_sigterm(lambda: self._client.kill(container_id), f"killing container {container_id}"):
                self._client.start(container["Id"])
                exit_status = self._client.wait(container["Id"])
            if isinstance(exit_status, dict):  # docker-py 3 and later
                exit_status = exit_status["StatusCode"]
            error = None
            if exit_status != 0:
                error = self._client.logs(container["Id"], stdout=False, stderr=True)
            if self.auto_remove:
                try:
                    self._client.remove_container(container["Id"])
                except docker.errors.APIError:
                    self.__logger.warning("Container %s could not be removed", container["Id"])
            if exit_status != 0:
                raise ContainerError(container, exit_status, self.command, self._image, error)
        except ContainerError as e:
            message = getattr(e, "message", None) or str(e)
            self.__logger.error("Container %s exited with non zero code: %s", self.name or "", message)
            raise
        except ImageNotFound:
            self.__logger.error("Image %s not found", self._image)
            raise
        except APIError as e:
            self.__logger.error("Error in Docker API: %s", e.explanation)
            raise
        filesys = LocalFileSystem()
        if self.mount_tmp and filesys.exists(self._host_tmp_dir):
            filesys.remove(self._host_tmp_dir, recursive=True)
