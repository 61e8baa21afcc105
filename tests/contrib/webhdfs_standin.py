"""A stand-in WebHDFS namenode+datanode: the REST API of Hadoop's WebHDFS, over a local directory.

Implements what HdfsCLI (the ``hdfs`` package) sends for the operations
trunkline's clients use: GETFILESTATUS, LISTSTATUS, GETCONTENTSUMMARY, MKDIRS,
RENAME, DELETE, and CREATE/OPEN with the namenode's 307 redirect to a
"datanode" URL (this same server) that carries the bytes. Booleans are case-insensitive, as in Hadoop. Errors come back as
WebHDFS ``RemoteException`` JSON. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

PREFIX = "/webhdfs/v1"


def read_body(request: BaseHTTPRequestHandler) -> bytes:
    """The request body, sent with a Content-Length or chunked (HdfsCLI streams uploads chunked)."""
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                request.rfile.readline()  # the blank line after the last chunk
                return body
            body += request.rfile.read(size)
            request.rfile.readline()  # CRLF after each chunk
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


class WebHdfsStandIn:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

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

    def __enter__(self) -> WebHdfsStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- protocol --------------------------------------------------------------

    def local(self, hdfs_path: str) -> Path:
        return self.root / hdfs_path.lstrip("/")

    def status(self, path: Path, suffix: str = "") -> dict[str, Any]:
        stat = path.stat()
        return {
            "pathSuffix": suffix,
            "type": "DIRECTORY" if path.is_dir() else "FILE",
            "length": 0 if path.is_dir() else stat.st_size,
            "owner": "luigi",
            "group": "supergroup",
            "permission": "755",
            "modificationTime": int(stat.st_mtime * 1000),
            "accessTime": int(stat.st_atime * 1000),
            "blockSize": 134217728,
            "replication": 1,
        }

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        hdfs_path = parts.path[len(PREFIX):] or "/"
        self.requests.append((method, hdfs_path, query))
        op = query.get("op", "").upper()
        path = self.local(hdfs_path)
        body = read_body(request)

        def reply(code: int, payload: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
            data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else b"")
            request.send_response(code)
            request.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)

        def not_found() -> None:
            reply(404, {"RemoteException": {
                "exception": "FileNotFoundException", "javaClassName": "java.io.FileNotFoundException",
                "message": f"File does not exist: {hdfs_path}"}})

        def redirect() -> None:
            location = f"http://127.0.0.1:{self.port}{PREFIX}{quote(hdfs_path)}?{parts.query}&datanode=true"
            reply(307, headers={"Location": location})

        if op == "GETFILESTATUS":
            return reply(200, {"FileStatus": self.status(path)}) if path.exists() else not_found()
        if op == "LISTSTATUS":
            if not path.exists():
                return not_found()
            entries = [self.status(p, p.name) for p in sorted(path.iterdir())] if path.is_dir() else [self.status(path)]
            return reply(200, {"FileStatuses": {"FileStatus": entries}})
        if op == "GETCONTENTSUMMARY":
            if not path.exists():
                return not_found()
            files = [p for p in path.rglob("*") if p.is_file()]
            return reply(200, {"ContentSummary": {
                "directoryCount": 1 + sum(p.is_dir() for p in path.rglob("*")), "fileCount": len(files),
                "length": sum(p.stat().st_size for p in files), "quota": -1, "spaceConsumed": 0, "spaceQuota": -1}})
        if op == "MKDIRS":
            path.mkdir(parents=True, exist_ok=True)
            return reply(200, {"boolean": True})
        if op == "RENAME":
            dest = self.local(query["destination"])
            if not path.exists() or not dest.parent.exists():
                return reply(200, {"boolean": False})
            if dest.is_dir():
                dest = dest / path.name
            if dest.exists():
                return reply(200, {"boolean": False})
            path.rename(dest)
            return reply(200, {"boolean": True})
        if op == "DELETE":
            if not path.exists():
                return reply(200, {"boolean": False})
            if path.is_dir():
                if query.get("recursive", "").lower() != "true" and any(path.iterdir()):
                    return reply(403, {"RemoteException": {"exception": "PathIsNotEmptyDirectoryException",
                                                           "message": f"{hdfs_path} is non empty"}})
                shutil.rmtree(path)
            else:
                path.unlink()
            return reply(200, {"boolean": True})
        if op == "CREATE":
            if "datanode" not in query:
                if path.exists() and query.get("overwrite", "").lower() != "true":
                    return reply(403, {"RemoteException": {"exception": "FileAlreadyExistsException",
                                                           "message": f"{hdfs_path} already exists"}})
                return redirect()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            return reply(201, headers={"Location": f"hdfs://namenode{hdfs_path}"})
        if op == "OPEN":
            if not path.is_file():
                return not_found()
            if "datanode" not in query:
                return redirect()
            data = path.read_bytes()
            offset = int(query.get("offset", 0))
            end = offset + int(query["length"]) if "length" in query else len(data)
            return reply(200, raw=data[offset:end])
        reply(400, {"RemoteException": {"exception": "IllegalArgumentException", "message": f"op {op} not supported"}})
