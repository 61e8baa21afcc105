"""trunkline.contrib.presto at the boundary: PyHive talking HTTP to a stand-in
Presto coordinator on loopback that answers as Presto's REST protocol does
(POST /v1/statement, then GET each nextUri until none is left)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import trunkline as luigi
from trunkline.contrib import presto

pytest.importorskip("pyhive.presto", reason="PyHive is in trunkline's presto extra")


class StandInPresto(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statements: list[tuple[str, dict[str, str]]] = []
        self.count = 7

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StandInPresto

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802
        sql = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.statements.append((sql, {k: v for k, v in self.headers.items() if k.startswith("X-Presto")}))
        base = self.server.base
        common = {"id": "q1", "infoUri": f"{base}/ui/query.html?q1"}
        if "missing_table" in sql:
            self._reply(common | {"error": {"message": "line 1:22: Table hive.db1.missing_table does not exist"}})
        elif "broken" in sql:
            self._reply(common | {"error": {"message": "line 1:1: mismatched input 'broken'"}})
        else:
            self._reply(common | {"nextUri": f"{base}/v1/statement/q1/1", "stats": {"state": "QUEUED", "progressPercentage": 0.0}})

    def do_GET(self) -> None:  # noqa: N802
        base = self.server.base
        columns = [{"name": "cnt", "type": "bigint"}]
        common = {"id": "q1", "infoUri": f"{base}/ui/query.html?q1", "columns": columns}
        if self.path.endswith("/1"):
            self._reply(common | {"nextUri": f"{base}/v1/statement/q1/2", "stats": {"state": "RUNNING", "progressPercentage": 50.0}})
        else:
            self._reply(common | {"stats": {"state": "FINISHED", "progressPercentage": 100.0}, "data": [[self.server.count]]})


@pytest.fixture
def coordinator(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInPresto]:
    monkeypatch.setattr(presto, "sleep", lambda seconds: None)  # the client waits between polls
    server = StandInPresto()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _task_class(server: StandInPresto) -> type:
    class Aggregate(presto.PrestoTask):
        host = "127.0.0.1"
        port = server.server_address[1]
        user = "etl"
        protocol = "http"
        database = "db1"
        table = "tbl1"
        query = "INSERT INTO tbl1 SELECT 1"

    return Aggregate


def test_task_sends_the_query_with_presto_headers_and_reports_progress(coordinator: StandInPresto) -> None:
    Aggregate = _task_class(coordinator)
    task = Aggregate()
    progress: list[float] = []
    urls: list[str] = []
    # The worker installs these two callbacks on the task before run().
    task.set_progress_percentage = progress.append
    task.set_tracking_url = urls.append
    task.run()
    sql, headers = coordinator.statements[0]
    assert sql == "INSERT INTO tbl1 SELECT 1"
    assert headers == {
        "X-Presto-Catalog": "hive", "X-Presto-Schema": "db1",
        "X-Presto-Source": "pyhive", "X-Presto-User": "etl",
    }
    assert progress == [50.0, 100.0]
    assert urls == [f"{coordinator.base}/ui/query.html?q1"]


def test_target_counts_rows_of_a_partition(coordinator: StandInPresto) -> None:
    task = _task_class(coordinator)()
    target = presto.PrestoTarget(task._client, "hive", "db1", "tbl1", partition={"day": "2026-01-01"})
    assert target.exists()
    assert coordinator.statements[-1][0] == "SELECT COUNT(*) AS cnt FROM hive.db1.tbl1 WHERE day = '2026-01-01' LIMIT 1"

    coordinator.count = 0
    assert not presto.PrestoTarget(task._client, "hive", "db1", "tbl1").exists()


def test_a_missing_table_does_not_exist_but_other_errors_surface(coordinator: StandInPresto) -> None:
    client = _task_class(coordinator)()._client
    assert not presto.PrestoTarget(client, "hive", "db1", "missing_table").exists()
    with pytest.raises(presto.DatabaseError):
        presto.PrestoTarget(client, "hive", "db1", "broken").exists()


def test_connection_settings_default_to_the_presto_section() -> None:
    class Defaults(presto.PrestoTask):
        database = "db"
        table = "t"

    connection = Defaults()._client._connection
    cursor = connection.cursor()
    assert (cursor._host, cursor._port, cursor._username, cursor._catalog, cursor._protocol) == (
        "localhost", 8090, "anonymous", "hive", "https",
    )


def test_a_password_forces_https() -> None:
    class WithPassword(presto.PrestoTask):
        database = "db"
        table = "t"
        password = "pw"

    assert WithPassword().protocol == "https"
