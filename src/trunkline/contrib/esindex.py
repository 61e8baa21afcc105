"""Elasticsearch: :class:`CopyToIndex` loads documents into an index; :class:`ElasticsearchTarget` marks it done.

The pattern is ``rdbms.CopyToTable``'s: the task bulk-indexes its documents,
then writes a marker document (id: sha1 of ``index:doc_type:update_id``) into
the marker index; the task is complete when the marker exists. The marker is
written only after the bulk load succeeded, so a failed load runs again.

The marker index comes from ``[elasticsearch] marker-index`` (default
``update_log``); ``marker_index_hist_size`` (0: keep all) trims the markers
kept per target index. ``pip install "trunkline[elasticsearch]"`` (the
elasticsearch 8+ client; Elasticsearch 7+ has no mapping types, so ``doc_type``
is recorded in the marker but not sent with documents).
"""

from __future__ import annotations

import abc
import datetime
import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import trunkline as luigi
import trunkline.configuration
from trunkline.contrib._optional import optional, require

logger = logging.getLogger("luigi-interface")

# Module-level names Luigi's module has; None when the client is absent.
elasticsearch: Any = optional("elasticsearch")
bulk: Any = getattr(optional("elasticsearch.helpers"), "bulk", None)
# Luigi passed this as connection_class (client < 8); the 8+ client picks its own HTTP node class.
Urllib3HttpConnection: Any = getattr(optional("elastic_transport"), "Urllib3HttpNode", None)


def _client_module() -> Any:
    return elasticsearch or require("elasticsearch", "elasticsearch", "Elasticsearch targets")


def _connect(host: str, port: int, http_auth: Any, timeout: float, extra: dict[str, Any]) -> Any:
    """An Elasticsearch client; ``host`` may be a name or a full URL (``https://es:9200``)."""
    es = _client_module()
    options = dict(extra)
    if "hosts" not in options:
        options["hosts"] = [host if "://" in str(host) else f"http://{host}:{port}"]
    if http_auth is not None and "basic_auth" not in options:
        options["basic_auth"] = tuple(http_auth.split(":", 1)) if isinstance(http_auth, str) else tuple(http_auth)
    options.setdefault("request_timeout", timeout)
    return es.Elasticsearch(**options)


