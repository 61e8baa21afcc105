"""Google Cloud Storage: :class:`GCSTarget`, :class:`GCSFlagTarget` and :class:`GCSClient`.

Paths are ``gs://bucket/key``; as on S3, a "directory" is a key prefix or an
empty ``<key>/`` object. ``GCSClient.client`` is the Google API client
(``googleapiclient.discovery.build("storage", "v1")``) for anything not wrapped
here; extra keyword arguments of ``GCSClient`` go to ``build`` (for example
``client_options={"api_endpoint": ...}`` for an emulator).

Writes go to a local temporary file uploaded on close (resumable, in
``chunksize`` pieces); GCS makes an object visible only when its upload
completes, so readers never see a partial output, and a write that raises
uploads nothing. Calls that fail with a 5xx answer or a connection error are
retried (5 attempts, exponential backoff). ``pip install "trunkline[gcs]"``.
"""

from __future__ import annotations

import functools
import io
import logging
import mimetypes
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any, TypeVar
from urllib.parse import urlsplit

import trunkline as luigi
import trunkline.format
import trunkline.target
from trunkline.contrib import gcp
from trunkline.contrib._optional import optional, require
from trunkline.format import FileWrapper

logger = logging.getLogger("luigi-interface")

# Module-level names Luigi's module has; None when the Google API client is absent.
httplib2 = optional("httplib2")
discovery = optional("googleapiclient.discovery")
errors = optional("googleapiclient.errors")
http = optional("googleapiclient.http")
# Luigi's module imported these tenacity helpers; they stay reachable here for code that
# imports them from this module (None without tenacity). gcs_retry below needs no tenacity.
_tenacity = optional("tenacity")
after_log: Any = getattr(_tenacity, "after_log", None)
retry: Any = getattr(_tenacity, "retry", None)
retry_if_exception: Any = getattr(_tenacity, "retry_if_exception", None)
retry_if_exception_type: Any = getattr(_tenacity, "retry_if_exception_type", None)
stop_after_attempt: Any = getattr(_tenacity, "stop_after_attempt", None)
wait_exponential: Any = getattr(_tenacity, "wait_exponential", None)
RETRYABLE_ERRORS: tuple[type[BaseException], ...] | None = (
    (httplib2.HttpLib2Error, IOError) if httplib2 is not None else None
)

CHUNKSIZE = 10 * 1024 * 1024  # bytes per upload/download request
DEFAULT_MIMETYPE = "application/octet-stream"
# GCS is strongly consistent today; these bound the wait kept for older buckets and emulators.
EVENTUAL_CONSISTENCY_SLEEP_INTERVAL = 0.1
EVENTUAL_CONSISTENCY_MAX_SLEEPS = 300
GCS_BATCH_URI = "https://storage.googleapis.com/batch/storage/v1"

_RETRY_ATTEMPTS = 5
_F = TypeVar("_F", bound=Callable[..., Any])


def _api(module: str) -> Any:
    return require(f"googleapiclient.{module}", "gcs", "GCSClient")


def is_error_5xx(err: BaseException) -> bool:
    http_error = getattr(errors, "HttpError", None)
    return http_error is not None and isinstance(err, http_error) and err.resp.status >= 500


def _retryable(err: BaseException) -> bool:
    return is_error_5xx(err) or isinstance(err, RETRYABLE_ERRORS or (IOError,))


