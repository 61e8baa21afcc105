"""RedisTarget against the Redis server on 127.0.0.1:6379."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

import trunkline as luigi
from trunkline import configuration
from trunkline.contrib.redis_store import RedisTarget

redis = pytest.importorskip("redis", reason='redis-py is in the test extra: pip install -e ".[test]"')

DB = 14


def _redis_listening() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_listening(), reason="no Redis server on 127.0.0.1:6379")


@pytest.fixture
def update_id() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex}"
    yield name
    client = redis.StrictRedis(host="127.0.0.1", port=6379, db=DB)
    for key in client.scan_iter(f"*{name}"):
        client.delete(key)


def test_touch_makes_the_target_exist(update_id: str) -> None:
    target = RedisTarget("127.0.0.1", 6379, DB, update_id)
    assert not target.exists()
    target.touch()
    assert target.exists()
    stored = redis.StrictRedis(host="127.0.0.1", port=6379, db=DB).hgetall(f"luigi:{update_id}")
    assert stored[b"update_id"] == update_id.encode() and b"date" in stored


def test_expire_sets_a_time_to_live(update_id: str) -> None:
    target = RedisTarget("127.0.0.1", 6379, DB, update_id, expire=300)
    target.touch()
    assert 0 < redis.StrictRedis(host="127.0.0.1", port=6379, db=DB).ttl(target.marker_key()) <= 300


def test_marker_prefix_from_the_redis_section_or_the_target(update_id: str) -> None:
    parser = configuration.get_config()
    created = not parser.has_section("redis")
    if created:
        parser.add_section("redis")
    parser.set("redis", "marker-prefix", "nightly")
    try:
        assert str(RedisTarget("127.0.0.1", 6379, DB, update_id)) == f"nightly:{update_id}"
    finally:
        parser.remove_option("redis", "marker-prefix")
        if created:
            parser.remove_section("redis")
    target = RedisTarget("127.0.0.1", 6379, DB, update_id)
    target.marker_prefix = "custom"
    assert target.marker_key() == f"custom:{update_id}"


def test_a_task_marked_in_redis_runs_once(update_id: str) -> None:
    runs = []

    class Load(luigi.Task):
        def output(self) -> RedisTarget:
            return RedisTarget("127.0.0.1", 6379, DB, update_id)

        def run(self) -> None:
            runs.append(1)
            self.output().touch()

    assert luigi.build([Load()], local_scheduler=True)
    assert luigi.build([Load()], local_scheduler=True)
    assert runs == [1]
