"""trunkline.contrib.bigquery at the boundary: Google's real discovery client,
built from the BigQuery v2 discovery document it ships with the endpoint
pointed at a stand-in on loopback, which keeps datasets, tables and jobs in
memory and answers the REST calls the way BigQuery documents them."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import trunkline as luigi
from trunkline.contrib import bigquery

googleapiclient = pytest.importorskip("googleapiclient", reason="google-api-python-client is in the bigquery extra")
httplib2 = pytest.importorskip("httplib2")


class StandInBigQuery(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.datasets: dict[str, dict[str, Any]] = {}
        self.tables: dict[tuple[str, str], dict[str, Any]] = {}
        self.jobs: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_next_with: int | None = None


class _Handler(BaseHTTPRequestHandler):
    server: StandInBigQuery

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
        payload = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _not_found(self) -> None:
        self._reply(404, {"error": {"code": 404, "message": "Not found"}})

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _handle(self, method: str) -> None:
        path = self.path.split("?")[0].removeprefix("/bigquery/v2/projects/")
        self.server.requests.append((method, path))
        if self.server.fail_next_with:
            status, self.server.fail_next_with = self.server.fail_next_with, None
            return self._reply(status, {"error": {"code": status, "message": "backend error"}})
        s = self.server
        if m := re.fullmatch(r"([^/]+)/datasets", path):
            if method == "POST":
                body = self._body()
                s.datasets[body["datasetReference"]["datasetId"]] = body
                return self._reply(200, body)
        if m := re.fullmatch(r"([^/]+)/datasets/([^/]+)", path):
            if m[2] not in s.datasets:
                return self._not_found()
            return self._reply(200, s.datasets[m[2]])
        if m := re.fullmatch(r"([^/]+)/datasets/([^/]+)/tables", path):
            if method == "POST":
                body = self._body()
                s.tables[(m[2], body["tableReference"]["tableId"])] = body
                return self._reply(200, body)
            tables = [{"tableReference": {"tableId": t}} for (d, t) in s.tables if d == m[2]]
            return self._reply(200, {"tables": tables})
        if m := re.fullmatch(r"([^/]+)/datasets/([^/]+)/tables/([^/]+)", path):
            key = (m[2], m[3])
            if method == "PUT":
                s.tables[key] = self._body()
            if key not in s.tables:
                return self._not_found()
            return self._reply(200, s.tables[key])
        if m := re.fullmatch(r"([^/]+)/jobs", path):
            body = self._body()
            s.jobs.append(body)
            return self._reply(200, {"jobReference": {"jobId": f"job{len(s.jobs)}"}})
        if m := re.fullmatch(r"([^/]+)/jobs/job(\d+)", path):
            job = s.jobs[int(m[2]) - 1]["configuration"]
            status: dict[str, Any] = {"state": "DONE"}
            if "FAIL" in json.dumps(job):
                status["errorResult"] = {"reason": "invalidQuery", "message": "Syntax error"}
            else:
                destination = next(iter(job.values())).get("destinationTable")
                if destination:
                    s.tables[(destination["datasetId"], destination["tableId"])] = {"tableReference": destination}
            return self._reply(200, {"status": status})
        self._not_found()

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")


@pytest.fixture
def server() -> Iterator[StandInBigQuery]:
    stand_in = StandInBigQuery()
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.shutdown()
    stand_in.server_close()
    thread.join()


@pytest.fixture
def client(server: StandInBigQuery) -> bigquery.BigQueryClient:
    documents = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
    with open(os.path.join(documents, "bigquery.v2.json")) as f:
        descriptor = json.load(f)
    root = f"http://127.0.0.1:{server.server_address[1]}/"
    descriptor["rootUrl"] = root
    descriptor["baseUrl"] = root + descriptor["servicePath"]
    return bigquery.BigQueryClient(descriptor=json.dumps(descriptor), http_=httplib2.Http())


def _target(client: bigquery.BigQueryClient, table: str) -> bigquery.BigQueryTarget:
    return bigquery.BigQueryTarget("proj", "analytics", table, client=client)


def test_query_task_creates_the_dataset_sends_the_job_and_is_then_complete(server: StandInBigQuery, client: Any) -> None:
    class Daily(bigquery.BigQueryRunQueryTask):
        day = luigi.Parameter()
        use_legacy_sql = False  # type: ignore[assignment]

        @property
        def query(self) -> str:
            return f"SELECT * FROM raw WHERE day = '{self.day}'"

        def output(self) -> bigquery.BigQueryTarget:
            return _target(client, f"daily_{self.day.replace('-', '')}")

    task = Daily(day="2026-01-01")
    assert not task.complete()
    assert luigi.build([task], local_scheduler=True)
    assert task.complete()
    assert "analytics" in server.datasets
    (job,) = server.jobs
    assert job["configuration"]["query"] == {
        "query": "SELECT * FROM raw WHERE day = '2026-01-01'",
        "priority": "INTERACTIVE",
        "destinationTable": {"projectId": "proj", "datasetId": "analytics", "tableId": "daily_20260101"},
        "allowLargeResults": True,
        "createDisposition": "CREATE_IF_NEEDED",
        "writeDisposition": "WRITE_TRUNCATE",
        "flattenResults": True,
        "userDefinedFunctionResources": [],
        "useLegacySql": False,
    }


def test_a_failed_job_raises_with_bigquerys_error(server: StandInBigQuery, client: Any) -> None:
    with pytest.raises(bigquery.BigQueryExecutionError, match="Syntax error") as raised:
        client.run_job("proj", {"configuration": {"query": {"query": "SELECT FAIL"}}})
    assert raised.value.job_id == "job1"


def test_csv_load_job_configuration(server: StandInBigQuery, client: Any) -> None:
    class Load(bigquery.BigQueryLoadTask):
        source_format = bigquery.SourceFormat.CSV
        skip_leading_rows = 1
        schema = [{"name": "id", "type": "INTEGER"}]

        def source_uris(self) -> list[str]:
            return ["gs://bucket/a.csv"]

        def output(self) -> bigquery.BigQueryTarget:
            return _target(client, "loaded")

    Load().run()
    assert server.jobs[0]["configuration"]["load"] == {
        "destinationTable": {"projectId": "proj", "datasetId": "analytics", "tableId": "loaded"},
        "encoding": "UTF-8", "sourceFormat": "CSV", "writeDisposition": "WRITE_EMPTY",
        "sourceUris": ["gs://bucket/a.csv"], "maxBadRecords": 0, "ignoreUnknownValues": False,
        "fieldDelimiter": ",", "skipLeadingRows": 1, "allowJaggedRows": False, "allowQuotedNewlines": False,
        "schema": {"fields": [{"name": "id", "type": "INTEGER"}]},
    }


def test_view_task_is_complete_only_with_the_same_sql(server: StandInBigQuery, client: Any) -> None:
    class View(bigquery.BigQueryCreateViewTask):
        sql = luigi.Parameter()

        @property
        def view(self) -> str:
            return self.sql

        def output(self) -> bigquery.BigQueryTarget:
            return _target(client, "recent")

    client.make_dataset(bigquery.BQDataset("proj", "analytics", None))
    assert luigi.build([View(sql="SELECT 1")], local_scheduler=True)
    assert View(sql="SELECT 1").complete()
    assert not View(sql="SELECT 2").complete()
    assert luigi.build([View(sql="SELECT 2")], local_scheduler=True)
    assert client.get_view(bigquery.BQTable("proj", "analytics", "recent", None)) == "SELECT 2"
    assert ("PUT", "proj/datasets/analytics/tables/recent") in server.requests


def test_bulk_complete_lists_each_dataset_once(server: StandInBigQuery, client: Any) -> None:
    class Day(bigquery.ExternalBigQueryTask):
        day = luigi.Parameter()

        def output(self) -> bigquery.BigQueryTarget:
            return _target(client, f"t_{self.day}")

    client.make_dataset(bigquery.BQDataset("proj", "analytics", None))
    server.tables[("analytics", "t_1")] = {}
    server.tables[("analytics", "t_3")] = {}
    server.requests.clear()
    assert list(Day.bulk_complete(["1", "2", "3"])) == ["1", "3"]
    assert server.requests == [("GET", "proj/datasets/analytics"), ("GET", "proj/datasets/analytics/tables")]


def test_a_5xx_answer_is_retried_with_a_fresh_client(server: StandInBigQuery, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigquery.time, "sleep", lambda seconds: None)
    client.make_dataset(bigquery.BQDataset("proj", "analytics", None))
    first_client = client.client
    server.fail_next_with = 503
    assert client.dataset_exists(bigquery.BQDataset("proj", "analytics", None))
    assert client.client is not first_client
    server.fail_next_with = 400  # a client error is not retried
    with pytest.raises(googleapiclient.errors.HttpError):
        client.dataset_exists(bigquery.BQDataset("proj", "analytics", None))


def test_dataset_in_another_location_is_an_error(server: StandInBigQuery, client: Any) -> None:
    client.make_dataset(bigquery.BQDataset("proj", "eu_data", "EU"))
    assert client.dataset_exists(bigquery.BQDataset("proj", "eu_data", "EU"))
    with pytest.raises(Exception, match="regional location EU. Can't use US"):
        client.dataset_exists(bigquery.BQDataset("proj", "eu_data", "US"))


def test_bq_table_uri() -> None:
    assert bigquery.BQTable("p", "d", "t", None).uri == "bq://p/d/t"
