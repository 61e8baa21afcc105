"""RemoteTarget and RemoteFileSystem against a pyftpdlib server on loopback."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.contrib.ftp import RemoteFileSystem, RemoteTarget


@pytest.fixture
def server(ftp_server: dict[str, object]) -> dict[str, object]:
    return ftp_server


@pytest.fixture
def fs(server: dict[str, object]) -> RemoteFileSystem:
    return RemoteFileSystem(
        str(server["host"]), str(server["username"]), str(server["password"]), int(server["port"])  # type: ignore[call-overload]
    )


def _target(server: dict[str, object], path: str, **kwargs: object) -> RemoteTarget:
    return RemoteTarget(
        path, str(server["host"]), username=str(server["username"]), password=str(server["password"]),
        port=int(server["port"]), **kwargs,  # type: ignore[call-overload, arg-type]
    )


def test_write_then_read_through_the_server(server: dict[str, object]) -> None:
    name = uuid.uuid4().hex
    target = _target(server, f"/out/{name}/data.txt")
    assert not target.exists()
    with target.open("w") as out:
        out.write("hello\nftp\n")
    assert (Path(str(server["root"])) / "out" / name / "data.txt").read_text() == "hello\nftp\n"
    assert target.exists()
    with target.open("r") as lines:
        assert list(lines) == ["hello\n", "ftp\n"]


def test_a_failed_write_leaves_nothing_on_the_server(server: dict[str, object]) -> None:
    name = uuid.uuid4().hex
    target = _target(server, f"/fail/{name}.txt")
    with pytest.raises(RuntimeError):
        with target.open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert not target.exists()
    assert not (Path(str(server["root"])) / "fail").exists() or not list((Path(str(server["root"])) / "fail").iterdir())


def test_put_get_listdir_remove(fs: RemoteFileSystem, server: dict[str, object], tmp_path: Path) -> None:
    name = uuid.uuid4().hex
    local = tmp_path / "local.bin"
    local.write_bytes(b"\x00\x01binary")
    fs.put(str(local), f"/tree/{name}/a/one.bin")
    fs.put(str(local), f"/tree/{name}/two.bin", atomic=False)
    assert sorted(n.rsplit("/", 1)[-1] for n in fs.listdir(f"/tree/{name}")) == ["a", "two.bin"]
    fs.get(f"/tree/{name}/a/one.bin", str(tmp_path / "back" / "one.bin"))
    assert (tmp_path / "back" / "one.bin").read_bytes() == b"\x00\x01binary"
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == ["one.bin"]  # no temp file left
    fs.remove(f"/tree/{name}")
    assert not fs.exists(f"/tree/{name}")
    assert not (Path(str(server["root"])) / "tree" / name).exists()


def test_exists_with_mtime_compares_modification_times(server: dict[str, object]) -> None:
    name = uuid.uuid4().hex
    target = _target(server, f"/{name}.txt")
    with target.open("w") as out:
        out.write("x")
    past = datetime.datetime(2000, 1, 1)
    future = datetime.datetime.now() + datetime.timedelta(days=2)
    assert _target(server, f"/{name}.txt", mtime=past).exists()
    assert not _target(server, f"/{name}.txt", mtime=future).exists()


def test_a_task_writing_over_ftp_runs_once(server: dict[str, object]) -> None:
    name = uuid.uuid4().hex
    runs = []

    class Upload(luigi.Task):
        def output(self) -> RemoteTarget:
            return _target(server, f"/tasks/{name}.txt")

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("uploaded")

    assert luigi.build([Upload()], local_scheduler=True)
    assert luigi.build([Upload()], local_scheduler=True)
    assert runs == [1]
