"""AzureBlobTarget and AzureBlobClient against Azurite, Microsoft's Azure Storage emulator."""

from __future__ import annotations

import json
import uuid

import pytest

import trunkline as luigi
from trunkline.contrib.azureblob import AzureBlobClient, AzureBlobTarget
from trunkline.format import Nop
from trunkline.target import FileAlreadyExists


@pytest.fixture
def client(azurite: dict[str, object]) -> AzureBlobClient:
    return AzureBlobClient(
        str(azurite["account_name"]), str(azurite["account_key"]),
        custom_domain=azurite["custom_domain"], protocol=azurite["protocol"],
    )


@pytest.fixture
def container(client: AzureBlobClient) -> str:
    name = f"c{uuid.uuid4().hex}"
    assert client.create_container(name)
    yield name  # type: ignore[misc]
    client.delete_container(name)


def test_write_and_read_back_streamed_or_downloaded(client: AzureBlobClient, container: str) -> None:
    for download in (True, False):
        target = AzureBlobTarget(container, f"dir/{download}.txt", client, download_when_reading=download)
        with target.open("w") as out:
            out.write("line one\nline two\n")
        assert target.exists()
        with target.open("r") as lines:
            assert list(lines) == ["line one\n", "line two\n"]
    blob = AzureBlobTarget(container, "blob.bin", client, format=Nop, download_when_reading=False)
    with blob.open("w") as out:
        out.write(bytes(range(256)) * 50)
    with blob.open("r") as data:
        assert data.read(10) == bytes(range(10))
        assert data.read() == (bytes(range(256)) * 50)[10:]


def test_a_failed_write_uploads_nothing(client: AzureBlobClient, container: str) -> None:
    target = AzureBlobTarget(container, "failed.json", client)
    with pytest.raises(RuntimeError):
        with target.open("w") as out:
            json.dump({"partial": True}, out)
            raise RuntimeError("task failed")
    assert not target.exists()


def test_client_operations(client: AzureBlobClient, container: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert client.splitfilepath("abc") == ("abc", None)
    assert client.splitfilepath("abc/d/e.txt") == ("abc", "d/e.txt")
    local = tmp_path / "f.txt"
    local.write_bytes(b"payload")
    client.upload(str(local), container, "from")
    client.upload(str(local), container, "from")  # overwriting takes a lease and releases it
    with pytest.raises(FileAlreadyExists):
        client.mkdir(f"{container}/from", False, True)
    client.mkdir(f"{container}/nothing")
    assert not client.exists(f"{container}/nothing") and not client.isdir(f"{container}/from")
    assert client.copy(f"{container}/from", f"{container}/to")["copy_status"] in ("success", "pending")
    assert client.download_as_bytes(container, "to") == b"payload"
    assert client.download_as_bytes(container, "to", 3) == b"pay"
    client.move(f"{container}/to", f"{container}/moved")
    assert not client.exists(f"{container}/to")
    client.download_as_file(container, "moved", str(tmp_path / "down"))
    assert (tmp_path / "down").read_bytes() == b"payload"
    assert client.remove(f"{container}/moved") is True
    assert client.remove(f"{container}/moved") is False
    with pytest.raises(ValueError):
        client.copy(f"{container}/from", "other-container/x")


def test_a_task_writing_to_blob_storage_runs_once(client: AzureBlobClient, container: str) -> None:
    runs = []

    class Dump(luigi.Task):
        def output(self) -> AzureBlobTarget:
            return AzureBlobTarget(container, "stats.json", client)

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                json.dump([1, 2, 3], out)

    assert luigi.build([Dump()], local_scheduler=True)
    assert luigi.build([Dump()], local_scheduler=True)
    assert runs == [1]
    with Dump().output().open("r") as data:
        assert json.load(data) == [1, 2, 3]
