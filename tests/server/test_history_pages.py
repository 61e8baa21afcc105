"""The task-history pages of the scheduler service, on and off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from trunkline.db_task_history import DbTaskHistory
from trunkline.scheduler import Scheduler

from .conftest import InProcessServer, ServerProcess

NASTY = '<script>alert("x")</script>'


def call(url: str, method: str, **kwargs: object) -> object:
    response = httpx.post(f"{url}/api/{method}", data={"data": json.dumps(kwargs)})
    response.raise_for_status()
    return response.json()["response"]


def run_small_workflow(url: str) -> None:
    """Two reports, one done on host-a and one failed on host-b, through the API."""
    call(url, "add_task", worker="wa", task_id="Report_1", family="Report", params={"day": "2024-05-01", "note": NASTY})
    call(url, "add_task", worker="wb", task_id="Report_2", family="Report", params={"day": "2024-05-02", "note": "plain"})
    call(url, "add_task", worker="wa", task_id="Report_1", family="Report", params={"day": "2024-05-01", "note": NASTY})
    assert call(url, "get_work", worker="wa", host="host-a")["task_id"] == "Report_1"  # type: ignore[index]
    call(url, "add_task", worker="wa", task_id="Report_1", status="DONE")
    assert call(url, "get_work", worker="wb", host="host-b")["task_id"] == "Report_2"  # type: ignore[index]
    call(url, "add_task", worker="wb", task_id="Report_2", status="FAILED")


@pytest.fixture
def history_server(tmp_path: Path) -> Iterator[tuple[InProcessServer, DbTaskHistory]]:
    history = DbTaskHistory(f"sqlite:///{tmp_path / 'history.db'}")
    running = InProcessServer(auth_token="", task_history=history)
    running.scheduler = Scheduler(task_history_impl=history)
    running.start()
    yield running, history
    running.stop()
    history.close()


def test_recent_runs_list_each_task_with_host_status_and_escaped_parameters(
    history_server: tuple[InProcessServer, DbTaskHistory],
) -> None:
    server, history = history_server
    run_small_workflow(server.url)
    page = httpx.get(f"{server.url}/history")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "host-a" in text and "host-b" in text
    assert ">DONE<" in text and ">FAILED<" in text
    assert "day=2024-05-01" in text and "day=2024-05-02" in text
    assert NASTY not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "<script" not in text  # no script at all: the pages are plain HTML
    done = history.find_task_by_task_id("Report_1")
    assert done is not None and f'href="/history/by_id/{done.id}"' in text


def test_a_run_page_shows_its_parameters_and_events_newest_first(history_server: tuple[InProcessServer, DbTaskHistory]) -> None:
    server, history = history_server
    run_small_workflow(server.url)
    record = history.find_task_by_task_id("Report_1")
    assert record is not None
    text = httpx.get(f"{server.url}/history/by_id/{record.id}").text
    assert "Report_1" in text and "host-a" in text
    positions = [text.index(f">{status}<", text.index("Events")) for status in ("DONE", "RUNNING", "PENDING")]
    assert positions == sorted(positions)
    assert '<a href="/history/by_name/Report">All runs of Report</a>' in text
    assert NASTY not in text

    by_task_id = httpx.get(f"{server.url}/history/by_task_id/Report_1")
    assert by_task_id.status_code == 200 and f"Report run {record.id}" in by_task_id.text


def test_runs_by_name_and_by_parameters(history_server: tuple[InProcessServer, DbTaskHistory]) -> None:
    server, _ = history_server
    run_small_workflow(server.url)
    by_name = httpx.get(f"{server.url}/history/by_name/Report").text
    assert "day=2024-05-01" in by_name and "day=2024-05-02" in by_name

    data = json.dumps({"day": "2024-05-02"})
    by_params = httpx.get(f"{server.url}/history/by_params/Report", params={"data": data}).text
    assert "day=2024-05-02" in by_params and "day=2024-05-01" not in by_params

    none = httpx.get(f"{server.url}/history/by_params/Report", params={"data": json.dumps({"day": "1999-01-01"})}).text
    assert "No run with these parameters" in none


def test_bad_parameters_and_unknown_runs_get_a_clear_4xx_page(history_server: tuple[InProcessServer, DbTaskHistory]) -> None:
    server, _ = history_server
    run_small_workflow(server.url)
    bad = httpx.get(f"{server.url}/history/by_params/Report", params={"data": "{not json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.text
    not_object = httpx.get(f"{server.url}/history/by_params/Report", params={"data": "[1, 2]"})
    assert not_object.status_code == 400 and "must be a JSON object" in not_object.text
    missing = httpx.get(f"{server.url}/history/by_id/987654")
    assert missing.status_code == 404 and "No run with record id 987654" in missing.text
    garbage = httpx.get(f"{server.url}/history/by_id/{quote(NASTY, safe='')}")
    assert garbage.status_code == 404 and NASTY not in garbage.text


def test_tasklist_answers_every_event_of_a_family_as_json(history_server: tuple[InProcessServer, DbTaskHistory]) -> None:
    server, _ = history_server
    run_small_workflow(server.url)
    names = httpx.get(f"{server.url}/tasklist").text
    assert 'href="/tasklist/Report"' in names
    response = httpx.get(f"{server.url}/tasklist/Report")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["name"] == "Report"
    assert sorted(body["statusResults"]) == ["DONE", "FAILED", "PENDING", "RUNNING"]
    assert len(body["statusResults"]["RUNNING"]) == 2
    assert [e["status"] for e in body["taskResults"]].count("PENDING") == 3
    assert {"id", "taskName", "task_id", "status", "datetime", "timestamp"} <= set(body["taskResults"][0])
    assert httpx.get(f"{server.url}/tasklist/Nothing").json()["taskResults"] == []


def test_has_task_history_is_true_when_recording(history_server: tuple[InProcessServer, DbTaskHistory]) -> None:
    server, _ = history_server
    assert call(server.url, "has_task_history") is True


def test_with_history_off_the_pages_are_404_saying_how_to_turn_it_on(server: InProcessServer) -> None:
    assert call(server.url, "has_task_history") is False
    for path in ("/history", "/history/by_name/Report", "/history/by_id/1", "/tasklist", "/tasklist/Report"):
        response = httpx.get(f"{server.url}{path}")
        assert response.status_code == 404, path
        assert "record_task_history = true" in response.text and "[scheduler]" in response.text


def test_trunklined_records_history_when_configured_and_keeps_it_after_stopping(tmp_path: Path) -> None:
    database = tmp_path / "history.db"
    config = tmp_path / "luigi.cfg"
    config.write_text(f"[scheduler]\nrecord_task_history = true\n\n[task_history]\ndb_connection = sqlite:///{database}\n")
    service = ServerProcess(tmp_path / "state.sqlite3", env={"LUIGI_CONFIG_PATH": str(config)}).start()
    try:
        url = f"http://127.0.0.1:{service.port}"
        assert call(url, "has_task_history") is True
        run_small_workflow(url)
        page = httpx.get(f"{url}/history/by_name/Report")
        assert page.status_code == 200 and "host-a" in page.text and "host-b" in page.text
    finally:
        service.stop()
    stored = DbTaskHistory(f"sqlite:///{database}")
    try:
        events = [(e.event_name) for e in stored.find_all_events()]
        assert events.count("RUNNING") == 2 and events.count("DONE") == 1 and events.count("FAILED") == 1
    finally:
        stored.close()


def test_closed_reading_keeps_the_history_behind_the_token(tmp_path: Path) -> None:
    history = DbTaskHistory(f"sqlite:///{tmp_path / 'history.db'}")
    running = InProcessServer(auth_token="t0ken", read_only_open=False, task_history=history)
    running.scheduler = Scheduler(task_history_impl=history)
    running.start()
    try:
        for path in ("/history", "/tasklist"):
            assert httpx.get(running.url + path).status_code == 401, path
            answer = httpx.get(running.url + path, headers={"Authorization": "Bearer t0ken"})
            assert answer.status_code == 200, path
    finally:
        running.stop()
        history.close()
