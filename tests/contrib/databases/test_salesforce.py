"""trunkline.contrib.salesforce at the boundary: ``requests`` talking to a
stand-in Salesforce on loopback that answers the SOAP login, the Bulk API
(job, batch, batch status, results, close) and the REST query API with the
XML and JSON documents Salesforce documents."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import trunkline as luigi
from trunkline.contrib import salesforce

pytest.importorskip("requests", reason="requests is in the salesforce extra")

NS = "http://www.force.com/2009/06/asyncapi/dataload"


class StandInSalesforce(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[tuple[str, str, str]] = []
        self.batch_polls = 0
        self.batch_message: str | None = None  # set: the batch fails with this message
        self.results = {"r1": "Id,Name\n1,Acme\n", "r2": "Id,Name\n2,Globex\n"}

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StandInSalesforce

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, body: str, content_type: str = "application/xml") -> None:
        payload = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        path = self.path
        self.server.log.append(("POST", path, body))
        if path == "/services/Soap/u/34.0":
            assert self.headers["SOAPAction"] == "login"
            self._reply(
                '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
                "<soapenv:Body><loginResponse><result>"
                f"<serverUrl>{self.server.origin}/services/Soap/u/34.0/00Dx</serverUrl>"
                "<sessionId>SESSION-1</sessionId>"
                "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
            )
        elif path == "/services/async/34.0/job":
            assert self.headers["X-SFDC-Session"] == "SESSION-1"
            self._reply(f'<jobInfo xmlns="{NS}"><id>750J</id></jobInfo>')
        elif path == "/services/async/34.0/job/750J/batch":
            self._reply(f'<batchInfo xmlns="{NS}"><id>751B</id></batchInfo>')
        elif path == "/services/async/34.0/job/750J":
            self._reply(f'<jobInfo xmlns="{NS}"><id>750J</id><state>Closed</state></jobInfo>')

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        self.server.log.append(("GET", url.path, url.query))
        if url.path == "/services/async/34.0/job/750J/batch/751B":
            self.server.batch_polls += 1
            if self.server.batch_message:
                state, message = "Failed", f"<stateMessage>{self.server.batch_message}</stateMessage>"
            else:
                state, message = ("InProgress" if self.server.batch_polls == 1 else "Completed"), ""
            self._reply(
                f'<batchInfo xmlns="{NS}"><id>751B</id><state>{state}</state>{message}'
                "<numberRecordsProcessed>2</numberRecordsProcessed><numberRecordsFailed>0</numberRecordsFailed></batchInfo>"
            )
        elif url.path == "/services/async/34.0/job/750J/batch/751B/result":
            ids = "".join(f"<result>{r}</result>" for r in self.server.results)
            self._reply(f'<result-list xmlns="{NS}">{ids}</result-list>')
        elif url.path.startswith("/services/async/34.0/job/750J/batch/751B/result/"):
            self._reply(self.server.results[url.path.rsplit("/", 1)[1]], "text/csv")
        elif url.path == "/services/data/v34.0/query":
            assert self.headers["Authorization"] == "Bearer SESSION-1"
            assert parse_qs(url.query)["q"] == ["SELECT Id, Owner.Name FROM Account"]
            page = {"done": False, "nextRecordsUrl": "/services/data/v34.0/query/01g-2", "records": [
                {"attributes": {"type": "Account"}, "Id": "1", "Owner": {"attributes": {}, "Name": "Ann"}}]}
            self._reply(json.dumps(page), "application/json")
        elif url.path == "/services/data/v34.0/query/01g-2":
            page = {"done": True, "records": [{"Id": "2", "Owner": {"Name": "Bob"}}]}
            self._reply(json.dumps(page), "application/json")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInSalesforce]:
    stand_in = StandInSalesforce()
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(salesforce.SalesforceAPI, "_get_login_url", lambda self: f"{stand_in.origin}/services/Soap/u/34.0")
    monkeypatch.setattr(salesforce.time, "sleep", lambda seconds: None)  # between batch polls
    yield stand_in
    stand_in.shutdown()
    stand_in.server_close()
    thread.join()


def _query_task(tmp_path: Path, soql_: str) -> type:
    class Accounts(salesforce.QuerySalesforce):
        object_name = "Account"
        soql = soql_

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "accounts.csv"))

    return Accounts


def test_bulk_query_logs_in_polls_merges_results_and_closes_the_job(server: StandInSalesforce, tmp_path: Path) -> None:
    Accounts = _query_task(tmp_path, "SELECT Id, Name FROM Account")
    assert luigi.build([Accounts()], local_scheduler=True)
    assert (tmp_path / "accounts.csv").read_text() == "Id,Name\n1,Acme\n2,Globex\n"
    posts = [(path, body) for method, path, body in server.log if method == "POST"]
    assert "<n1:username></n1:username>" in posts[0][1]
    assert "<operation>query</operation><object>Account</object>" in posts[1][1]
    assert "<contentType>CSV</contentType>" in posts[1][1]
    assert posts[2] == ("/services/async/34.0/job/750J/batch", "SELECT Id, Name FROM Account")
    assert posts[3][0] == "/services/async/34.0/job/750J" and "<state>Closed</state>" in posts[3][1]
    assert server.batch_polls == 2


def test_a_failed_batch_raises_and_still_closes_the_job(server: StandInSalesforce, tmp_path: Path) -> None:
    server.batch_message = "InvalidBatch: unexpected token"
    Accounts = _query_task(tmp_path, "SELECT Id FROM Account")
    with pytest.raises(Exception, match="Batch failed with message: InvalidBatch"):
        Accounts().run()
    assert server.log[-1][0:2] == ("POST", "/services/async/34.0/job/750J")


def test_relationship_queries_fall_back_to_the_paged_rest_api(server: StandInSalesforce, tmp_path: Path) -> None:
    server.batch_message = "Foreign Key Relationships not supported in Bulk Query"
    Accounts = _query_task(tmp_path, "SELECT Id, Owner.Name FROM Account")
    Accounts().run()
    with open(tmp_path / "accounts.csv", newline="") as f:
        assert list(csv.reader(f)) == [["Id", "Owner.Name"], ["1", "Ann"], ["2", "Bob"]]


def test_soql_field_parsing() -> None:
    assert salesforce.get_soql_fields("select Id,\n  Name,\tOwner.Name FROM Account WHERE x = 1") == ["Id", "Name", "Owner.Name"]


def test_sandbox_login_goes_to_test_and_suffixes_the_user() -> None:
    api = salesforce.SalesforceAPI("me@example.com", "pw", "tok", "sbtok", sandbox_name="dev")
    assert api.username == "me@example.com.dev"
    assert api._get_login_url() == "https://test.salesforce.com/services/Soap/u/34.0"
    assert "<n1:password>pwsbtok</n1:password>" in api._get_login_xml()
