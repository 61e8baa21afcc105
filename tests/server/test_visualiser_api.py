"""What the visualiser's page is served with: the page and its assets from the
scheduler itself, and the overview that counts and filters tasks server-side."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import InProcessServer


def add(server: InProcessServer, task_id: str, status: str, family: str, deps: list[str] | None = None,
        **params: str) -> None:
    server.scheduler.add_task(worker="w1", task_id=task_id, status=status, family=family, params=params,
                              deps=deps or [], runnable=True)


@pytest.fixture
def populated(server: InProcessServer) -> InProcessServer:
    add(server, "Load_a", "DONE", "Load", name="a")
    add(server, "Load_b", "FAILED", "Load", name="b")
    add(server, "Report_x", "PENDING", "Report", deps=["Load_a", "Load_b"], day="2024-05-01")
    add(server, "Report_y", "PENDING", "Report", deps=["Load_a"], day="2024-05-02")
    return server


def overview(server: InProcessServer, **query: Any) -> dict[str, Any]:
    answer = httpx.get(server.url + "/visualiser/api/overview", params=query)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_root_serves_the_page_and_every_asset_it_loads(server: InProcessServer) -> None:
    page = httpx.get(server.url + "/", follow_redirects=True)
    assert page.status_code == 200
    assert str(page.url).endswith("/static/visualiser/index.html")  # Luigi's address for it
    assert page.headers["content-type"].startswith("text/html")
    for asset in ("/static/app.js", "/static/graph.js", "/static/style.css", "/static/graph.css"):
        assert asset in page.text
        served = httpx.get(server.url + asset)
        assert served.status_code == 200, asset
        assert served.content
    # Nothing is fetched from elsewhere: the page works without internet access.
    assert "http://" not in page.text and "https://" not in page.text
    assert httpx.head(server.url + "/").status_code == 204


def test_overview_counts_statuses_including_upstream_categories(populated: InProcessServer) -> None:
    data = overview(populated)
    assert data["counts"]["DONE"] == 1
    assert data["counts"]["FAILED"] == 1
    assert data["counts"]["PENDING"] == 2
    assert data["counts"]["UPSTREAM_FAILED"] == 1  # Report_x waits on the failed Load_b
    assert data["families"]["Load"] == {"DONE": 1, "FAILED": 1}
    assert data["total"] == data["matching"] == 4
    # What the answer cost the scheduler, so the page can poll less on huge graphs.
    assert isinstance(data["compute_ms"], (int, float)) and data["compute_ms"] >= 0


def test_overview_filters_by_status_family_and_text(populated: InProcessServer) -> None:
    assert [t["task_id"] for t in overview(populated, status="UPSTREAM_FAILED")["tasks"]] == ["Report_x"]
    assert {t["task_id"] for t in overview(populated, family="Load")["tasks"]} == {"Load_a", "Load_b"}
    by_param = overview(populated, q="report 2024-05-02")
    assert [t["task_id"] for t in by_param["tasks"]] == ["Report_y"]
    assert by_param["matching"] == 1 and by_param["total"] == 4
    assert overview(populated, status="FAILED", family="Report")["tasks"] == []


def test_overview_sends_at_most_the_limit_but_counts_every_match(server: InProcessServer) -> None:
    for i in range(30):
        add(server, f"T_{i}", "PENDING", "T", i=str(i))
    data = overview(server, limit=10)
    assert len(data["tasks"]) == 10
    assert data["matching"] == 30


def test_overview_rejects_a_bad_limit_with_a_clear_error(server: InProcessServer) -> None:
    answer = httpx.get(server.url + "/visualiser/api/overview", params={"limit": "lots"})
    assert answer.status_code == 400
    assert "limit" in answer.json()["error"]


@pytest.fixture
def closed_server() -> Iterator[InProcessServer]:
    running = InProcessServer(auth_token="t0ken", read_only_open=False).start()
    yield running
    running.stop()


def test_closed_pages_need_the_token(closed_server: InProcessServer) -> None:
    url = closed_server.url + "/visualiser/api/overview"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert httpx.get(closed_server.url + "/api/task_list").status_code == 401


def test_overview_tells_the_page_whether_actions_need_a_token(
    server: InProcessServer, closed_server: InProcessServer
) -> None:
    assert overview(server)["auth"] == {"actions_need_token": False}
    answer = httpx.get(closed_server.url + "/visualiser/api/overview", headers={"Authorization": "Bearer t0ken"})
    assert answer.json()["auth"] == {"actions_need_token": True}
