"""The client's and the server's names and seams, where code written for Luigi reaches them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
import tornado.web

import trunkline.db_task_history as db_task_history
import trunkline.rpc as rpc
import trunkline.task_history as task_history
import trunkline.server as tl_server
from trunkline.scheduler import Scheduler

from ..server.conftest import InProcessServer, server  # noqa: F401 - the fixture


def _luigi_module_names(relative_path: str) -> set[str]:
    """Top-level names of a module of the installed Luigi 3.8.1, read from its source
    (importing it could give trunkline's twin when install_as_luigi() is in force)."""
    import ast
    from importlib.metadata import distribution

    source = Path(str(distribution("luigi").locate_file(relative_path))).read_text()
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.Try):
            for inner in node.body:
                if isinstance(inner, ast.Import):
                    names.update((alias.asname or alias.name).split(".")[0] for alias in inner.names)
    return names


# Names left out on purpose: tenacity's (Luigi's retry library, not used here), the loop
# variables left over from Luigi building its client methods, and the SQLAlchemy ORM base
# and migration helper of Luigi's history (trunkline's records are plain dataclasses).
_NOT_CARRIED_OVER = {"Retrying", "stop_after_attempt", "wait_fixed", "method", "method_name", "Base", "_upgrade_schema"}
# Reached lazily (SQLAlchemy is optional).
_LAZY = {"sqlalchemy", "reflection"}


@pytest.mark.parametrize(
    ("ours", "path"),
    [
        (rpc, "luigi/rpc.py"),
        (tl_server, "luigi/server.py"),
        (db_task_history, "luigi/db_task_history.py"),
        (task_history, "luigi/task_history.py"),
    ],
)
def test_every_module_level_name_of_luigis_module_is_here(ours: Any, path: str) -> None:
    missing = {name for name in _luigi_module_names(path) if not name.startswith("__")} - set(vars(ours))
    assert missing - _NOT_CARRIED_OVER - _LAZY == set()


def test_positional_arguments_are_named_in_the_scheduler_methods_order() -> None:
    client = rpc.RemoteScheduler("http://127.0.0.1:1")
    sent: list[tuple[str, Any]] = []

    def fetch(url_suffix: str, body: dict[str, str]) -> str:
        sent.append((url_suffix, json.loads(body["data"])))
        return '{"response": {}}'

    client._fetch = fetch  # type: ignore[method-assign]
    client.task_list("PENDING", "")
    client.dep_graph("T_1", False)
    client.get_work("host-1", worker="w")
    assert sent == [
        ("/api/task_list", {"status": "PENDING", "upstream_status": ""}),
        ("/api/dep_graph", {"task_id": "T_1", "include_done": False}),
        ("/api/get_work", {"host": "host-1", "worker": "w"}),
    ]
    with pytest.raises(TypeError):
        client.count_pending()  # worker is required


def test_has_requests_is_read_when_a_client_is_made() -> None:
    assert isinstance(rpc.RemoteScheduler()._fetcher, rpc.KeepAliveFetcher)
    with mock.patch.object(rpc, "HAS_REQUESTS", False):
        assert isinstance(rpc.RemoteScheduler()._fetcher, rpc.URLLibFetcher)


def test_the_urllib_fetcher_talks_to_the_server(server: InProcessServer) -> None:
    with mock.patch.object(rpc, "HAS_REQUESTS", False):
        client = rpc.RemoteScheduler(server.url)
    client.add_task(worker="w", task_id="T_1", family="T")
    assert list(client.task_list("PENDING", "")) == ["T_1"]


def test_an_error_answer_is_an_rpc_error_at_once(server: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trunkline.rpc.time.sleep", lambda seconds: pytest.fail("an HTTP answer was retried"))
    client = rpc.RemoteScheduler(server.url)
    with pytest.raises(rpc.RPCError, match="404"):
        client._request("/api/fdsfds", {"dummy": 1})
    with pytest.raises(rpc.RPCError, match="400"):
        client.add_task(worker="w", task_id="T", priority=float("nan"))


def test_metrics_is_404_without_a_collector(server: InProcessServer) -> None:
    assert httpx.get(server.url + "/metrics").status_code == 404


def test_metrics_serves_the_collectors_text() -> None:
    scheduler = mock.MagicMock()
    scheduler._state._metrics_collector.generate_latest.return_value = b"tasks_done 3\n"
    handler = tl_server.MetricsHandler(tornado.web.Application(), mock.MagicMock(), scheduler=scheduler)
    with mock.patch.object(handler, "write") as write:
        handler.get()
    write.assert_called_once_with(b"tasks_done 3\n")
    scheduler._state._metrics_collector.configure_http_handler.assert_called_once_with(handler)


def test_from_utc_reads_luigis_time_formats() -> None:
    assert tl_server.from_utc("2021-01-15 10:30:45.5") == tl_server.from_utc("2021-01-15 10:30:45")
    assert isinstance(tl_server.from_utc("01/15/2021", fmt="%m/%d/%Y"), int)
    with pytest.raises(ValueError):
        tl_server.from_utc("not a time")


def test_a_history_page_of_ones_own_renders_the_templates() -> None:
    class Mine(tl_server.BaseTaskHistoryHandler):
        def get(self) -> None:
            self.render("recent.html", tasks=[])

    assert os.path.isfile(os.path.join(tl_server.BaseTaskHistoryHandler.get_template_path(None), "recent.html"))  # type: ignore[arg-type]
    application = tornado.web.Application([(r"/mine", Mine, {"scheduler": Scheduler()})])
    from tornado.testing import AsyncHTTPTestCase

    class Case(AsyncHTTPTestCase):
        def get_app(self) -> tornado.web.Application:
            return application

        def runTest(self) -> None:
            page = self.fetch("/mine")
            assert page.code == 200 and b"<table>" in page.body

    result = Case().run()
    assert result is not None and result.wasSuccessful(), result.errors + result.failures


def test_credentials_in_the_url_are_sent_as_basic_auth(server: InProcessServer) -> None:
    """A scheduler behind a proxy with Basic auth: http://user:password@host/ (as Luigi's fetchers do)."""
    seen: list[str] = []
    original = tl_server.RPCHandler.prepare

    def spy(handler: Any) -> None:
        seen.append(handler.request.headers.get("Authorization", ""))
        original(handler)

    with mock.patch.object(tl_server.RPCHandler, "prepare", spy):
        client = rpc.RemoteScheduler(server.url.replace("http://", "http://ops:s3cret@"))
        assert client.count_pending("w")["n_pending_tasks"] == 0
    assert seen == ["Basic b3BzOnMzY3JldA=="]
