"""Amazon S3: :class:`S3Target`, :class:`S3FlagTarget` and the boto3-backed :class:`S3Client`.

Paths are ``s3://bucket/key``. S3 has no directories: a "directory" is a key
prefix, an empty object whose key ends in ``/``, or Hadoop's ``<key>_$folder$``
marker; all three count.

Writes go to a local temporary file and are uploaded by one (multipart)
upload on close. S3 makes an object visible only when its upload completes,
so readers never see a partial output, and a write that raises uploads
nothing.

Client options come from the ``[s3]`` configuration section (every key is
passed to ``boto3.resource('s3', ...)``, numbers as ints), then from keyword
arguments. ``aws_role_arn`` with ``aws_role_session_name`` assumes a role via
STS first. boto3 itself is needed only when the client is used:
``pip install "trunkline[s3]"``.
"""

from __future__ import annotations

import datetime
import io
import itertools
import logging
import os
import os.path
import warnings
from collections.abc import Iterator
from configparser import NoSectionError
from multiprocessing.pool import ThreadPool
from typing import Any
from urllib.parse import urlsplit

from trunkline import configuration
from trunkline.contrib._optional import optional, require
from trunkline.format import Format, get_default_format
from trunkline.parameter import OptionalParameter, Parameter
from trunkline.target import (
    AtomicLocalFile,
    FileAlreadyExists,
    FileSystem,
    FileSystemException,
    FileSystemTarget,
    MissingParentDirectory,
)
from trunkline.task import ExternalTask

logger = logging.getLogger("luigi-interface")

# Module-level names Luigi's module has; None when boto3 is not installed.
botocore = optional("botocore")
_transfer = optional("boto3.s3.transfer")
TransferConfig: Any = getattr(_transfer, "TransferConfig", None)

# The two ways a "directory" is marked by an object of its own.
S3_DIRECTORY_MARKER_SUFFIX_0 = "_$folder$"
S3_DIRECTORY_MARKER_SUFFIX_1 = "/"

_NOT_FOUND_CODES = ("NoSuchKey", "404")
_DELETE_BATCH = 1000  # DeleteObjects accepts at most this many keys per call


class InvalidDeleteException(FileSystemException):
    """A delete that S3Client refuses: a bucket root, or a directory without ``recursive``."""


class FileNotFoundException(FileSystemException):
    """The object to read does not exist."""


class DeprecatedBotoClientException(Exception):
    """An argument of the boto2-era client was given (``encrypt_key``, ``host``)."""


def _boto3() -> Any:
    return require("boto3", "s3", "S3Client")


def _transfer_config(**kwargs: Any) -> Any:
    return require("boto3.s3.transfer", "s3", "S3Client").TransferConfig(**kwargs)


