"""ssh.RemoteContext / RemoteTarget and ftp.RemoteTarget(sftp=True) against a real OpenSSH server."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.contrib import ftp
from trunkline.contrib.ssh import RemoteCalledProcessError, RemoteContext, RemoteFileSystem, RemoteTarget
from trunkline.target import FileAlreadyExists, MissingParentDirectory


@pytest.fixture
def options(sshd: dict[str, object]) -> dict[str, object]:
    return {
        "username": sshd["username"],
        "port": sshd["port"],
        "key_file": sshd["key_file"],
        "no_host_key_check": True,
        "connect_timeout": 10,
    }


def test_commands_run_on_the_host(options: dict[str, object]) -> None:
    context = RemoteContext("127.0.0.1", **options)
    assert context.check_output(["echo", "hello"]) == b"hello\n"
    with pytest.raises(RemoteCalledProcessError) as failed:
        context.check_output(["exit", "3"])
    assert failed.value.returncode == 3 and "127.0.0.1" in str(failed.value)


def test_write_is_atomic_and_read_streams(options: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "remote" / "out.txt"
    target = RemoteTarget(str(path), "127.0.0.1", **options)
    writer = target.open("w")
    writer.write("first\nsecond\n")
    assert not target.exists()  # still in the temporary file
    writer.close()
    assert path.read_text() == "first\nsecond\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.txt"]
    with target.open("r") as lines:
        assert list(lines) == ["first\n", "second\n"]


def test_a_failed_write_leaves_nothing(options: dict[str, object], tmp_path: Path) -> None:
    target = RemoteTarget(str(tmp_path / "failed.txt"), "127.0.0.1", **options)
    with pytest.raises(RuntimeError):
        with target.open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert list(tmp_path.iterdir()) == []


def test_file_system_operations(options: dict[str, object], tmp_path: Path) -> None:
    fs = RemoteFileSystem("127.0.0.1", **options)
    base = tmp_path / uuid.uuid4().hex
    fs.mkdir(str(base / "a" / "b"))
    assert fs.isdir(str(base / "a")) and not fs.exists(str(base / "zzz"))
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(base / "a"), raise_if_exists=True)
    with pytest.raises(MissingParentDirectory):
        fs.mkdir(str(base / "no" / "parent"), parents=False)
    local = tmp_path / "local.bin"
    local.write_bytes(b"\x00bytes")
    fs.put(str(local), str(base / "a" / "b" / "f.bin"))
    assert fs.listdir(str(base)) == [str(base / "a" / "b" / "f.bin")]
    fs.get(str(base / "a" / "b" / "f.bin"), str(tmp_path / "down" / "f.bin"))
    assert (tmp_path / "down" / "f.bin").read_bytes() == b"\x00bytes"
    fs.remove(str(base))
    assert not base.exists()


def test_tunnel_forwards_a_local_port(options: dict[str, object], sshd: dict[str, object]) -> None:
    import socket

    from .conftest import free_port

    local_port = free_port()
    with RemoteContext("127.0.0.1", **options).tunnel(local_port, int(sshd["port"]), "127.0.0.1"):  # type: ignore[call-overload]
        # Through the tunnel we reach the sshd itself, which greets first.
        with socket.create_connection(("127.0.0.1", local_port), timeout=10) as conn:
            assert conn.recv(4) == b"SSH-"


def test_sftp_remote_target(sshd: dict[str, object], tmp_path: Path) -> None:
    target = ftp.RemoteTarget(
        str(tmp_path / "sftp" / "out.txt"), "127.0.0.1", username=str(sshd["username"]),
        port=int(sshd["port"]), sftp=True,  # type: ignore[call-overload]
        pysftp_conn_kwargs={"private_key": sshd["key_file"]},
    )
    assert not target.exists()
    with target.open("w") as out:
        out.write("over sftp\n")
    assert (tmp_path / "sftp" / "out.txt").read_text() == "over sftp\n"
    assert sorted(p.name for p in (tmp_path / "sftp").iterdir()) == ["out.txt"]
    assert target.exists()
    with target.open("r") as data:
        assert data.read() == "over sftp\n"
    target.fs.remove(str(tmp_path / "sftp"))
    assert not (tmp_path / "sftp").exists()


def test_a_task_writing_over_ssh_runs_once(options: dict[str, object], tmp_path: Path) -> None:
    runs = []

    class Remote(luigi.Task):
        def output(self) -> RemoteTarget:
            return RemoteTarget(str(tmp_path / "task.txt"), "127.0.0.1", **options)

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("x")

    assert luigi.build([Remote()], local_scheduler=True)
    assert luigi.build([Remote()], local_scheduler=True)
    assert runs == [1]
