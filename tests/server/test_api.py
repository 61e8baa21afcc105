"""The HTTP API: Luigi's wire protocol, and bad requests that never hurt the server."""

from __future__ import annotations

import json
import string

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline._protocol import RPC_METHODS

from .conftest import InProcessServer


def call(server: InProcessServer, method: str, token: str | None = None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/api/{method}", data={"data": json.dumps(kwargs)}, headers=headers)


def test_a_task_added_over_http_is_handed_out_over_http(server: InProcessServer) -> None:
    assert call(server, "add_task", worker="w1", task_id="T_1", family="T", params={"n": "1"}).json() == {"response": None}
    work = call(server, "get_work", worker="w1", current_tasks=[]).json()["response"]
    assert work["task_id"] == "T_1" and work["task_family"] == "T"
    listed = httpx.get(f"{server.url}/api/task_list", params={"data": json.dumps({"status": "RUNNING"})}).json()
    assert list(listed["response"]) == ["T_1"]


def test_unknown_method_is_404_json(server: InProcessServer) -> None:
    response = call(server, "drop_all_tables")
    assert response.status_code == 404
    assert "unknown method" in response.json()["error"]


def test_malformed_json_and_wrong_types_are_400_and_change_nothing(server: InProcessServer) -> None:
    bad_json = httpx.post(f"{server.url}/api/add_task", data={"data": "{not json"})
    assert bad_json.status_code == 400
    wrong_type = call(server, "add_task", worker="w", task_id=["a", "list"])
    assert wrong_type.status_code == 400 and "task_id" in wrong_type.json()["error"]
    unknown_argument = call(server, "ping", worker="w", bogus=1)
    assert unknown_argument.status_code in (200, 400)
    assert call(server, "task_list").json()["response"] == {}


def test_head_on_root_is_a_health_check(server: InProcessServer) -> None:
    assert httpx.head(server.url + "/").status_code == 204


def test_auth_token_guards_changes_but_not_reads() -> None:
    guarded = InProcessServer(auth_token="s3cret").start()
    try:
        refused = call(guarded, "add_task", worker="w", task_id="T")
        assert refused.status_code == 401
        assert call(guarded, "task_list").status_code == 200
        assert call(guarded, "add_task", token="wrong", worker="w", task_id="T").status_code == 401
        assert call(guarded, "add_task", token="s3cret", worker="w", task_id="T").status_code == 200
        assert "T" in call(guarded, "task_list").json()["response"]
    finally:
        guarded.stop()


def test_huge_bodies_are_refused() -> None:
    small = InProcessServer().start()
    try:
        try:
            response = httpx.post(f"{small.url}/api/ping", content=b"x" * (2 * 1024 * 1024))
            status = response.status_code
        except httpx.TransportError:
            status = 413  # the server may close the connection instead of answering
        assert status in (400, 413)
        assert call(small, "ping", worker="w").status_code == 200
    finally:
        small.stop()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(sorted(RPC_METHODS))
    # "." and ".." are resolved by the client itself (/api/. is /api/, /api/.. is /): not API calls.
    | st.text(alphabet=string.ascii_letters + string.digits + "_-.%", max_size=15).filter(lambda m: m not in {".", ".."}),
    arguments=st.dictionaries(
        st.sampled_from(["worker", "task_id", "status", "deps", "priority", "resources", "params", "include_done", "limit", "x"]),
        json_values,
        max_size=5,
    ),
)
def test_random_requests_never_crash_the_server_or_break_it(server: InProcessServer, method: str, arguments: dict) -> None:
    response = httpx.post(f"{server.url}/api/{method}", data={"data": json.dumps(arguments)})
    assert response.status_code < 500, response.text
    response.json()
    # the scheduler still works after whatever that was
    assert call(server, "add_task", worker="healthy", task_id="Probe").status_code == 200
    assert call(server, "task_list", search="Probe").status_code == 200


def test_a_method_name_that_is_not_utf8_is_a_json_400(server: InProcessServer) -> None:
    answer = httpx.post(server.url + "/api/%80", data={"data": "{}"})
    assert answer.status_code == 400
    assert "error" in answer.json()
    assert httpx.post(server.url + "/api/ping", data={"data": '{"worker": "w"}'}).status_code == 200
