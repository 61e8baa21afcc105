"""Dropbox: :class:`DropboxTarget` and :class:`DropboxClient` (the official ``dropbox`` SDK).

Paths start with ``/`` and should not end with one (a trailing slash on an
existing folder costs an extra API call to resolve). With an "App folder"
token, ``/`` is the app's folder; with "Full Dropbox", the account's root.

Writes go to a local temporary file uploaded on close through an upload
session, committed in one call at the end: Dropbox shows the file only once
the session is finished, so readers never see a partial output, and a write
that raises uploads nothing. ``pip install "trunkline[dropbox]"``.
"""

from __future__ import annotations

import logging
import ntpath
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import trunkline as luigi
import trunkline.format
from trunkline.contrib._optional import optional, require
from trunkline.target import AtomicLocalFile, FileSystem, FileSystemTarget

logger = logging.getLogger("luigi-interface")

# Module-level name Luigi's module has (with dropbox.files, .exceptions, .dropbox_client loaded); None when absent.
dropbox: Any = optional("dropbox")
for _submodule in ("common", "dropbox_client", "exceptions", "files"):
    if dropbox is not None:
        optional(f"dropbox.{_submodule}")  # importing binds it as an attribute of the package

_F = TypeVar("_F", bound=Callable[..., Any])
_CHUNK_SIZE = 4 * 1000 * 1000  # bytes per upload-session call


def _sdk() -> Any:
    if dropbox is not None:
        return dropbox
    # Not installed when this module was imported: try again, naming the extra if still missing.
    module = require("dropbox", "dropbox", "DropboxClient")
    for submodule in ("common", "dropbox_client", "exceptions", "files"):
        require(f"dropbox.{submodule}", "dropbox", "DropboxClient")
    return module