def gcs_retry(function: _F) -> _F:
    """Retry ``function`` on server errors and connection failures: 5 attempts, waits 1, 2, 4, 8 s."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, _RETRY_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                if attempt == _RETRY_ATTEMPTS or not _retryable(exc):
                    raise
                wait = min(10, 2 ** (attempt - 1))
                logger.warning("%s failed (%s); retry %d in %ss", function.__name__, exc, attempt, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


def _wait_for_consistency(checker: Callable[[], bool]) -> None:
    """Wait until ``checker()`` holds, for stores that show a change only after a moment."""
    for _ in range(EVENTUAL_CONSISTENCY_MAX_SLEEPS):
        if checker():
            return
        time.sleep(EVENTUAL_CONSISTENCY_SLEEP_INTERVAL)
    logger.warning("Exceeded wait for eventual GCS consistency - this may be a bug in the library or something is terribly wrong.")


def _is_not_found(exc: BaseException) -> bool:
    http_error = getattr(errors, "HttpError", None)
    return http_error is not None and isinstance(exc, http_error) and str(exc.resp["status"]) == "404"


class InvalidDeleteException(luigi.target.FileSystemException):
    """A delete GCSClient refuses: a bucket root, or a directory without ``recursive``."""


class GCSClient(luigi.target.FileSystem):
    """GCS through the Google API client.

    Credentials: ``oauth_credentials`` (a google-auth credentials object), or an
    authorised ``http_``, else the application default credentials.
    ``descriptor`` is the storage discovery document, to build the client
    without the bundled one.
    """

    def __init__(
        self,
        oauth_credentials: Any = None,
        descriptor: str | dict[str, Any] = "",
        http_: Any = None,
        chunksize: int = CHUNKSIZE,
        **discovery_build_kwargs: Any,
    ) -> None:
        self.chunksize = chunksize
        build_kwargs = gcp.get_authenticate_kwargs(oauth_credentials, http_)
        build_kwargs.update(discovery_build_kwargs)
        api = discovery or _api("discovery")
        if descriptor:
            self.client = api.build_from_document(descriptor, **build_kwargs)
        else:
            build_kwargs.setdefault("cache_discovery", False)
            self.client = api.build("storage", "v1", **build_kwargs)

    def _path_to_bucket_and_key(self, path: str) -> tuple[str, str]:
        scheme, netloc, key, _, _ = urlsplit(path)
        if scheme != "gs":
            raise ValueError(f"Not a GCS path (gs://bucket/key): {path!r}")
        return netloc, key[1:]

    def _is_root(self, key: str) -> bool:
        return key in ("", "/")

    def _add_path_delimiter(self, key: str) -> str:
        return key if key.endswith("/") else key + "/"

    @gcs_retry
    def _obj_exists(self, bucket: str, obj: str) -> bool:
        try:
            self.client.objects().get(bucket=bucket, object=obj).execute()
        except Exception as exc:
            if _is_not_found(exc):
                return False
            raise
        return True

    def _list_iter(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        objects = self.client.objects()
        request = objects.list(bucket=bucket, prefix=prefix)
        while request is not None:
            response = request.execute()
            yield from response.get("items", [])
            request = objects.list_next(request, response)

    @gcs_retry
    def _do_put(self, media: Any, dest_path: str) -> Any:
        bucket, obj = self._path_to_bucket_and_key(dest_path)
        request = self.client.objects().insert(bucket=bucket, name=obj, media_body=media)
        if not media.resumable():
            return request.execute()
        response = None
        while response is None:
            status, response = request.next_chunk()
            if status:
                logger.debug("Upload progress: %.2f%%", 100 * status.progress())
        _wait_for_consistency(lambda: self._obj_exists(bucket, obj))
        return response

    def exists(self, path: str) -> bool:
        bucket, obj = self._path_to_bucket_and_key(path)
        return self._obj_exists(bucket, obj) or self.isdir(path)

    def isdir(self, path: str) -> bool:
        bucket, obj = self._path_to_bucket_and_key(path)
        if self._is_root(obj):
            try:
                self.client.buckets().get(bucket=bucket).execute()
            except Exception as exc:
                if _is_not_found(exc):
                    return False
                raise
            return True  # a bucket is the root directory
        prefix = self._add_path_delimiter(obj)
        if self._obj_exists(bucket, prefix):
            return True
        response = self.client.objects().list(bucket=bucket, prefix=prefix, maxResults=20).execute()
        return bool(response.get("items"))

    def remove(self, path: str, recursive: bool = True) -> bool:  # type: ignore[override]
        """Delete an object, or with ``recursive`` everything below a prefix; False if nothing was there."""
        bucket, obj = self._path_to_bucket_and_key(path)
        if self._is_root(obj):
            raise InvalidDeleteException(f"Cannot delete root of bucket at path {path}")
        if self._obj_exists(bucket, obj):
            self.client.objects().delete(bucket=bucket, object=obj).execute()
            _wait_for_consistency(lambda: not self._obj_exists(bucket, obj))
            return True
        if not self.isdir(path):
            return False
        if not recursive:
            raise InvalidDeleteException(f"Path {path} is a directory. Must use recursive delete")
        # One request per object, to the client's own endpoint (a batch request
        # would go to GCS_BATCH_URI, which an emulator or private endpoint is not).
        for item in list(self._list_iter(bucket, self._add_path_delimiter(obj))):
            self.client.objects().delete(bucket=bucket, object=item["name"]).execute()
        _wait_for_consistency(lambda: not self.isdir(path))
        return True

    def put(self, filename: str, dest_path: str, mimetype: str | None = None, chunksize: int | None = None) -> None:
        """Upload a local file (resumable unless empty); the type is guessed from the name."""
        chunksize = chunksize or self.chunksize
        resumable = os.path.getsize(filename) > 0
        mimetype = mimetype or mimetypes.guess_type(dest_path)[0] or DEFAULT_MIMETYPE
        media = (http or _api("http")).MediaFileUpload(filename, mimetype=mimetype, chunksize=chunksize, resumable=resumable)
        self._do_put(media, dest_path)

    def _forward_args_to_put(self, kwargs: dict[str, Any]) -> None:
        return self.put(**kwargs)

    def put_multiple(
        self,
        filepaths: list[str],
        remote_directory: str,
        mimetype: str | None = None,
        chunksize: int | None = None,
        num_process: int = 1,
    ) -> Any:
        """Upload local files into ``remote_directory`` (by ``num_process`` processes)."""
        if isinstance(filepaths, str):
            raise ValueError(
                "filenames must be a list of strings. If you want to put a single file, "
                "use the `put(self, filename, ...)` method"
            )
        jobs = [
            {"filename": p, "dest_path": os.path.join(remote_directory, os.path.basename(p)),
             "mimetype": mimetype, "chunksize": chunksize}
            for p in filepaths
        ]
        if num_process > 1:
            from contextlib import closing
            from multiprocessing import Pool

            with closing(Pool(num_process)) as pool:
                return pool.map(self._forward_args_to_put, jobs)
        for job in jobs:
            self._forward_args_to_put(job)
        return None

    def put_string(self, contents: str | bytes, dest_path: str, mimetype: str | None = None) -> None:
        mimetype = mimetype or mimetypes.guess_type(dest_path)[0] or DEFAULT_MIMETYPE
        data = contents if isinstance(contents, bytes) else contents.encode("utf-8")
        media = (http or _api("http")).MediaIoBaseUpload(BytesIO(data), mimetype, resumable=bool(data))
        self._do_put(media, dest_path)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Create the empty ``<key>/`` object that marks a directory."""
        if self.exists(path):
            if raise_if_exists:
                raise luigi.target.FileAlreadyExists(f"Cannot create {path}: it already exists")
            if not self.isdir(path):
                raise luigi.target.NotADirectory(f"Cannot create {path}: an object is in the way")
            return
        self.put_string(b"", self._add_path_delimiter(path), mimetype="text/plain")

    def copy(self, source_path: str, destination_path: str) -> None:
        """Copy an object or every object below a prefix (server side)."""
        src_bucket, src_obj = self._path_to_bucket_and_key(source_path)
        dest_bucket, dest_obj = self._path_to_bucket_and_key(destination_path)
        if self.isdir(source_path):
            src_prefix = self._add_path_delimiter(src_obj)
            dest_prefix = self._add_path_delimiter(dest_obj)
            source_dir = self._add_path_delimiter(source_path)
            copied = []
            for path in self.listdir(source_dir):
                suffix = path[len(source_dir) :]
                self.client.objects().copy(
                    sourceBucket=src_bucket, sourceObject=src_prefix + suffix,
                    destinationBucket=dest_bucket, destinationObject=dest_prefix + suffix, body={},
                ).execute()
                copied.append(dest_prefix + suffix)
            _wait_for_consistency(lambda: all(self._obj_exists(dest_bucket, o) for o in copied))
            return
        self.client.objects().copy(
            sourceBucket=src_bucket, sourceObject=src_obj, destinationBucket=dest_bucket, destinationObject=dest_obj, body={}
        ).execute()
        _wait_for_consistency(lambda: self._obj_exists(dest_bucket, dest_obj))

    def rename(self, *args: Any, **kwargs: Any) -> None:
        """Same as :meth:`move`."""
        self.move(*args, **kwargs)

    def move(self, source_path: str, destination_path: str) -> None:
        """Copy, then delete the source (GCS has no rename)."""
        self.copy(source_path, destination_path)
        self.remove(source_path)

    def listdir(self, path: str) -> Iterator[str]:
        """Every object below ``path``, as ``gs://`` paths."""
        bucket, obj = self._path_to_bucket_and_key(path)
        prefix = self._add_path_delimiter(obj)
        if self._is_root(prefix):
            prefix = ""
        base = self._add_path_delimiter(path)
        for item in self._list_iter(bucket, prefix):
            yield base + item["name"][len(prefix) :]

    def list_wildcard(self, wildcard_path: str) -> Iterator[str]:
        """Objects matching one ``*`` in the last path component (``gs://b/dir/part-*.csv``)."""
        path, pattern = wildcard_path.rsplit("/", 1)
        if "*" in path:
            raise ValueError("The '*' wildcard character is only supported after the last '/'")
        parts = pattern.split("*")
        if len(parts) != 2:
            raise ValueError("Only one '*' wildcard is supported")
        head, tail = f"{path}/{parts[0]}", parts[1]
        for item in self.listdir(path):
            if item.startswith(head) and item.endswith(tail) and len(item) >= len(head) + len(tail):
                yield item

    @gcs_retry
    def download(self, path: str, chunksize: int | None = None, chunk_callback: Callable[[Any], bool] = lambda _: False) -> Any:
        """Download to a local temporary file, returned open for reading (deleted on close).

        Stops early after the first chunk for which ``chunk_callback(file)`` is True.
        """
        chunksize = chunksize or self.chunksize
        bucket, obj = self._path_to_bucket_and_key(path)
        with tempfile.NamedTemporaryFile(delete=False) as sink:
            result = _DeleteOnCloseFile(sink.name, "r")
            metadata = self.client.objects().get(bucket=bucket, object=obj).execute()
            if int(metadata["size"]) == 0:
                return result
            request = self.client.objects().get_media(bucket=bucket, object=obj)
            downloader = (http or _api("http")).MediaIoBaseDownload(sink, request, chunksize=chunksize)
            done = False
            while not done:
                _, done = downloader.next_chunk()
                if chunk_callback(sink):
                    break
        return result


