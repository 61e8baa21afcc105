"""DockerTask against a stand-in Docker Engine API on loopback (no Docker daemon can run here).

The Docker SDK sends its real requests; the stand-in answers as dockerd does
for the calls DockerTask makes, and the tests check the container that was
asked for and what the task does with the answers.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

import pytest

pytest.importorskip("docker", reason="the Docker SDK comes with trunkline's docker extra")

from docker.errors import ContainerError  # noqa: E402

from trunkline.contrib.docker_runner import DockerTask  # noqa: E402

from ._fake_http import FakeServer, Reply, Request, fake_http_server  # noqa: E402


def _frame(stream: int, data: bytes) -> bytes:
    # dockerd's multiplexed log stream: 1 byte stream, 3 zero bytes, 4 bytes size
    return struct.pack(">BxxxL", stream, len(data)) + data


def engine(exit_code: int, stderr: bytes = b"", images: list[dict] | None = None):  # type: ignore[no-untyped-def]
    def route(request: Request) -> Reply:
        path = request.path
        if path == "/version":
            return Reply(body={"ApiVersion": "1.41", "Version": "20.10.0"})
        if path.endswith("/images/json"):
            return Reply(body=images or [])
        if path.endswith("/images/create"):
            return Reply(body=b'{"status":"Pulling from library/alpine"}\n{"status":"Downloaded"}\n')
        if path.endswith("/containers/create"):
            return Reply(status=201, body={"Id": "c0ffee", "Warnings": []})
        if path.endswith("/start"):
            return Reply(status=204, body=b"")
        if path.endswith("/wait"):
            return Reply(body={"StatusCode": exit_code})
        if path.endswith("/json"):  # inspect
            return Reply(body={"Id": "c0ffee", "Config": {"Tty": False}})
        if path.endswith("/logs"):
            return Reply(body=_frame(2, stderr), content_type="application/vnd.docker.raw-stream")
        if request.method == "DELETE":
            return Reply(status=204, body=b"")
        return Reply(status=404, body={"message": f"no route {path}"})

    return route


@pytest.fixture
def dockerd() -> Iterator[FakeServer]:
    with fake_http_server(engine(0)) as server:
        yield server


def test_docker_task_pulls_a_missing_image_and_runs_the_container_with_tmp_mount(dockerd: FakeServer) -> None:
    class Hello(DockerTask):
        image = "alpine"
        command = ["echo", "hi"]
        docker_url = dockerd.url.replace("http://", "tcp://")
        binds = ["/data:/data"]

    task = Hello()
    host_tmp = task._host_tmp_dir
    assert os.path.isdir(host_tmp)
    task.run()

    (pull,) = dockerd.find("POST", "/images/create")
    assert pull.query["fromImage"] == ["alpine"] and pull.query["tag"] == ["latest"]
    (create,) = dockerd.find("POST", "/containers/create")
    spec = create.json()
    assert spec["Image"] == "alpine:latest" and spec["Cmd"] == ["echo", "hi"]
    assert "LUIGI_TMP_DIR=/tmp/luigi" in spec["Env"]
    assert spec["HostConfig"]["Binds"] == [f"{host_tmp}:/tmp/luigi", "/data:/data"]
    assert dockerd.find("POST", "/containers/c0ffee/start") and dockerd.find("DELETE", "/containers/c0ffee")
    # the temporary mount is removed after a successful run
    assert not os.path.exists(host_tmp)


def test_a_failing_container_raises_container_error_with_its_stderr() -> None:
    with fake_http_server(engine(3, b"boom: no such file\n", images=[{"Id": "sha256:1"}])) as server:

        class Broken(DockerTask):
            docker_url = server.url.replace("http://", "tcp://")
            mount_tmp = False

        with pytest.raises(ContainerError) as caught:
            Broken().run()
    assert caught.value.exit_status == 3
    assert b"boom: no such file" in caught.value.stderr
    # the image was there: nothing pulled
    assert not server.find("POST", "/images/create")
