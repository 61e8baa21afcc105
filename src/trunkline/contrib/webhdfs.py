""":class:`WebHdfsTarget`: a file on HDFS reached over WebHDFS (REST) without Hadoop installed.

Kept for code that uses it; new code can use ``HdfsTarget`` with ``[hdfs]
client = webhdfs``, which shares the rest of the HDFS integration. Writes go to
a local temporary file, are uploaded beside the destination on close and
renamed into place (WebHDFS RENAME is atomic); like Luigi's, an existing file
is not overwritten. ``pip install "trunkline[hdfs]"``.
"""

from __future__ import annotations

import logging
import posixpath
import random
from collections.abc import Iterator
from typing import Any

import trunkline as luigi
import trunkline.contrib.hdfs
from trunkline.format import Format, get_default_format
from trunkline.target import AtomicLocalFile, FileSystemTarget

logger = logging.getLogger("luigi-interface")

WebHdfsClient = luigi.contrib.hdfs.WebHdfsClient

_CHUNK = 64 * 1024


class WebHdfsTarget(FileSystemTarget):
    """A file on HDFS; ``client`` defaults to a WebHdfsClient from the configuration."""

    fs: Any = None

    def __init__(self, path: str, client: Any = None, format: Format | None = None) -> None:
        super().__init__(path)
        self.fs = client or WebHdfsClient()
        self.format = format if format is not None else get_default_format()

    def open(self, mode: str = "r") -> Any:
        if mode not in ("r", "w"):
            raise ValueError(f"Unsupported open mode '{mode}'")
        if mode == "r":
            return self.format.pipe_reader(ReadableWebHdfsFile(path=self.path, client=self.fs))
        return self.format.pipe_writer(AtomicWebHdfsFile(path=self.path, client=self.fs))


class ReadableWebHdfsFile:
    """The bytes of a file, streamed from WebHDFS OPEN; iterating yields lines."""

    def __init__(self, path: str, client: Any) -> None:
        self.path = path
        self.client = client
        self.generator: Any = None
        self.closed = False
        self._pending = b""

    def _chunks(self) -> Iterator[bytes]:
        with self.client.client.read(self.path, chunk_size=_CHUNK) as chunks:
            yield from chunks

    def read(self, size: int = -1) -> bytes:
        if self.generator is None:
            self.generator = self._chunks()
        data = self._pending
        while size < 0 or len(data) < size:
            chunk = next(self.generator, b"")
            if not chunk:
                break
            data += chunk
        if size >= 0:
            data, self._pending = data[:size], data[size:]
        else:
            self._pending = b""
        return data

    def readlines(self, char: str = "\n") -> Iterator[bytes]:
        """Lines (split after ``char``) as they arrive."""
        separator = char.encode()
        pending = b""
        for chunk in self._chunks():
            pending += chunk
            *lines, pending = pending.split(separator)
            for line in lines:
                yield line + separator
        if pending:
            yield pending

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def __enter__(self) -> ReadableWebHdfsFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        self.generator = self.readlines("\n")
        yield from self.generator
        self.close()

    def close(self) -> None:
        if self.generator is not None:
            self.generator.close()
        self.closed = True


class AtomicWebHdfsFile(AtomicLocalFile):
    """A local temporary file uploaded on close: to a sibling path, then renamed into place."""

    def __init__(self, path: str, client: Any) -> None:
        self.client = client
        super().__init__(path)

    def move_to_final_destination(self) -> None:
        try:
            if self.client.exists(self.path):
                logger.warning("Not overwriting %s: it already exists on HDFS", self.path)
                return
            sibling = posixpath.join(
                posixpath.dirname(self.path) or "/",
                f".{posixpath.basename(self.path)}-luigi-tmp-{random.randrange(10_000_000_000):010d}",
            )
            self.client.upload(sibling, self.tmp_path)
            self.client.move(sibling, self.path)
        finally:
            self._remove_temporary_file()