def _is_not_found(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in _NOT_FOUND_CODES


class S3Client(FileSystem):
    """S3 through a boto3 resource (``client.s3``), created on first use."""

    _s3: Any = None
    DEFAULT_PART_SIZE = 8388608
    DEFAULT_THREADS = 100

    def __init__(
        self,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        **kwargs: Any,
    ) -> None:
        options = self._get_s3_config()
        options.update(kwargs)
        # Explicit credentials win over the configuration; empty ones do not erase it.
        for name, value in (
            ("aws_access_key_id", aws_access_key_id),
            ("aws_secret_access_key", aws_secret_access_key),
            ("aws_session_token", aws_session_token),
        ):
            if value:
                options[name] = value
        self._options = options

    @property
    def s3(self) -> Any:
        """The boto3 S3 resource; ``client.s3.meta.client`` is the low-level client."""
        if self._s3:
            return self._s3
        boto3 = _boto3()
        options = dict(self._options)
        key_id = options.pop("aws_access_key_id", None)
        secret = options.pop("aws_secret_access_key", None)
        token = options.pop("aws_session_token", None)
        role_arn = options.pop("aws_role_arn", None)
        role_session_name = options.pop("aws_role_session_name", None)
        if role_arn and role_session_name:
            credentials = boto3.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName=role_session_name
            )["Credentials"]
            key_id = credentials.get("AccessKeyId")
            secret = credentials.get("SecretAccessKey")
            token = credentials.get("SessionToken")
            logger.debug("Using AWS credentials of the assumed role session %s", role_session_name)
        if not (key_id and secret):
            logger.debug("No S3 credentials given; boto3 resolves them (environment, profile, role)")
        try:
            self._s3 = boto3.resource(
                "s3",
                aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                aws_session_token=token,
                **options,
            )
        except TypeError as exc:
            if "got an unexpected keyword argument" in str(exc):
                raise DeprecatedBotoClientException(
                    f"boto3.resource('s3') rejected an option from [s3] or the S3Client arguments: {exc}"
                ) from exc
            raise
        return self._s3

    @s3.setter
    def s3(self, value: Any) -> None:
        self._s3 = value

    # -- queries ---------------------------------------------------------------

    def exists(self, path: str) -> bool:
        bucket, key = self._path_to_bucket_and_key(path)
        if self._is_root(key) or self._exists(bucket, key) or self.isdir(path):
            return True
        logger.debug("Path %s does not exist", path)
        return False

    def isdir(self, path: str) -> bool:
        bucket, key = self._path_to_bucket_and_key(path)
        if self._is_root(key):
            return True
        client = self.s3.meta.client
        for suffix in (S3_DIRECTORY_MARKER_SUFFIX_0, S3_DIRECTORY_MARKER_SUFFIX_1):
            try:
                client.get_object(Bucket=bucket, Key=key + suffix)
            except Exception as exc:
                if not _is_not_found(exc):
                    raise
            else:
                return True
        # Any object below the prefix makes it a directory; one is enough to know.
        below = self.s3.Bucket(bucket).objects.filter(Prefix=self._add_path_delimiter(key))
        return any(True for _ in itertools.islice(below, 1))

    is_dir = isdir  # the older name

    def get_key(self, path: str) -> Any:
        """The boto3 ``ObjectSummary`` at ``path``, or None if there is no object."""
        bucket, key = self._path_to_bucket_and_key(path)
        if self._exists(bucket, key):
            return self.s3.ObjectSummary(bucket, key)
        return None

    def listdir(
        self,
        path: str,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        return_key: bool = False,
    ) -> Iterator[Any]:
        """Every object below ``path`` as an ``s3://`` path (or ObjectSummary with ``return_key``).

        ``start_time``/``end_time`` (timezone-aware) keep objects modified strictly between them.
        """
        bucket, key = self._path_to_bucket_and_key(path)
        prefix = self._add_path_delimiter(key)
        base = self._add_path_delimiter(path)
        for item in self.s3.Bucket(bucket).objects.filter(Prefix=prefix):
            modified = item.last_modified
            if start_time and not start_time < modified:
                continue
            if end_time and not modified < end_time:
                continue
            yield item if return_key else base + item.key[len(prefix) :]

    def list(
        self,
        path: str,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        return_key: bool = False,
    ) -> Iterator[Any]:
        """As :meth:`listdir`, with paths relative to ``path``."""
        skip = len(self._add_path_delimiter(path))
        for item in self.listdir(path, start_time=start_time, end_time=end_time, return_key=return_key):
            yield item if return_key else item[skip:]

    # -- reading ---------------------------------------------------------------

    def get(self, s3_path: str, destination_local_path: str) -> None:
        bucket, key = self._path_to_bucket_and_key(s3_path)
        self.s3.meta.client.download_file(bucket, key, destination_local_path)

    def get_as_bytes(self, s3_path: str) -> bytes:
        bucket, key = self._path_to_bucket_and_key(s3_path)
        return bytes(self.s3.Object(bucket, key).get()["Body"].read())

    def get_as_string(self, s3_path: str, encoding: str = "utf-8") -> str:
        return self.get_as_bytes(s3_path).decode(encoding)

    # -- writing ---------------------------------------------------------------

    def put(self, local_path: str, destination_s3_path: str, **kwargs: Any) -> None:
        """Upload a local file; ``kwargs`` are boto3 ExtraArgs (``ContentType``, ``SSEKMSKeyId``...)."""
        self._check_deprecated_argument(**kwargs)
        self.put_multipart(local_path, destination_s3_path, **kwargs)

    def put_string(self, content: str | bytes, destination_s3_path: str, **kwargs: Any) -> None:
        """Store ``content`` at ``destination_s3_path``; ``kwargs`` go to ``put_object``."""
        self._check_deprecated_argument(**kwargs)
        bucket, key = self._path_to_bucket_and_key(destination_s3_path)
        self.s3.meta.client.put_object(Key=key, Bucket=bucket, Body=content, **kwargs)

    def put_multipart(
        self, local_path: str, destination_s3_path: str, part_size: int = DEFAULT_PART_SIZE, **kwargs: Any
    ) -> None:
        """Upload a local file in parts of ``part_size`` bytes (one part when smaller)."""
        self._check_deprecated_argument(**kwargs)
        bucket, key = self._path_to_bucket_and_key(destination_s3_path)
        config = _transfer_config(multipart_chunksize=part_size)
        with open(local_path, "rb") as source:
            self.s3.meta.client.upload_fileobj(
                Fileobj=source, Bucket=bucket, Key=key, Config=config, ExtraArgs=kwargs
            )

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Create the ``<key>/`` directory marker (nothing at a bucket root)."""
        if raise_if_exists and self.isdir(path):
            raise FileAlreadyExists(f"Cannot create directory {path}: it already exists")
        _, key = self._path_to_bucket_and_key(path)
        if self._is_root(key):
            return
        marker = self._add_path_delimiter(path)
        if not parents and not self.isdir(os.path.dirname(marker.rstrip("/")) + "/"):
            raise MissingParentDirectory(f"Cannot create {path}: its parent does not exist")
        self.put_string("", marker)

    def remove(self, path: str, recursive: bool = True) -> bool:  # type: ignore[override]
        """Delete an object, or with ``recursive`` everything below a prefix.

        Returns False when there was nothing to delete.
        """
        if not self.exists(path):
            logger.debug("Could not delete %s; path does not exist", path)
            return False
        bucket, key = self._path_to_bucket_and_key(path)
        if self._is_root(key):
            raise InvalidDeleteException(f"Cannot delete the root of bucket at path {path}")
        client = self.s3.meta.client
        if self._exists(bucket, key):
            client.delete_object(Bucket=bucket, Key=key)
            logger.debug("Deleted %s from bucket %s", key, bucket)
            return True
        if not recursive:
            raise InvalidDeleteException(f"Path {path} is a directory; pass recursive=True to delete it")
        doomed = [
            {"Key": obj.key}
            for obj in self.s3.Bucket(bucket).objects.filter(Prefix=self._add_path_delimiter(key))
        ]
        if self._exists(bucket, key + S3_DIRECTORY_MARKER_SUFFIX_0):
            doomed.append({"Key": key + S3_DIRECTORY_MARKER_SUFFIX_0})
        for start in range(0, len(doomed), _DELETE_BATCH):
            client.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + _DELETE_BATCH]})
        return bool(doomed)

    def copy(  # type: ignore[override]
        self,
        source_path: str,
        destination_path: str,
        threads: int = DEFAULT_THREADS,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        **kwargs: Any,
    ) -> tuple[int, int]:
        """Copy an object or a whole prefix (server side); returns (objects copied, bytes).

        ``threads`` (at least 3) copies run at once; ``start_time``/``end_time``
        filter a prefix copy by modification time; ``kwargs`` are boto3 ExtraArgs.
        """
        threads = max(threads, 3)
        if self.isdir(source_path):
            return self._copy_dir(
                source_path, destination_path, threads, start_time, end_time, part_size, **kwargs
            )
        return self._copy_file(source_path, destination_path, threads, part_size, **kwargs)

    def _copy_file(
        self,
        source_path: str,
        destination_path: str,
        threads: int = DEFAULT_THREADS,
        part_size: int = DEFAULT_PART_SIZE,
        **kwargs: Any,
    ) -> tuple[int, int]:
        src_bucket, src_key = self._path_to_bucket_and_key(source_path)
        dst_bucket, dst_key = self._path_to_bucket_and_key(destination_path)
        item = self.get_key(source_path)
        if item is None:
            raise FileNotFoundException(f"Cannot copy {source_path}: no such object")
        config = _transfer_config(max_concurrency=threads, multipart_chunksize=part_size)
        self.s3.meta.client.copy(
            {"Bucket": src_bucket, "Key": src_key}, dst_bucket, dst_key, Config=config, ExtraArgs=kwargs
        )
        return 1, item.size

    def _copy_dir(
        self,
        source_path: str,
        destination_path: str,
        threads: int = DEFAULT_THREADS,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        **kwargs: Any,
    ) -> tuple[int, int]:
        started = datetime.datetime.now()
        src_bucket, src_key = self._path_to_bucket_and_key(source_path)
        dst_bucket, dst_key = self._path_to_bucket_and_key(destination_path)
        src_prefix = self._add_path_delimiter(src_key)
        dst_prefix = self._add_path_delimiter(dst_key)
        config = _transfer_config(max_concurrency=threads, multipart_chunksize=part_size)
        client = self.s3.meta.client
        total_keys = total_bytes = 0
        pool = ThreadPool(processes=threads)
        jobs = []
        try:
            for item in self.list(source_path, start_time=start_time, end_time=end_time, return_key=True):
                relative = item.key[len(src_prefix) :]
                if relative in ("", "/"):  # the directory marker itself
                    continue
                total_keys += 1
                total_bytes += item.size
                jobs.append(
                    pool.apply_async(
                        client.copy,
                        args=({"Bucket": src_bucket, "Key": src_prefix + relative}, dst_bucket, dst_prefix + relative),
                        kwds={"Config": config, "ExtraArgs": kwargs},
                    )
                )
        finally:
            pool.close()
            pool.join()
        for job in jobs:
            job.get()  # re-raises the first failed copy
        logger.info("Copied %d keys from %s in %s", total_keys, source_path, datetime.datetime.now() - started)
        return total_keys, total_bytes

    def move(self, source_path: str, destination_path: str, **kwargs: Any) -> None:  # type: ignore[override]
        """Copy, then delete the source (S3 has no rename)."""
        self.copy(source_path, destination_path, **kwargs)
        self.remove(source_path)

    # -- helpers (static, as in Luigi: tests and subclasses call them) ----------

    @staticmethod
    def _get_s3_config(key: str | None = None) -> Any:
        parser = configuration.get_config()
        try:
            section = dict(parser.items("s3"))
        except (NoSectionError, KeyError):
            return {} if key is None else None
        for name, value in section.items():
            try:
                section[name] = int(value)
            except (TypeError, ValueError):
                pass
        if key:
            return section.get(key)
        # items() folds in [DEFAULT]; only what the [s3] section itself sets is a boto3 option.
        defaults = dict(parser.defaults())
        return {k: v for k, v in section.items() if k not in defaults or str(v) != defaults[k]}

    @staticmethod
    def _path_to_bucket_and_key(path: str) -> tuple[str, str]:
        parts = urlsplit(path, allow_fragments=False)
        query = "?" + parts.query if parts.query else ""
        return parts.netloc, parts.path[1:] + query

    @staticmethod
    def _is_root(key: str) -> bool:
        return key in ("", "/")

    @staticmethod
    def _add_path_delimiter(key: str) -> str:
        return key if key == "" or key.endswith("/") else key + "/"

    @staticmethod
    def _check_deprecated_argument(**kwargs: Any) -> None:
        if "encrypt_key" in kwargs:
            raise DeprecatedBotoClientException(
                "encrypt_key is not a boto3 argument; pass ServerSideEncryption='AES256' (or SSE-KMS "
                "arguments) instead"
            )
        if "host" in kwargs:
            raise DeprecatedBotoClientException(
                "host is not a boto3 argument; pass region_name=... (or endpoint_url=... for an "
                "S3-compatible service) to S3Client or in the [s3] section"
            )

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self.s3.Object(bucket, key).load()
        except Exception as exc:
            if _is_not_found(exc):
                return False
            raise
        return True


class AtomicS3File(AtomicLocalFile):
    """A local temporary file uploaded to S3 on close; ``kwargs`` are boto3 ExtraArgs."""

    def __init__(self, path: str, s3_client: S3Client, **kwargs: Any) -> None:
        self.s3_client = s3_client
        super().__init__(path)
        self.s3_options = kwargs

    def move_to_final_destination(self) -> None:
        try:
            self.s3_client.put_multipart(self.tmp_path, self.path, **self.s3_options)
        finally:
            self._remove_temporary_file()


class ReadableS3File(io.RawIOBase):
    """A streamed read of an object (given its boto3 ObjectSummary); iterating yields lines."""

    def __init__(self, s3_key: Any) -> None:
        super().__init__()
        self.s3_key = s3_key.get()["Body"]
        self.buffer: list[bytes] = []
        self.finished = False

    def read(self, size: int | None = -1) -> bytes:
        return bytes(self.s3_key.read(None if size is None or size < 0 else size))

    def readinto(self, buffer: Any) -> int:
        chunk = self.s3_key.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self.s3_key.close()
        super().close()

    def __enter__(self) -> ReadableS3File:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def _add_to_buffer(self, line: bytes) -> None:
        self.buffer.append(line)

    def _flush_buffer(self) -> bytes:
        output = b"".join(self.buffer)
        self.buffer = []
        return output

    def __iter__(self) -> Iterator[bytes]:
        # Lines may straddle the chunks the HTTP body arrives in: hold the tail of
        # each chunk until its newline arrives.
        for chunk in self.s3_key.iter_chunks():
            for line in chunk.splitlines(True):
                self._add_to_buffer(line)
                if line.endswith(b"\n"):
                    yield self._flush_buffer()
        rest = self._flush_buffer()
        if rest:
            yield rest
        self.finished = True
        self.close()


class S3Target(FileSystemTarget):
    """An object on S3; ``kwargs`` are boto3 ExtraArgs used when writing it."""

    fs: Any = None

    def __init__(
        self, path: str, format: Format | None = None, client: S3Client | None = None, **kwargs: Any
    ) -> None:
        super().__init__(path)
        self.path = path
        self.format = format if format is not None else get_default_format()
        self.fs = client or S3Client()
        self.s3_options = kwargs

    def open(self, mode: str = "r") -> Any:
        if mode not in ("r", "w"):
            raise ValueError(f"Unsupported open mode '{mode}'")
        if mode == "r":
            s3_key = self.fs.get_key(self.path)
            if not s3_key:
                raise FileNotFoundException(f"Could not find file at {self.path}")
            return self.format.pipe_reader(ReadableS3File(s3_key))
        return self.format.pipe_writer(AtomicS3File(self.path, self.fs, **self.s3_options))


class S3FlagTarget(S3Target):
    """A directory of outputs that is complete once its flag object (``_SUCCESS``) exists.

    For jobs (Hadoop, Spark, EMR) that write many files into a directory: a
    rename per file would be costly on S3, so the flag written last marks the
    whole directory done.
    """

    fs: Any = None

    def __init__(
        self, path: str, format: Format | None = None, client: S3Client | None = None, flag: str = "_SUCCESS"
    ) -> None:
        if path[-1:] != "/":
            raise ValueError(
                "S3FlagTarget requires the path to be to a directory.  It must end with a slash ( / )."
            )
        super().__init__(path, format, client)
        self.flag = flag

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path + self.flag))


class S3EmrTarget(S3FlagTarget):
    """Deprecated: use :class:`S3FlagTarget`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn("S3EmrTarget is deprecated. Please use S3FlagTarget")
        super().__init__(*args, **kwargs)


class S3PathTask(ExternalTask):
    """An object on S3 that some other system produces."""

    path = Parameter()

    def output(self) -> S3Target:
        return S3Target(self.path)


class S3EmrTask(ExternalTask):
    """An EMR output directory on S3 that some other system produces (``_SUCCESS`` flag)."""

    path = Parameter()

    def output(self) -> S3EmrTarget:
        return S3EmrTarget(self.path)


class S3FlagTask(ExternalTask):
    """A flagged output directory on S3 that some other system produces."""

    path = Parameter()
    flag = OptionalParameter(default=None)

    def output(self) -> S3FlagTarget:
        # No flag given means the default flag, not a path ending in "None".
        if self.flag is None:
            return S3FlagTarget(self.path)
        return S3FlagTarget(self.path, flag=self.flag)
