"""A request the scheduler must refuse is refused at the edge, changes nothing,
and never makes a later good request fail (issue 12)."""

from __future__ import annotations

import json
import logging
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from trunkline.scheduler import Scheduler
from trunkline.server import app
from trunkline.server._connections import ServerLimits, create_private_file

from .conftest import InProcessServer, ThreadedLimitedServer


def call(server: InProcessServer, method: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/api/{method}", data={"data": json.dumps(kwargs)}, headers=headers or {})


def raw_call(server: InProcessServer, method: str, data: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/{method}", data={"data": data})


def tasks(server: InProcessServer) -> dict[str, Any]:
    return dict(call(server, "task_list").json()["response"])


# -- fields --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "data", "field"),
    [
        ("add_task", '{"worker": "w", "task_id": "T", "family": {}}', "add_task.family"),
        ("add_task", '{"worker": "w", "task_id": "T", "priority": NaN}', "add_task.priority"),
        ("add_task", '{"worker": "w", "task_id": "T", "priority": 1e999}', "add_task.priority"),
        ("add_task", '{"worker": "w", "task_id": "T\\ud800"}', "add_task.task_id"),
        ("add_task", '{"worker": "w", "task_id": "T", "params": {"p": "\\udfff"}}', "add_task.params.p"),
        ("add_task", '{"worker": "w", "task_id": "T", "deps": ["A", 3]}', "add_task.deps"),
        ("add_task", '{"worker": "w", "task_id": "T", "status": "EXPLODED"}', "add_task.status"),
        ("update_resources", '{"cpu": 1e999}', "update_resources.cpu"),
        ("update_resources", '{"cpu": "lots"}', "update_resources.cpu"),
        ("update_resource", '{"resource": 7, "amount": 1}', "update_resource.resource"),
        ("set_worker_processes", '{"worker": "w", "n": -1}', "set_worker_processes.n"),
    ],
)
def test_a_bad_field_is_a_400_naming_it_and_changes_nothing(
    server: InProcessServer, method: str, data: str, field: str
) -> None:
    answer = raw_call(server, method, data)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error"]
    assert tasks(server) == {}
    assert call(server, "resource_list").json()["response"] in ([], {}, None)


def test_a_refused_family_does_not_break_the_visualiser_afterwards(server: InProcessServer) -> None:
    assert raw_call(server, "add_task", '{"worker": "w", "task_id": "T", "family": {}}').status_code == 400
    assert call(server, "add_task", worker="w", task_id="Good_1", family="Good").status_code == 200
    overview = httpx.get(server.url + "/visualiser/api/overview")
    assert overview.status_code == 200, overview.text
    assert "NaN" not in overview.text


def test_a_lone_surrogate_does_not_wedge_later_writes(server: InProcessServer) -> None:
    assert raw_call(server, "add_task", '{"worker": "w", "task_id": "\\ud800"}').status_code == 400
    assert call(server, "add_task", worker="w", task_id="After_1", family="After").status_code == 200
    assert list(tasks(server)) == ["After_1"]


def test_a_batch_with_one_bad_task_creates_none(server: InProcessServer) -> None:
    good = {"task_id": "Good_1", "family": "Good", "status": "PENDING"}
    bad = {"task_id": "Bad_1", "family": "Bad", "priority": float("nan")}
    answer = raw_call(server, "add_tasks", json.dumps({"worker": "w", "tasks": [good, bad]}))
    assert answer.status_code == 400
    assert "add_tasks.tasks[1].priority" in answer.json()["error"]
    assert tasks(server) == {}


def test_json_nested_a_thousand_deep_is_a_400(server: InProcessServer) -> None:
    deep = '{"worker": "w", "task_id": "T", "params": {"p": ' + "[" * 1000 + "]" * 1000 + "}}"
    assert raw_call(server, "add_task", deep).status_code == 400
    much_deeper = "[" * 100_000 + "]" * 100_000
    assert raw_call(server, "add_task", '{"expl": ' + much_deeper + "}").status_code == 400
    assert tasks(server) == {}


def test_infinity_is_accepted_where_luigi_workers_send_it(server: InProcessServer) -> None:
    """A Luigi worker sends max_batch_size=Infinity for a batchable class without a limit."""
    data = '{"worker": "w", "task_family": "B", "batched_args": ["x"], "max_batch_size": Infinity}'
    assert raw_call(server, "add_task_batcher", data).status_code == 200


def test_a_null_byte_in_a_static_path_is_a_404(server: InProcessServer) -> None:
    assert httpx.get(server.url + "/static/app.js%00.png").status_code == 404
    assert httpx.get(server.url + "/static/app.js").status_code == 200


# -- methods and origins --------------------------------------------------------------------
def test_writes_need_post_and_reads_work_over_get(server: InProcessServer) -> None:
    marked = httpx.get(f"{server.url}/api/mark_as_done", params={"data": '{"task_id": "T"}'})
    assert marked.status_code == 405
    paused = httpx.get(f"{server.url}/api/pause")
    assert paused.status_code == 405
    assert call(server, "is_paused").json()["response"] == {"paused": False}
    assert httpx.get(f"{server.url}/api/task_list", params={"data": "{}"}).status_code == 200


def test_a_page_on_another_site_cannot_pause_the_scheduler(server: InProcessServer) -> None:
    refused = call(server, "pause", headers={"Origin": "https://attacker.example"})
    assert refused.status_code == 403
    by_referer = call(server, "pause", headers={"Referer": "https://attacker.example/page.html"})
    assert by_referer.status_code == 403
    assert call(server, "is_paused").json()["response"] == {"paused": False}
    # The scheduler's own page (same origin) and clients sending no Origin are served.
    own = call(server, "pause", headers={"Origin": server.url})
    assert own.status_code == 200
    assert call(server, "unpause").status_code == 200


def test_a_host_the_scheduler_does_not_serve_is_refused(server: InProcessServer) -> None:
    """DNS rebinding: the attacker's name resolves to 127.0.0.1, the Host header still says it."""
    rebinding = call(server, "task_list", headers={"Host": "attacker.example"})
    assert rebinding.status_code == 403
    assert httpx.get(server.url + "/visualiser/api/overview", headers={"Host": "attacker.example"}).status_code == 403
    for host in ("localhost:8082", "127.0.0.1", "[::1]:8082", "10.1.2.3:8082"):
        assert call(server, "task_list", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_adds_names(server: InProcessServer) -> None:
    from trunkline.configuration import get_config

    config = get_config()
    if not config.has_section("scheduler"):
        config.add_section("scheduler")
    config.set("scheduler", "allowed_hosts", "scheduler.internal, other.internal")
    try:
        assert call(server, "task_list", headers={"Host": "scheduler.internal:8082"}).status_code == 200
        assert call(server, "task_list", headers={"Host": "attacker.example"}).status_code == 403
    finally:
        config.remove_option("scheduler", "allowed_hosts")


def test_with_a_token_the_token_is_the_gate() -> None:
    guarded = InProcessServer(auth_token="s3cret").start()
    try:
        headers = {"Authorization": "Bearer s3cret", "Host": "scheduler.example", "Origin": "https://ci.example"}
        assert call(guarded, "pause", headers=headers).status_code == 200
    finally:
        guarded.stop()


# -- connections ----------------------------------------------------------------------------
def LimitedServer(limits: ServerLimits) -> ThreadedLimitedServer:  # noqa: N802 - reads as a class at call sites
    """A fresh scheduler's app behind LimitedHTTPServer with ``limits``."""
    return ThreadedLimitedServer(lambda: app(Scheduler(), auth_token=""), limits)


def _limits(**changes: Any) -> ServerLimits:
    values = {"max_connections": 100, "header_timeout": 30.0, "body_timeout": 30.0, "idle_timeout": 30.0,
              "max_body_bytes": 64 * 1024}
    values.update(changes)
    return ServerLimits(**values)


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(20)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_an_oversized_body_is_a_413_and_the_server_goes_on() -> None:
    with LimitedServer(_limits(max_body_bytes=1024)) as server:
        answer = httpx.post(server.url + "/api/ping", content=b"data=" + b"x" * 4096,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 413
        assert "at most 1024" in answer.json()["error"]
        assert httpx.post(server.url + "/api/ping", data={"data": '{"worker": "w"}'}).status_code == 200


def test_a_half_sent_request_is_closed_after_the_header_timeout() -> None:
    with LimitedServer(_limits(header_timeout=0.5)) as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            assert _closed_by_server(sock)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_connections_over_the_cap_are_closed_with_a_log_line() -> None:
    records = _Records()
    server_log = logging.getLogger("luigi.server")
    server_log.addHandler(records)
    try:
        with LimitedServer(_limits(max_connections=3)) as server:
            held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
            try:
                extra = socket.create_connection(("127.0.0.1", server.port))
                assert _closed_by_server(extra)
                extra.close()
                assert any("max_connections" in message for message in records.messages)
            finally:
                for sock in held:
                    sock.close()
            # Once the idle ones are gone, clients are served again.
            for _ in range(50):
                answer = httpx.post(server.url + "/api/ping", data={"data": '{"worker": "w"}'})
                if answer.status_code == 200:
                    break
            assert answer.status_code == 200
    finally:
        server_log.removeHandler(records)


def test_state_files_are_created_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "state.sqlite3"
    create_private_file(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def history_server(tmp_path: Path) -> Iterator[InProcessServer]:
    from trunkline.db_task_history import DbTaskHistory

    history = DbTaskHistory(f"sqlite:///{tmp_path / 'history.db'}")
    running = InProcessServer(auth_token="", task_history=history).start()
    yield running
    running.stop()
    history.close()


def test_a_huge_history_id_is_a_404(history_server: InProcessServer, tmp_path: Path) -> None:
    assert httpx.get(history_server.url + "/history/by_id/" + "9" * 40).status_code == 404
    assert httpx.get(history_server.url + "/history/by_id/-1").status_code == 404
    assert httpx.get(history_server.url + "/history").status_code == 200
    assert stat.S_IMODE((tmp_path / "history.db").stat().st_mode) == 0o600
