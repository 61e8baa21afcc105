"""safe_extractor refuses archives that escape; luigi_grep searches a scheduler's graph;
process keeps Luigi's pid-file helpers."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from trunkline import process
from trunkline.safe_extractor import SafeExtractor
from trunkline.tools.luigi_grep import LuigiGrep


def _tar(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def test_safe_extract_writes_members_inside_the_directory(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "ok.tar", {"a.txt": b"a", "sub/b.txt": b"b"})
    out = tmp_path / "out"
    SafeExtractor(str(out)).safe_extract(archive)
    assert (out / "a.txt").read_bytes() == b"a" and (out / "sub" / "b.txt").read_bytes() == b"b"


@pytest.mark.parametrize("name", ["../escape.txt", "/abs/escape.txt", "../out-sibling/x.txt"])
def test_safe_extract_refuses_an_escaping_member_and_writes_nothing(tmp_path: Path, name: str) -> None:
    archive = _tar(tmp_path / "bad.tar", {"fine.txt": b"x", name: b"evil"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match="Path Traversal"):
        SafeExtractor(str(out)).safe_extract(archive)
    assert list(out.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out-sibling").exists()


@pytest.fixture
def graph_server() -> Iterator[int]:
    graph = {
        "Load(day=1)": {"status": "PENDING", "deps": ["Extract(day=1)", "Gone(day=1)"]},
        "Extract(day=1)": {"status": "DONE", "deps": []},
        "Other()": {"status": "FAILED", "deps": []},
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"response": graph}).encode()
            self.send_response(200 if self.path == "/api/graph" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_luigi_grep_finds_tasks_by_prefix_and_status(graph_server: int) -> None:
    grep = LuigiGrep("127.0.0.1", graph_server)
    [load] = grep.prefix_search("Load")
    assert load["status"] == "PENDING"
    assert dict(load["deps_by_status"]) == {"DONE": ["Extract(day=1)"], "UNKNOWN": ["Gone(day=1)"]}
    assert [r["name"] for r in grep.status_search("failed")] == ["Other()"]


def test_process_pid_file_names_a_live_process_and_forgets_a_dead_one(tmp_path: Path) -> None:
    pidfile = str(tmp_path / "run" / "server.pid")
    assert process.check_pid(pidfile) == 0
    process.write_pid(pidfile)
    assert process.check_pid(pidfile) == os.getpid()
    assert process._server_already_running(pidfile)
    Path(pidfile).write_text("999999999")
    assert process.check_pid(pidfile) == 0
