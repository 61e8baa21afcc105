"""A stand-in for the Google Cloud Storage JSON API (v1), in memory, on 127.0.0.1.

Speaks what the Google API client sends for the calls GCSClient makes:
buckets.get; objects.get (metadata, and ``alt=media`` with Range requests),
list (with ``prefix``, ``maxResults`` and ``pageToken`` paging), delete, copy;
and uploads (``uploadType=media`` and the two-step ``uploadType=resumable``
protocol with ``Content-Range`` chunks answered by 308 until complete).
Errors are the API's ``{"error": {"code", "message"}}`` JSON. Every request is
recorded in ``requests``.

It serves HTTPS with a certificate made for 127.0.0.1 (``cert_file``), because
the Google API client keeps ``https`` for upload URLs whatever endpoint it is
given; clients trust it with ``httplib2.Http(ca_certs=standin.cert_file)``.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class GcsStandIn:
    def __init__(self, cert_dir: str, buckets: tuple[str, ...] = ("bucket",)) -> None:
        self.buckets = set(buckets)
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin.handle(self, "GET")

            def do_POST(self) -> None:
                standin.handle(self, "POST")

            def do_PUT(self) -> None:
                standin.handle(self, "PUT")

            def do_DELETE(self) -> None:
                standin.handle(self, "DELETE")

        self.cert_file = f"{cert_dir}/cert.pem"
        key_file = f"{cert_dir}/key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key_file, "-out", self.cert_file],
            check=True, capture_output=True,
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.endpoint = f"https://127.0.0.1:{self.port}/storage/v1/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GcsStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def resource(self, bucket: str, name: str) -> dict[str, Any]:
        data, content_type = self.objects[(bucket, name)]
        return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(data)),
                "contentType": content_type, "id": f"{bucket}/{name}"}

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.requests.append((method, request.path))

        def reply(code: int, payload: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None) -> None:
            data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else b"")
            request.send_response(code)
            request.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
            for key, value in (headers or {}).items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)

        def error(code: int, message: str) -> None:
            reply(code, {"error": {"code": code, "message": message, "errors": [{"message": message}]}})

        path = parts.path
        with self.lock:
            if match := re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", path):
                bucket = match[1]
                if bucket not in self.buckets:
                    return error(404, "The specified bucket does not exist.")
                name = query.get("name") or json.loads(body or b"{}").get("name")
                content_type = request.headers.get("X-Upload-Content-Type") or request.headers.get("Content-Type") or ""
                if query.get("uploadType") == "resumable":
                    upload_id = uuid.uuid4().hex
                    self.uploads[upload_id] = {"bucket": bucket, "name": name, "data": b"", "type": content_type}
                    location = f"https://127.0.0.1:{self.port}/upload/resumable/{upload_id}"
                    return reply(200, {}, headers={"Location": location})
                self.objects[(bucket, name)] = (body, content_type)
                return reply(200, self.resource(bucket, name))
            if match := re.fullmatch(r"/upload/resumable/(\w+)", path):
                upload = self.uploads[match[1]]
                upload["data"] += body
                total = re.search(r"/(\d+|\*)$", request.headers.get("Content-Range", ""))
                if total and total[1] != "*" and len(upload["data"]) >= int(total[1]):
                    self.objects[(upload["bucket"], upload["name"])] = (upload["data"], upload["type"])
                    del self.uploads[match[1]]
                    return reply(200, self.resource(upload["bucket"], upload["name"]))
                return reply(308, headers={"Range": f"bytes=0-{len(upload['data']) - 1}"})
            if match := re.fullmatch(r"/storage/v1/b/([^/]+)", path):
                return reply(200, {"name": match[1]}) if match[1] in self.buckets else error(404, "Not Found")
            if match := re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)/copyTo/b/([^/]+)/o/(.+)", path):
                source = (match[1], unquote(match[2]))
                if source not in self.objects:
                    return error(404, f"No such object: {source[0]}/{source[1]}")
                destination = (match[3], unquote(match[4]))
                self.objects[destination] = self.objects[source]
                return reply(200, self.resource(*destination))
            if match := re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path):
                key = (match[1], unquote(match[2]))
                if key not in self.objects:
                    return error(404, f"No such object: {key[0]}/{key[1]}")
                if method == "DELETE":
                    del self.objects[key]
                    return reply(204)
                if query.get("alt") == "media":
                    data = self.objects[key][0]
                    start, end = 0, len(data) - 1
                    if ranged := re.match(r"bytes=(\d+)-(\d*)", request.headers.get("Range", "")):
                        start = int(ranged[1])
                        end = min(int(ranged[2]) if ranged[2] else end, len(data) - 1)
                    return reply(206, raw=data[start:end + 1], headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})
                return reply(200, self.resource(*key))
            if match := re.fullmatch(r"/storage/v1/b/([^/]+)/o", path):
                bucket, prefix = match[1], query.get("prefix", "")
                names = sorted(n for b, n in self.objects if b == bucket and n.startswith(prefix))
                start = int(query.get("pageToken", 0))
                size = int(query.get("maxResults", 1000))
                page = names[start:start + size]
                payload: dict[str, Any] = {"kind": "storage#objects", "items": [self.resource(bucket, n) for n in page]}
                if start + size < len(names):
                    payload["nextPageToken"] = str(start + size)
                return reply(200, payload)
        error(400, f"{method} {path} is not supported by the stand-in")
