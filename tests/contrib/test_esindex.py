"""CopyToIndex and ElasticsearchTarget through the official client, against a stand-in Elasticsearch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("elasticsearch", reason='the elasticsearch client is in the test extra: pip install -e ".[test]"')

import trunkline as luigi  # noqa: E402
from trunkline.contrib.esindex import CopyToIndex, ElasticsearchTarget  # noqa: E402

from .es_standin import EsStandIn  # noqa: E402


@pytest.fixture
def es() -> Iterator[EsStandIn]:
    with EsStandIn() as server:
        yield server


def make_task(port: int, documents: list[Any], **options: Any) -> type[CopyToIndex]:
    class Load(CopyToIndex):
        version = luigi.IntParameter(default=1)
        host = "127.0.0.1"
        index = "movies"
        mapping = {"properties": {"title": {"type": "text"}}}
        marker_index_hist_size = options.get("hist", 0)

        def docs(self) -> list[Any]:
            return documents

    Load.port = port  # type: ignore[assignment]
    return Load


def test_documents_are_bulk_loaded_and_the_marker_written_last(es: EsStandIn) -> None:
    docs = [{"_id": "1", "title": "Heat"}, json.dumps({"_id": "2", "title": "Ronin", "_type": "legacy"})]
    Load = make_task(es.port, docs)
    task = Load()
    assert not task.complete()
    assert luigi.build([task], local_scheduler=True)
    assert es.indices["movies"]["docs"] == {"1": {"title": "Heat"}, "2": {"title": "Ronin"}}
    assert es.indices["movies"]["mappings"] == {"properties": {"title": {"type": "text"}}}
    assert es.indices["movies"]["settings"] == {"index": {"refresh_interval": "1s"}}  # back on after the load
    marker = es.indices["update_log"]["docs"][task.output().marker_index_document_id()]
    assert marker["update_id"] == task.task_id and marker["target_index"] == "movies"
    marker_write = ("PUT", f"/update_log/_doc/{task.output().marker_index_document_id()}")
    assert es.requests.index(("PUT", "/_bulk") if ("PUT", "/_bulk") in es.requests else ("POST", "/_bulk")) < es.requests.index(marker_write)
    assert task.complete()


def test_a_failed_load_leaves_no_marker(es: EsStandIn) -> None:
    class Broken(make_task(es.port, [])):  # type: ignore[misc]
        def docs(self) -> list[Any]:
            return [42]  # neither a dict nor a JSON string

    task = Broken()
    assert not luigi.build([task], local_scheduler=True)
    assert not task.complete()


def test_history_keeps_the_newest_markers(es: EsStandIn) -> None:
    Load = make_task(es.port, [{"_id": "1", "title": "Heat"}], hist=1)
    for version in (1, 2, 3):
        assert luigi.build([Load(version=version)], local_scheduler=True)
    markers = es.indices["update_log"]["docs"]
    assert len(markers) == 1
    assert Load(version=3).complete() and not Load(version=1).complete()


def test_purge_recreates_the_index(es: EsStandIn) -> None:
    class Dump(make_task(es.port, [{"_id": "new", "title": "Only"}])):  # type: ignore[misc]
        purge_existing_index = True

    es.indices["movies"] = {"docs": {"old": {"title": "Stale"}}, "settings": {}, "mappings": {}}
    assert luigi.build([Dump()], local_scheduler=True)
    assert list(es.indices["movies"]["docs"]) == ["new"]


def test_target_with_a_url_host_and_auth(es: EsStandIn) -> None:
    target = ElasticsearchTarget(f"http://127.0.0.1:{es.port}", 0, "idx", "default", "u1", http_auth="user:secret")
    assert not target.exists()
    target.touch()
    assert target.exists()