class ElasticsearchTarget(luigi.Target):
    """Done once the marker document for ``update_id`` is in the marker index."""

    marker_index = luigi.configuration.get_config().get("elasticsearch", "marker-index", "update_log")
    marker_doc_type = luigi.configuration.get_config().get("elasticsearch", "marker-doc-type", "entry")

    def __init__(
        self,
        host: str,
        port: int,
        index: str,
        doc_type: str,
        update_id: str,
        marker_index_hist_size: int = 0,
        http_auth: Any = None,
        timeout: float = 10,
        extra_elasticsearch_args: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.http_auth = http_auth
        self.index = index
        self.doc_type = doc_type
        self.update_id = update_id
        self.marker_index_hist_size = marker_index_hist_size
        self.timeout = timeout
        self.extra_elasticsearch_args = extra_elasticsearch_args or {}
        self.es = _connect(host, port, http_auth, timeout, self.extra_elasticsearch_args)

    def marker_index_document_id(self) -> str:
        """The marker's id: sha1 of ``index:doc_type:update_id``."""
        return hashlib.sha1(f"{self.index}:{self.doc_type}:{self.update_id}".encode()).hexdigest()

    def touch(self) -> None:
        """Write the marker (with the update id, target index and type, and the time)."""
        self.create_marker_index()
        self.es.index(
            index=self.marker_index,
            id=self.marker_index_document_id(),
            document={
                "update_id": self.update_id,
                "target_index": self.index,
                "target_doc_type": self.doc_type,
                "date": datetime.datetime.now().isoformat(),
            },
        )
        self.es.indices.flush(index=self.marker_index)
        self.ensure_hist_size()

    def exists(self) -> bool:
        es = _client_module()
        try:
            self.es.get(index=self.marker_index, id=self.marker_index_document_id())
            return True
        except es.NotFoundError:
            logger.debug("Marker document not found.")
        except es.ApiError as err:
            logger.warning("Could not read the marker of %s: %s", self.update_id, err)
        return False

    def create_marker_index(self) -> None:
        """Create the marker index if missing, with keyword/date fields so markers can be sorted and matched."""
        if not self.es.indices.exists(index=self.marker_index):
            self.es.indices.create(
                index=self.marker_index,
                mappings={"properties": {"target_index": {"type": "keyword"}, "date": {"type": "date"}}},
            )

    def ensure_hist_size(self) -> None:
        """Keep only the newest ``marker_index_hist_size`` markers of this target index (0: all)."""
        if self.marker_index_hist_size == 0:
            return
        result = self.es.search(
            index=self.marker_index, query={"term": {"target_index": self.index}}, sort=[{"date": {"order": "desc"}}]
        )
        for position, hit in enumerate(result["hits"]["hits"], start=1):
            if position > self.marker_index_hist_size:
                self.es.delete(index=self.marker_index, id=hit["_id"])
        self.es.indices.flush(index=self.marker_index)


class CopyToIndex(luigi.Task):
    """Bulk-indexes ``docs()`` into ``index``. Override ``index`` and usually ``docs``.

    Options (properties to override): ``host`` (localhost), ``port`` (9200),
    ``http_auth``, ``doc_type``, ``settings``, ``mapping``, ``chunk_size``
    (2000), ``raise_on_error``, ``purge_existing_index`` (delete the index
    first: for full dumps), ``marker_index_hist_size``, ``timeout``,
    ``extra_elasticsearch_args`` (passed to ``Elasticsearch``).
    """

    @property
    def host(self) -> str:
        return "localhost"

    @property
    def port(self) -> int:
        return 9200

    @property
    def http_auth(self) -> Any:
        """``('user', 'password')`` or ``'user:password'``, or None."""
        return None

    @property
    @abc.abstractmethod
    def index(self) -> str:
        """The index to load; created if missing."""

    @property
    def doc_type(self) -> str:
        return "default"

    @property
    def mapping(self) -> dict[str, Any] | None:
        """Field mappings applied before loading (``{"properties": {...}}``), or None."""
        return None

    @property
    def settings(self) -> dict[str, Any]:
        """Index settings used when the index is created."""
        return {"settings": {}}

    @property
    def chunk_size(self) -> int:
        return 2000

    @property
    def raise_on_error(self) -> bool:
        return True

    @property
    def purge_existing_index(self) -> bool:
        return False

    @property
    def marker_index_hist_size(self) -> int:
        return 0

    @property
    def timeout(self) -> float:
        return 10

    @property
    def extra_elasticsearch_args(self) -> dict[str, Any]:
        return {}

    def docs(self) -> Iterable[Any]:
        """The documents: dicts or JSON strings (default: the lines of the input, as JSON)."""
        with self.input().open("r") as lines:
            yield from lines

    def _docs(self) -> Iterator[dict[str, Any]]:
        """Documents as dicts, each with its target ``_index``."""
        documents = iter(self.docs())
        first = next(documents, None)
        if first is None:
            return
        if not isinstance(first, (str, dict)):
            raise RuntimeError("Document must be either JSON strings or dict.")
        for document in itertools.chain([first], documents):
            doc = json.loads(document) if isinstance(document, str) else document
            doc.setdefault("_index", self.index)
            doc.pop("_type", None)  # mapping types do not exist in Elasticsearch 7+
            yield doc

    def _init_connection(self) -> Any:
        return _connect(self.host, self.port, self.http_auth, self.timeout, self.extra_elasticsearch_args)

    def create_index(self) -> None:
        """Create the index with ``settings`` if it does not exist."""
        es = self._init_connection()
        if not es.indices.exists(index=self.index):
            es.indices.create(index=self.index, **self.settings)

    def delete_index(self) -> None:
        es = self._init_connection()
        if es.indices.exists(index=self.index):
            es.indices.delete(index=self.index)

    def update_id(self) -> str:
        """What identifies this load in the marker index (the task id)."""
        return str(self.task_id)

    def output(self) -> ElasticsearchTarget:
        return ElasticsearchTarget(
            host=self.host,
            port=self.port,
            http_auth=self.http_auth,
            index=self.index,
            doc_type=self.doc_type,
            update_id=self.update_id(),
            marker_index_hist_size=self.marker_index_hist_size,
            timeout=self.timeout,
            extra_elasticsearch_args=self.extra_elasticsearch_args,
        )

    def run(self) -> None:
        """Purge (if asked), create, map, bulk-load with refresh off, refresh, then mark done."""
        if self.purge_existing_index:
            self.delete_index()
        self.create_index()
        es = self._init_connection()
        if self.mapping:
            es.indices.put_mapping(index=self.index, **self.mapping)
        # Refreshing after every chunk slows a bulk load down; refresh once at the end.
        es.indices.put_settings(index=self.index, settings={"index": {"refresh_interval": "-1"}})
        helper = bulk or require("elasticsearch.helpers", "elasticsearch", "CopyToIndex").bulk
        helper(es, self._docs(), chunk_size=self.chunk_size, raise_on_error=self.raise_on_error)
        es.indices.put_settings(index=self.index, settings={"index": {"refresh_interval": "1s"}})
        es.indices.refresh(index=self.index)
        self.output().touch()
