"""MongoDB targets against mongomock, a pymongo stand-in (no MongoDB server can run here)."""

from __future__ import annotations

import pytest

mongomock = pytest.importorskip("mongomock", reason='mongomock is in the test extra: pip install -e ".[test]"')

import trunkline as luigi  # noqa: E402
from trunkline.contrib.mongodb import (  # noqa: E402
    MongoCellTarget,
    MongoCollectionTarget,
    MongoCountTarget,
    MongoRangeTarget,
)


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return mongomock.MongoClient()


def test_cell_target_reads_and_writes_nested_fields(client) -> None:  # type: ignore[no-untyped-def]
    target = MongoCellTarget(client, "db", "stats", "2024-05-20", "totals.clicks")
    assert str(target) == "db/stats"
    assert not target.exists()
    target.write(42)
    assert target.exists() and target.read() == 42
    assert client.db.stats.find_one({"_id": "2024-05-20"}) == {"_id": "2024-05-20", "totals": {"clicks": 42}}


def test_range_target_is_done_when_every_document_has_the_field(client) -> None:  # type: ignore[no-untyped-def]
    target = MongoRangeTarget(client, "db", "users", ["a", "b", "c"], "score")
    target.write({"a": 1, "b": 2, "z": 99})  # z is outside the range
    assert target.get_empty_ids() == {"c"}
    assert not target.exists()
    assert target.read() == {"a": 1, "b": 2}
    target.write({"c": 3})
    assert target.exists()
    assert client.db.users.find_one({"_id": "z"}) is None


def test_collection_and_count_targets(client) -> None:  # type: ignore[no-untyped-def]
    assert not MongoCollectionTarget(client, "db", "events").exists()
    client.db.events.insert_many([{"n": i} for i in range(3)])
    assert MongoCollectionTarget(client, "db", "events").exists()
    assert MongoCountTarget(client, "db", "events", 3).exists()
    assert not MongoCountTarget(client, "db", "events", 4).exists()


def test_a_task_marking_a_cell_runs_once(client) -> None:  # type: ignore[no-untyped-def]
    runs = []

    class Tally(luigi.Task):
        def output(self) -> MongoCellTarget:
            return MongoCellTarget(client, "db", "tally", "today", "done")

        def run(self) -> None:
            runs.append(1)
            self.output().write(True)

    assert luigi.build([Tally()], local_scheduler=True)
    assert luigi.build([Tally()], local_scheduler=True)
    assert runs == [1]