def accept_trailing_slash_in_existing_dirpaths(func: _F) -> _F:
    """Strip a trailing slash when the path is an existing folder (costs one metadata call)."""

    @wraps(func)
    def wrapped(self: DropboxClient, path: str, *args: Any, **kwargs: Any) -> Any:
        if path != "/" and path.endswith("/"):
            logger.warning("Dropbox paths should NOT have trailing slashes. This causes additional API calls")
            logger.warning("Consider modifying your calls to %s, so that they don't use paths than end with '/'", func.__name__)
            if self._exists_and_is_dir(path[:-1]):
                path = path[:-1]
        return func(self, path, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


def accept_trailing_slash(func: _F) -> _F:
    """Strip a trailing slash before calling ``func``."""

    @wraps(func)
    def wrapped(self: DropboxClient, path: str, *args: Any, **kwargs: Any) -> Any:
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        return func(self, path, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _is_lookup_error(exc: Any) -> bool:
    sdk = _sdk()
    error = getattr(exc, "error", None)
    return error is not None and hasattr(error, "get_path") and isinstance(error.get_path(), sdk.files.LookupError)


class DropboxClient(FileSystem):
    """A Dropbox account reached with an OAuth2 ``token``; ``root_namespace_id`` selects a team space."""

    def __init__(self, token: str, user_agent: str = "Luigi", root_namespace_id: str | None = None) -> None:
        if not token:
            raise ValueError("The token parameter must contain a valid Dropbox Oauth2 Token")
        sdk = _sdk()
        try:
            conn = sdk.dropbox_client.Dropbox(oauth2_access_token=token, user_agent=user_agent)
        except Exception as exc:
            raise ConnectionError(f"Cannot connect to Dropbox. Check your Internet connection and the token.\n{exc!r}") from exc
        if root_namespace_id:
            conn = conn.with_path_root(sdk.common.PathRoot.root(root_namespace_id))
        self.token = token
        self.conn = conn

    @accept_trailing_slash_in_existing_dirpaths
    def exists(self, path: str) -> bool:
        if path == "/":
            return True
        if path.endswith("/"):
            return self._exists_and_is_dir(path[:-1])
        try:
            self.conn.files_get_metadata(path)
        except Exception as exc:
            if _is_lookup_error(exc):
                return False
            raise
        return True

    @accept_trailing_slash_in_existing_dirpaths
    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> bool:  # type: ignore[override]
        """Delete a file or folder (folders always recursively); False when there was nothing."""
        if not self.exists(path):
            return False
        self.conn.files_delete_v2(path)
        return True

    @accept_trailing_slash
    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if self.exists(path):
            if not self.isdir(path):
                raise luigi.target.NotADirectory(f"Cannot create folder {path}: a file is in the way")
            if raise_if_exists:
                raise luigi.target.FileAlreadyExists(f"Cannot create folder {path}: it already exists")
            return
        self.conn.files_create_folder_v2(path)

    @accept_trailing_slash_in_existing_dirpaths
    def isdir(self, path: str) -> bool:
        if path == "/":
            return True
        try:
            metadata = self.conn.files_get_metadata(path)
        except Exception as exc:
            if _is_lookup_error(exc):
                return False
            raise
        return isinstance(metadata, _sdk().files.FolderMetadata)

    @accept_trailing_slash_in_existing_dirpaths
    def listdir(self, path: str, **kwargs: Any) -> list[str]:
        """Every file and folder below ``path``, recursively, as display paths."""
        page = self.conn.files_list_folder(path, recursive=True, **kwargs)
        entries = list(page.entries)
        while page.has_more:
            page = self.conn.files_list_folder_continue(page.cursor)
            entries.extend(page.entries)
        return [entry.path_display for entry in entries]

    @accept_trailing_slash_in_existing_dirpaths
    def move(self, path: str, dest: str) -> None:
        self.conn.files_move_v2(from_path=path, to_path=dest)

    @accept_trailing_slash_in_existing_dirpaths
    def copy(self, path: str, dest: str) -> None:
        self.conn.files_copy_v2(from_path=path, to_path=dest)

    def download_as_bytes(self, path: str) -> bytes:
        _, response = self.conn.files_download(path)
        return bytes(response.content)

    def upload(self, tmp_path: str, dest_path: str) -> None:
        """Upload a local file through an upload session, committed (made visible) by the last call."""
        sdk = _sdk()
        file_size = os.path.getsize(tmp_path)
        with open(tmp_path, "rb") as source:
            started = self.conn.files_upload_session_start(source.read(_CHUNK_SIZE))
            commit = sdk.files.CommitInfo(path=dest_path)
            cursor = sdk.files.UploadSessionCursor(session_id=started.session_id, offset=source.tell())
            while file_size - source.tell() > _CHUNK_SIZE:
                self.conn.files_upload_session_append_v2(source.read(_CHUNK_SIZE), cursor)
                cursor.offset = source.tell()
            self.conn.files_upload_session_finish(source.read(_CHUNK_SIZE), cursor, commit)

    def _exists_and_is_dir(self, path: str) -> bool:
        """Whether ``path`` (without a trailing slash) is an existing folder."""
        if path == "/":
            return True
        try:
            metadata = self.conn.files_get_metadata(path)
        except Exception as exc:
            if isinstance(exc, _sdk().exceptions.ApiError):
                return False
            raise
        return isinstance(metadata, _sdk().files.FolderMetadata)


class ReadableDropboxFile:
    """A file in Dropbox, downloaded when first read, then read sequentially."""

    def __init__(self, path: str, client: DropboxClient) -> None:
        self.path = path
        self.client = client
        self.download_file_location = os.path.join(tempfile.gettempdir(), f"luigi-dropbox-{time.time()}", ntpath.basename(path))
        self.fid: Any = None
        self.closed = False
        self._data: bytes | None = None
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        if self._data is None:
            self._data = self.client.download_as_bytes(self.path)
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position : end]
        self._position += len(chunk)
        return chunk

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def flush(self) -> None:
        pass

    def __enter__(self) -> ReadableDropboxFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True
        self._data = None

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


class AtomicWritableDropboxFile(AtomicLocalFile):
    """A local temporary file uploaded to Dropbox on close."""

    def __init__(self, path: str, client: DropboxClient) -> None:
        super().__init__(path)
        self.path = path
        self.client = client

    def generate_tmp_path(self, path: str) -> str:
        return os.path.join(tempfile.gettempdir(), f"luigi-dropbox-tmp-{random.randrange(10_000_000_000):010d}")

    def move_to_final_destination(self) -> None:
        try:
            self.client.upload(self.tmp_path, self.path)
        finally:
            self._remove_temporary_file()


class DropboxTarget(FileSystemTarget):
    """A file in Dropbox; ``token`` is an OAuth2 token of an app with access to ``path``."""

    def __init__(
        self,
        path: str,
        token: str,
        format: trunkline.format.Format | None = None,
        user_agent: str = "Luigi",
        root_namespace_id: str | None = None,
    ) -> None:
        super().__init__(path)
        if not token:
            raise ValueError("The token parameter must contain a valid Dropbox Oauth2 Token")
        self.path = path
        self.token = token
        self.client = DropboxClient(token, user_agent, root_namespace_id)
        self.format = format or luigi.format.get_default_format()

    def __str__(self) -> str:
        return self.path

    @property
    def fs(self) -> DropboxClient:
        return self.client

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """A local path to write to; uploaded to ``path`` when the block ends without an error."""
        tmp_dir = tempfile.mkdtemp()
        temp_path = os.path.join(tmp_dir, f"luigi-tmp-{random.randrange(10_000_000_000):010d}{ntpath.basename(self.path)}")
        try:
            yield temp_path
            self.fs.upload(temp_path, self.path)
        finally:
            if os.path.exists(temp_path):
                os.remove(temp_path)
            os.rmdir(tmp_dir)

    def open(self, mode: str) -> Any:
        if mode not in ("r", "w"):
            raise ValueError(f"Unsupported open mode '{mode}'")
        if mode == "r":
            return self.format.pipe_reader(ReadableDropboxFile(self.path, self.client))
        return self.format.pipe_writer(AtomicWritableDropboxFile(self.path, self.client))
