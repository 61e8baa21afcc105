"""WebHdfsClient and WebHdfsTarget against a stand-in that speaks the WebHDFS REST protocol."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("hdfs", reason='HdfsCLI is in the test extra: pip install -e ".[test]"')

import trunkline as luigi  # noqa: E402
from trunkline.contrib.hdfs import HdfsTarget, WebHdfsClient  # noqa: E402
from trunkline.contrib.webhdfs import WebHdfsTarget  # noqa: E402

from .webhdfs_standin import WebHdfsStandIn  # noqa: E402


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[WebHdfsStandIn]:
    root = tmp_path / "hdfs"
    root.mkdir()
    with WebHdfsStandIn(root) as server:
        yield server


@pytest.fixture
def client(standin: WebHdfsStandIn) -> WebHdfsClient:
    return WebHdfsClient(host="127.0.0.1", port=standin.port, user="luigi")


def test_client_file_system_operations(client: WebHdfsClient, standin: WebHdfsStandIn, tmp_path: Path) -> None:
    assert client.url == f"http://127.0.0.1:{standin.port}"
    assert not client.exists("/a")
    client.mkdir("/a/b")
    assert client.exists("/a/b")
    assert ("PUT", "/a/b", {"op": "MKDIRS", "permission": "755", "user.name": "luigi"}) in standin.requests
    local = tmp_path / "f.txt"
    local.write_text("payload")
    client.put(str(local), "/a/b/f.txt")
    assert (standin.root / "a/b/f.txt").read_text() == "payload"
    client.touchz("/a/empty")
    assert sorted(client.listdir("/a")) == ["b", "empty"]
    client.move("/a/b/f.txt", "/c/d/g.txt")  # parent made first
    assert (standin.root / "c/d/g.txt").read_text() == "payload"
    client.get("/c/d/g.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "payload"
    with pytest.raises(ValueError):
        client.remove("/a")  # WebHDFS deletes for good: skip_trash=True must be said
    client.remove("/a", skip_trash=True)
    assert not client.exists("/a")
    for unsupported in (lambda: client.count("/c"), lambda: client.copy("/c", "/e")):
        with pytest.raises(NotImplementedError):
            unsupported()


def test_webhdfs_target_round_trip_is_atomic(client: WebHdfsClient, standin: WebHdfsStandIn) -> None:
    target = WebHdfsTarget("/out/data.txt", client=client)
    with target.open("w") as out:
        out.write("one\ntwo\n")
    assert (standin.root / "out/data.txt").read_text() == "one\ntwo\n"
    assert sorted(p.name for p in (standin.root / "out").iterdir()) == ["data.txt"]
    # Published by a rename of a fully uploaded sibling, never written in place.
    renames = [q for m, _, q in standin.requests if q.get("op") == "RENAME"]
    assert renames and renames[-1]["destination"] == "/out/data.txt"
    with target.open("r") as lines:
        assert list(lines) == ["one\n", "two\n"]
    with target.open("r") as data:
        assert data.read() == "one\ntwo\n"


def test_a_failed_write_uploads_nothing(client: WebHdfsClient, standin: WebHdfsStandIn) -> None:
    target = WebHdfsTarget("/out/failed.txt", client=client)
    with pytest.raises(RuntimeError):
        with target.open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert not target.exists()
    assert not any(q.get("op") == "CREATE" for _, _, q in standin.requests)


def test_hdfs_target_checks_existence_through_webhdfs(client: WebHdfsClient, standin: WebHdfsStandIn) -> None:
    (standin.root / "flag").mkdir()
    assert HdfsTarget("/flag", fs=client).exists()
    assert not HdfsTarget("/nothing", fs=client).exists()


def test_autoconfigured_webhdfs_client(standin: WebHdfsStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    from trunkline import configuration
    from trunkline.contrib.hdfs import clients

    parser = configuration.get_config()
    added = []
    for section in ("hdfs", "webhdfs"):
        if not parser.has_section(section):
            parser.add_section(section)
            added.append(section)
    parser.set("hdfs", "client", "webhdfs")
    parser.set("hdfs", "namenode_host", "127.0.0.1")
    parser.set("webhdfs", "port", str(standin.port))
    monkeypatch.setenv("USER", "luigi")
    monkeypatch.delattr(clients._AUTOCONFIG_CLIENT, "client", raising=False)
    try:
        client = clients.get_autoconfig_client()
        assert isinstance(client, WebHdfsClient) and client.port == standin.port
        runs = []

        class Mark(luigi.Task):
            def output(self) -> WebHdfsTarget:
                return WebHdfsTarget("/marks/done.txt")

            def run(self) -> None:
                runs.append(1)
                with self.output().open("w") as out:
                    out.write("done")

        assert luigi.build([Mark()], local_scheduler=True)
        assert luigi.build([Mark()], local_scheduler=True)
        assert runs == [1]
    finally:
        monkeypatch.delattr(clients._AUTOCONFIG_CLIENT, "client", raising=False)
        parser.remove_option("hdfs", "client")
        parser.remove_option("hdfs", "namenode_host")
        parser.remove_option("webhdfs", "port")
        for section in added:
            parser.remove_section(section)
