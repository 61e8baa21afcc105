from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tornado.httpserver
import tornado.ioloop
import tornado.web

from trunkline.scheduler import Scheduler
from trunkline.server import app
from trunkline.server._connections import LimitedHTTPServer, ServerLimits


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class InProcessServer:
    """The scheduler app on a free loopback port, served from a thread."""

    def __init__(self, **app_kwargs: Any) -> None:
        self.scheduler = Scheduler()
        self.port = free_port()
        self._app_kwargs = app_kwargs
        self._loop: tornado.ioloop.IOLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._ready = threading.Event()

    def _serve(self) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        self._loop = tornado.ioloop.IOLoop.current()
        server = tornado.httpserver.HTTPServer(app(self.scheduler, **self._app_kwargs), max_body_size=1024 * 1024)
        server.listen(self.port, address="127.0.0.1")
        self._ready.set()
        self._loop.start()
        server.stop()

    def start(self) -> InProcessServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        assert self._loop is not None
        self._loop.add_callback(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    running = InProcessServer(auth_token="").start()
    yield running
    running.stop()


class ServerProcess:
    """``trunkline scheduler`` as a real process, with a state file."""

    def __init__(self, state_path: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.state_path = state_path
        self.port = port or free_port()
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trunkline", "scheduler", "--port", str(self.port), "--state-path", str(self.state_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        wait_for_port(self.port)
        return self

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path / "state.sqlite3").start()
    yield running
    running.stop()


class ThreadedLimitedServer:
    """An app behind LimitedHTTPServer (the service's connection limits), served
    from a thread on a free loopback port; the app is made in that thread."""

    def __init__(self, make_app: Callable[[], tornado.web.Application], limits: ServerLimits) -> None:
        self.port = free_port()
        self.limits = limits
        self._make_app = make_app
        self._loop: tornado.ioloop.IOLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        self._loop = tornado.ioloop.IOLoop.current()
        server = LimitedHTTPServer(self._make_app(), limits=self.limits)
        server.listen(self.port, address="127.0.0.1")
        self._ready.set()
        self._loop.start()
        server.stop()
        self._loop.run_sync(server.close_all_connections)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedLimitedServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        assert self._loop is not None
        self._loop.add_callback(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> ThreadedLimitedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
