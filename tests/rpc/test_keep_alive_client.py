"""The scheduler client's connection: reused while the server keeps it, replaced
at once when the server went away and came back, clear about bad URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import tornado.httpserver
import tornado.ioloop
import tornado.web

from trunkline.rpc import RemoteScheduler, RPCError
from trunkline.scheduler import Scheduler
from trunkline.server import app

from .conftest import free_port


class Server:
    """The scheduler app on a fixed loopback port, in a thread; counts connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._loop: tornado.ioloop.IOLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        self._loop = tornado.ioloop.IOLoop.current()
        outer = self

        class Counting(tornado.httpserver.HTTPServer):
            def handle_stream(self, stream, address):  # type: ignore[no-untyped-def]
                outer.connections += 1
                return super().handle_stream(stream, address)

        server = Counting(app(Scheduler(), auth_token=""))
        server.listen(self.port, address="127.0.0.1")
        self._ready.set()
        self._loop.start()
        server.stop()
        self._loop.run_sync(server.close_all_connections)

    def __enter__(self) -> Server:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.add_callback(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if the client falls back to waiting rpc_retry_wait."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"the client waited {seconds} s instead of reconnecting at once")

    monkeypatch.setattr("trunkline.rpc.time.sleep", refuse)
    yield


def test_calls_share_one_connection(port: int) -> None:
    with Server(port) as server:
        client = RemoteScheduler(f"http://127.0.0.1:{port}")
        for _ in range(20):
            client.ping(worker="w")
        assert client.count_pending(worker="w")["n_pending_tasks"] == 0
        assert server.connections == 1
        client.close()


def test_a_restarted_scheduler_is_reached_again_without_waiting(port: int, no_retry_sleep: None) -> None:
    client = RemoteScheduler(f"http://127.0.0.1:{port}")
    with Server(port):
        client.ping(worker="w")
    with Server(port) as restarted:
        client.add_task(worker="w", task_id="T_1", status="PENDING", family="T", params={})
        assert list(client.task_list(status="PENDING")) == ["T_1"]
        assert restarted.connections == 1
    client.close()


def test_a_url_with_another_scheme_is_one_clear_error() -> None:
    with pytest.raises(RPCError, match="http://, https:// or http\\+unix://"):
        RemoteScheduler("ftp://127.0.0.1:8082/")


@pytest.fixture
def retry_config() -> Iterator[None]:
    """[core] rpc_retry_wait = 30, rpc_retry_attempts = 3 (Luigi's defaults)."""
    from trunkline.configuration import get_config

    config = get_config()
    if not config.has_section("core"):
        config.add_section("core")
    saved = {key: config.get("core", key, None) for key in ("rpc_retry_wait", "rpc_retry_attempts")}
    config.set("core", "rpc_retry_wait", "30")
    config.set("core", "rpc_retry_attempts", "3")
    yield
    for key, value in saved.items():
        if value is None:
            config.remove_option("core", key)
        else:
            config.set("core", key, value)


def test_a_scheduler_that_is_starting_is_waited_for_on_first_contact(
    port: int, retry_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cron run that starts while the scheduler restarts waits rpc_retry_wait and gets through."""
    client = RemoteScheduler(f"http://127.0.0.1:{port}")
    waits: list[float] = []
    started: list[Server] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        started.append(Server(port).__enter__())  # the scheduler is up by the next attempt

    monkeypatch.setattr("trunkline.rpc.time.sleep", wait)
    try:
        assert client.count_pending(worker="w")["n_pending_tasks"] == 0
    finally:
        for server in started:
            server.__exit__(None, None, None)
        client.close()
    assert waits == [30.0]


def test_a_scheduler_that_stays_away_gets_luigis_attempts_then_a_clear_error(
    port: int, retry_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RemoteScheduler(f"http://127.0.0.1:{port}")
    with Server(port):
        client.ping(worker="w")
    waits: list[float] = []
    monkeypatch.setattr("trunkline.rpc.time.sleep", waits.append)
    with pytest.raises(RPCError, match="3 attempts") as raised:
        client.count_pending(worker="w")
    assert waits == [30.0, 30.0]  # rpc_retry_attempts in all, rpc_retry_wait apart, as Luigi
    assert "--local-scheduler" in str(raised.value)
    assert isinstance(raised.value.sub_exception, ConnectionRefusedError)
    client.close()
