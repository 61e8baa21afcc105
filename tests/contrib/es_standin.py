"""A stand-in Elasticsearch node: the REST calls the elasticsearch client sends for CopyToIndex.

In memory: index create/exists/delete/settings/mapping/flush/refresh, document
index/get/delete, ``_bulk`` (NDJSON index actions) and ``_search`` with a
``term`` query and a sort on one field. Replies carry the ``X-Elastic-Product``
header that the official client checks, and errors use Elasticsearch's error JSON.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class EsStandIn:
    def __init__(self) -> None:
        self.indices: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                standin.handle(self, "HEAD")

            def do_GET(self) -> None:
                standin.handle(self, "GET")

            def do_PUT(self) -> None:
                standin.handle(self, "PUT")

            def do_POST(self) -> None:
                standin.handle(self, "POST")

            def do_DELETE(self) -> None:
                standin.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EsStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
        self.requests.append((method, parts.path))

        def reply(code: int, payload: Any = None) -> None:
            data = b"" if method == "HEAD" or payload is None else json.dumps(payload).encode()
            request.send_response(code)
            request.send_header("X-Elastic-Product", "Elasticsearch")
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)

        def missing(what: str, kind: str = "index_not_found_exception") -> None:
            reply(404, {"error": {"type": kind, "reason": f"no such {what}"}, "status": 404})

        body: Any = json.loads(raw) if raw and segments[-1:] != ["_bulk"] else None

        if segments == ["_bulk"]:
            items = []
            lines = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
            for action, source in zip(lines[::2], lines[1::2]):
                meta = action["index"]
                index = self.indices.setdefault(meta["_index"], {"docs": {}, "settings": {}, "mappings": {}})
                doc_id = meta.get("_id") or str(len(index["docs"]))
                index["docs"][doc_id] = source
                items.append({"index": {"_index": meta["_index"], "_id": doc_id, "status": 201, "result": "created"}})
            return reply(200, {"took": 1, "errors": False, "items": items})
        if segments == ["_refresh"] or segments[1:] in (["_refresh"], ["_flush"]):
            return reply(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        name = segments[0] if segments else ""
        index = self.indices.get(name)
        if len(segments) == 1:
            if method == "HEAD":
                return reply(200 if index is not None else 404)
            if method == "PUT":
                if index is not None:
                    return reply(400, {"error": {"type": "resource_already_exists_exception"}, "status": 400})
                self.indices[name] = {"docs": {}, "settings": (body or {}).get("settings", {}),
                                      "mappings": (body or {}).get("mappings", {})}
                return reply(200, {"acknowledged": True, "index": name})
            if method == "DELETE":
                if index is None:
                    return missing(name)
                del self.indices[name]
                return reply(200, {"acknowledged": True})
        if index is None:
            return missing(name)
        if segments[1] == "_settings":
            index["settings"].update(body or {})
            return reply(200, {"acknowledged": True})
        if segments[1] == "_mapping":
            index["mappings"] = body
            return reply(200, {"acknowledged": True})
        if segments[1] == "_doc":
            doc_id = segments[2]
            if method == "PUT" or method == "POST":
                index["docs"][doc_id] = body
                return reply(201, {"_index": name, "_id": doc_id, "result": "created"})
            if doc_id not in index["docs"]:
                return reply(404, {"_index": name, "_id": doc_id, "found": False})
            if method == "DELETE":
                del index["docs"][doc_id]
                return reply(200, {"_index": name, "_id": doc_id, "result": "deleted"})
            return reply(200, {"_index": name, "_id": doc_id, "found": True, "_source": index["docs"][doc_id]})
        if segments[1] == "_search":
            term = (body or {}).get("query", {}).get("term", {})
            hits = [
                {"_index": name, "_id": doc_id, "_source": doc}
                for doc_id, doc in index["docs"].items()
                if all(doc.get(field) == value for field, value in term.items())
            ]
            for rule in (body or {}).get("sort", []):
                (field, order), = rule.items()
                hits.sort(key=lambda hit: hit["_source"][field], reverse=order["order"] == "desc")
            return reply(200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}})
        reply(400, {"error": {"type": "illegal_argument_exception", "reason": f"{method} {parts.path}"}, "status": 400})