class _DeleteOnCloseFile(io.FileIO):
    """A downloaded temporary file that removes itself when closed."""

    def close(self) -> None:
        super().close()
        try:
            os.remove(self.name)
        except OSError:
            pass

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return True


class AtomicGCSFile(luigi.target.AtomicLocalFile):
    """A local temporary file uploaded to GCS on close."""

    def __init__(self, path: str, gcs_client: GCSClient) -> None:
        self.gcs_client = gcs_client
        super().__init__(path)

    def move_to_final_destination(self) -> None:
        try:
            self.gcs_client.put(self.tmp_path, self.path)
        finally:
            self._remove_temporary_file()


class GCSTarget(luigi.target.FileSystemTarget):
    """An object on GCS."""

    fs: Any = None

    def __init__(self, path: str, format: trunkline.format.Format | None = None, client: GCSClient | None = None) -> None:
        super().__init__(path)
        self.format = format if format is not None else luigi.format.get_default_format()
        self.fs = client or GCSClient()

    def open(self, mode: str = "r") -> Any:
        if mode == "r":
            return self.format.pipe_reader(FileWrapper(io.BufferedReader(self.fs.download(self.path))))
        if mode == "w":
            return self.format.pipe_writer(AtomicGCSFile(self.path, self.fs))
        raise ValueError(f"Unsupported open mode '{mode}'")


class GCSFlagTarget(GCSTarget):
    """A directory of outputs that is complete once its flag object (``_SUCCESS``) exists."""

    fs: Any = None

    def __init__(
        self, path: str, format: trunkline.format.Format | None = None, client: GCSClient | None = None, flag: str = "_SUCCESS"
    ) -> None:
        if path[-1:] != "/":
            raise ValueError("GCSFlagTarget requires the path to be to a directory.  It must end with a slash ( / ).")
        super().__init__(path, format=format, client=client)
        self.flag = flag

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path + self.flag))
