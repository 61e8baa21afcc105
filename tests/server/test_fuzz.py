"""Fuzz: a few hundred malformed requests of every kind issue 12 lists, from a
seeded generator (the same ones every run, so a failure reproduces), then a
normal worker must still run a workflow to the end on the same scheduler.

Bounded by count, not time: about 400 requests on loopback take seconds."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import trunkline as luigi
from trunkline._protocol import RPC_METHODS, WRITE_METHODS
from trunkline.db_task_history import DbTaskHistory
from trunkline.scheduler import Scheduler
from trunkline.server import app
from trunkline.server._connections import ServerLimits

from .conftest import ThreadedLimitedServer

SEED = 20261130
ROUNDS = 400

FIELDS = (
    "worker", "task_id", "status", "family", "params", "priority", "deps", "new_deps", "resources", "expl",
    "current_tasks", "host", "include_done", "limit", "tasks", "resource", "amount", "n", "task_family",
    "batched_args", "max_batch_size", "retry_policy_dict", "owners", "reports", "want", "cpu",
)

# JSON texts no well-behaved client sends: each one once was, or could be, a 500 or a wedge.
NASTY_VALUES = (
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", '"\\ud800"', '"a\\udfffb"', '"\\u0000"', "{}", "[]",
    '{"\\ud800": 1}', "[" * 40 + "]" * 40, "[" * 1200 + "]" * 1200, '"' + "x" * 70_000 + '"', "true", "null",
    "-1", "18446744073709551616", '[1, "a", null, {}]', '{"a": NaN}', "0.5",
)


class FuzzServer(ThreadedLimitedServer):
    """A scheduler with task history behind LimitedHTTPServer, served from a thread."""

    def __init__(self, history_path: Path) -> None:
        self.history = DbTaskHistory(f"sqlite:///{history_path}")
        self.scheduler = Scheduler(task_history_impl=self.history)
        limits = ServerLimits(
            max_connections=200, header_timeout=2.0, body_timeout=2.0, idle_timeout=5.0, max_body_bytes=512 * 1024
        )
        super().__init__(lambda: app(self.scheduler, auth_token="", task_history=self.history), limits)

    def stop(self) -> None:
        super().stop()
        self.history.close()


@pytest.fixture
def fuzz_server(tmp_path: Path) -> Iterator[FuzzServer]:
    running = FuzzServer(tmp_path / "history.db")
    running.start()
    yield running
    running.stop()


def _arguments(rng: random.Random) -> str:
    """A ``data`` text: a JSON object whose values are nasty more often than not."""
    items = []
    for name in rng.sample(FIELDS, rng.randint(0, 5)):
        value = rng.choice(NASTY_VALUES) if rng.random() < 0.7 else json.dumps(rng.choice(["T_1", 3, True, ["a"], {"k": "v"}]))
        items.append(f"{json.dumps(name)}: {value}")
    if rng.random() < 0.1:
        return rng.choice(["{not json", "[]", '"text"', "{" * 5000, "\x00\x01", "{} trailing"])
    return "{" + ", ".join(items) + "}"


def _rpc(client: httpx.Client, server: FuzzServer, rng: random.Random) -> httpx.Response:
    method = rng.choice(sorted(RPC_METHODS)) if rng.random() < 0.9 else rng.choice(["nope", "%80", "_request", "__init__"])
    headers: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.1:
        headers["Origin"] = rng.choice(["https://attacker.example", "null", "http://127.0.0.1:1"])
    elif roll < 0.2:
        headers["Host"] = rng.choice(["attacker.example", "localhost.attacker.example", "xn--e-ufa.example", "h\xe9.example".encode("latin-1")])  # type: ignore[assignment]
    elif roll < 0.25:
        headers["Referer"] = "https://attacker.example/form.html"
    data = _arguments(rng)
    if rng.random() < 0.15 and len(data) < 4000:  # writes over GET (an <img> tag)
        return client.get(f"{server.url}/api/{method}", params={"data": data}, headers=headers)
    return client.post(f"{server.url}/api/{method}", data={"data": data}, headers=headers)


def _pages(client: httpx.Client, server: FuzzServer, rng: random.Random) -> httpx.Response:
    path = rng.choice(
        [
            "/static/app.js%00.png", "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
            "/history/by_id/" + "9" * rng.randint(19, 60), "/history/by_id/-1", "/history/by_id/%00",
            "/history/by_task_id/%ED%A0%80", "/history/by_name/%00", "/history/by_params/T?data=" + "%5B" * 1500,
            "/history/by_params/T?data=NaN", "/tasklist/%00", "/visualiser/api/overview?limit=1e999",
            "/visualiser/api/overview?family=%ED%A0%80", "/visualiser/api/overview?status=%00", "/metrics",
        ]
    )
    return client.get(server.url + path)


def _raw(server: FuzzServer, rng: random.Random) -> None:
    """Bytes that are barely HTTP: half-sent requests, lies about length, junk."""
    payload = rng.choice(
        [
            b"POST /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # headers never finished
            b"POST /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\ndata=",  # body never finished
            b"POST /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(rng.randrange(256) for _ in range(64)),
            b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
        ]
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        try:
            sock.sendall(payload)
        except OSError:
            pass  # the server may close first; that is its right


def test_malformed_requests_of_every_kind_then_a_worker_runs_a_workflow_to_the_end(
    fuzz_server: FuzzServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    kinds: list[Callable[..., Any]] = [_rpc, _rpc, _rpc, _pages]
    with httpx.Client(timeout=30) as client:
        for _ in range(ROUNDS):
            if rng.random() < 0.04:
                _raw(fuzz_server, rng)
                continue
            kind = rng.choice(kinds)
            try:
                answer = kind(client, fuzz_server, rng)
            except httpx.TransportError:
                continue  # a request the server closed on (413 for a huge line, say)
            assert answer.status_code < 500, (answer.request.method, str(answer.request.url)[:200], answer.text[:300])
        # Oversized body: 413, and the server goes on.
        huge = client.post(fuzz_server.url + "/api/ping", content=b"data=" + b"x" * (600 * 1024),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert huge.status_code == 413

    # No state changed through a refused door: nothing is paused.
    assert httpx.post(fuzz_server.url + "/api/is_paused", data={"data": "{}"}).json()["response"]["paused"] in (True, False)
    httpx.post(fuzz_server.url + "/api/unpause", data={"data": "{}"})

    class Part(luigi.Task):
        n = luigi.IntParameter()

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / f"part-{self.n}"))

        def run(self) -> None:
            with self.output().open("w") as out:
                out.write(str(self.n))

    class Whole(luigi.Task):
        def requires(self) -> list[Part]:
            return [Part(n=n) for n in range(5)]

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "whole"))

        def run(self) -> None:
            with self.output().open("w") as out:
                out.write(",".join(part.open().read() for part in self.input()))

    assert luigi.build([Whole()], scheduler_host="127.0.0.1", scheduler_port=fuzz_server.port, log_level="WARNING")
    assert (tmp_path / "whole").read_text() == "0,1,2,3,4"
    overview = httpx.get(fuzz_server.url + "/visualiser/api/overview")
    assert overview.status_code == 200, overview.text
    json.loads(overview.text)  # strict JSON: no NaN/Infinity made it into the state
    done = httpx.get(fuzz_server.url + "/api/task_list", params={"data": '{"status": "DONE"}'}).json()["response"]
    assert len([task_id for task_id in done if task_id.startswith(("Part", "Whole"))]) == 6
    assert httpx.get(fuzz_server.url + "/history").status_code == 200
    assert set(WRITE_METHODS) <= RPC_METHODS
