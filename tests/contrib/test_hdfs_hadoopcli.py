"""HdfsTarget and the hadoop command line clients, against a stand-in ``hadoop`` on PATH.

No Hadoop can run here; tests/contrib/fake_hadoop.py answers ``hadoop fs`` as
Hadoop 2's shell does (output formats and error texts), over a local directory.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.contrib import hdfs
from trunkline.contrib.hdfs import clients as hdfs_clients
from trunkline.format import Gzip
from trunkline.target import FileAlreadyExists

FAKE = Path(__file__).with_name("fake_hadoop.py")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The stand-in's file system root; ``hadoop`` on PATH runs the stand-in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "hadoop"
    script.write_text(f"#!{sys.executable}\nimport runpy, sys\nrunpy.run_path({str(FAKE)!r}, run_name='__main__')\n")
    script.chmod(0o755)
    fs_root = tmp_path / "hdfs"
    fs_root.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_HDFS_ROOT", str(fs_root))
    # The autoconfigured client is cached per thread; start from the configuration.
    monkeypatch.delattr(hdfs_clients._AUTOCONFIG_CLIENT, "client", raising=False)
    yield fs_root
    monkeypatch.delattr(hdfs_clients._AUTOCONFIG_CLIENT, "client", raising=False)


def calls(root: Path) -> list[str]:
    return (root.parent / "calls").read_text().splitlines()


def test_write_is_published_by_a_rename_and_read_back(root: Path) -> None:
    target = hdfs.HdfsTarget("/data/2024/out.txt")
    assert isinstance(target.fs, hdfs.HdfsClient)
    assert not target.exists()
    with target.open("w") as out:
        out.write("a\nb\n")
        assert not (root / "data/2024/out.txt").exists()  # streaming into a temporary path
    assert (root / "data/2024/out.txt").read_text() == "a\nb\n"
    assert any(c.startswith("fs -put - /tmp/") for c in calls(root))
    assert any(c.startswith("fs -mv /tmp/") and c.endswith(" /data/2024/out.txt") for c in calls(root))
    with target.open("r") as lines:
        assert list(lines) == ["a\n", "b\n"]


def test_an_aborted_write_removes_its_temporary_file(root: Path) -> None:
    target = hdfs.HdfsTarget("/data/failed.txt")
    with pytest.raises(RuntimeError):
        with target.open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert not target.exists()
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_rewriting_replaces_the_old_file(root: Path) -> None:
    target = hdfs.HdfsTarget("/data/again.txt")
    for text in ("old", "new"):
        with target.open("w") as out:
            out.write(text)
    assert (root / "data/again.txt").read_text() == "new"


def test_gzip_over_hdfs(root: Path) -> None:
    target = hdfs.HdfsTarget("/data/z.gz", format=Gzip)
    with target.open("w") as out:
        out.write(b"zipped\n")
    import gzip

    assert gzip.decompress((root / "data/z.gz").read_bytes()) == b"zipped\n"
    with target.open("r") as data:
        assert data.read() == b"zipped\n"


def test_dir_format_writes_a_data_file_and_reads_all_parts(root: Path) -> None:
    target = hdfs.HdfsTarget("/out/dir", format=hdfs.PlainDir)
    with target.open("w") as out:
        out.write(b"part one\n")
    assert (root / "out/dir/data").read_bytes() == b"part one\n"
    (root / "out/dir/_SUCCESS").write_bytes(b"not data")
    (root / "out/dir/part-2").write_bytes(b"part two\n")
    with target.open("r") as data:
        assert data.read() == b"part one\npart two\n"


def test_client_operations(root: Path, tmp_path: Path) -> None:
    client = hdfs.HdfsClient()
    client.mkdir("/a/b/c")
    with pytest.raises(FileAlreadyExists):
        client.mkdir("/a/b", parents=False, raise_if_exists=True)
    with pytest.raises(hdfs.HDFSCliError):
        client.mkdir("/x/y", parents=False)
    local = tmp_path / "f.txt"
    local.write_text("12345")
    client.put(str(local), "/a/b/c/f.txt")
    client.touchz("/a/empty")
    assert sorted(client.listdir("/a")) == ["/a/b", "/a/empty"]
    assert sorted(client.listdir("/a", recursive=True, ignore_directories=True)) == ["/a/b/c/f.txt", "/a/empty"]
    entries = list(client.listdir("/a/b/c", include_size=True, include_type=True, include_time=True))
    assert entries[0][:3] == ("/a/b/c/f.txt", 5, "-")
    assert client.count("/a") == {"content_size": "5", "dir_count": "3", "file_count": "2"}
    client.copy("/a/b/c/f.txt", "/a/copy.txt")
    client.rename("/a/copy.txt", "/moved/copy.txt")  # the destination's parent is made first
    client.get("/moved/copy.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "12345"
    client.chmod("/a", "755", recursive=True)
    client.chown("/a", "luigi", None)
    assert (root.parent / "modes").read_text().splitlines() == ["-chmod -R 755 /a", "-chown luigi: /a"]
    client.remove("/a", skip_trash=True)
    assert not client.exists("/a")
    assert "fs -rm -r -skipTrash /a" in calls(root)


def test_cli_errors_other_than_not_found_raise(root: Path) -> None:
    with pytest.raises(hdfs.HDFSCliError) as failure:
        hdfs.HdfsClient().remove("/nothing/here")
    assert failure.value.returncode == 1 and "No such file or directory" in failure.value.stderr


def test_older_hadoop_syntaxes(root: Path) -> None:
    cdh3 = hdfs.HdfsClientCdh3()
    cdh3.mkdir("/p")  # no -p: CDH3 always made parents (the stand-in speaks Hadoop 2)
    cdh3.remove("/p")
    apache1 = hdfs.HdfsClientApache1()
    apache1.mkdir("/r")
    assert apache1.exists("/r") and not apache1.exists("/s")
    assert calls(root) == ["fs -mkdir /p", "fs -rmr /p", "fs -mkdir /r", "fs -test -e /r", "fs -test -e /s"]


def test_flag_target_glob_exists_and_move_dir(root: Path) -> None:
    client = hdfs.HdfsClient()
    with pytest.raises(ValueError):
        hdfs.HdfsFlagTarget("/job")
    flagged = hdfs.HdfsFlagTarget("/job/")
    client.mkdir("/job")
    client.touchz("/job/part-0")
    client.touchz("/job/part-1")
    assert not flagged.exists()
    client.touchz("/job/_SUCCESS")
    assert flagged.exists()
    assert hdfs.HdfsTarget("/job/part-*").glob_exists(2)
    hdfs.HdfsTarget("/job").move_dir("/done")
    assert client.exists("/done/_SUCCESS") and not client.exists("/job")


def test_targets_pickle_for_worker_processes(root: Path) -> None:
    target = pickle.loads(pickle.dumps(hdfs.HdfsTarget("/p.txt")))
    with target.open("w") as out:
        out.write("pickled")
    assert (root / "p.txt").read_text() == "pickled"


def test_tmppath_lives_on_the_targets_file_system() -> None:
    path = hdfs.tmppath("hdfs://namenode:8020/data/file")
    assert path.startswith("hdfs://namenode:8020/tmp/") and "/data/file-luigitemp-" in path
    assert hdfs.tmppath("/tmp/x", include_unix_username=False).startswith("/tmp/x-luigitemp-")


def test_a_pipeline_writing_to_hdfs_runs_once(root: Path) -> None:
    runs = []

    class Count(luigi.Task):
        def output(self) -> hdfs.HdfsTarget:
            return hdfs.HdfsTarget("/pipeline/count.txt")

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("3\n")

    assert luigi.build([Count()], local_scheduler=True)
    assert luigi.build([Count()], local_scheduler=True)
    assert runs == [1]
