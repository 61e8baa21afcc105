"""Azure Blob Storage: :class:`AzureBlobTarget` and :class:`AzureBlobClient` (azure-storage-blob v12).

Paths are ``container/blob/name``. Blob storage has no directories, so
``isdir`` is always False and ``mkdir`` creates nothing.

Writes go to a local temporary file uploaded on close as one block blob; Azure
makes a block blob visible only when its block list is committed, so readers
never see a partial output, and a write that raises uploads nothing. An
existing blob is overwritten under a lease, so two writers cannot interleave.

The client is addressed like Azure's SDK: an account name and key (or SAS
token), optionally ``protocol``, ``endpoint_suffix`` or ``custom_domain``
(``custom_domain='127.0.0.1:10000', protocol='http'`` reaches Azurite), or a
``connection_string``. ``pip install "trunkline[azure]"``.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import tempfile
from typing import Any

from trunkline.contrib._optional import optional, require
from trunkline.format import Format, get_default_format
from trunkline.target import AtomicLocalFile, FileAlreadyExists, FileSystem, FileSystemTarget

logger = logging.getLogger("luigi-interface")

# The module-level name Luigi's module has; None when azure-storage-blob is absent.
BlobServiceClient: Any = getattr(optional("azure.storage.blob"), "BlobServiceClient", None)


def _service_client_class() -> Any:
    return BlobServiceClient or require("azure.storage.blob", "azure", "AzureBlobClient").BlobServiceClient


class AzureBlobClient(FileSystem):
    """A storage account; ``kwargs`` are ``protocol``, ``endpoint_suffix``, ``custom_domain``,
    ``connection_string``, and any other BlobServiceClient keyword argument."""

    def __init__(
        self,
        account_name: str | None = None,
        account_key: str | None = None,
        sas_token: str | None = None,
        **kwargs: Any,
    ) -> None:
        protocol = kwargs.get("protocol", "https")
        if kwargs.get("custom_domain"):
            account_url = f"{protocol}://{kwargs['custom_domain']}/{account_name}"
        else:
            account_url = f"{protocol}://{account_name}.blob.{kwargs.get('endpoint_suffix', 'core.windows.net')}"
        self.options = {
            "account_name": account_name,
            "account_key": account_key,
            "account_url": account_url,
            "sas_token": sas_token,
        }
        self.kwargs = kwargs

    def _sdk_kwargs(self) -> dict[str, Any]:
        # Our addressing options are not BlobServiceClient arguments.
        ours = {"protocol", "endpoint_suffix", "custom_domain", "connection_string"}
        return {k: v for k, v in self.kwargs.items() if k not in ours}

    @property
    def connection(self) -> Any:
        """A BlobServiceClient for the account."""
        service = _service_client_class()
        if self.kwargs.get("connection_string"):
            return service.from_connection_string(conn_str=self.kwargs["connection_string"], **self._sdk_kwargs())
        credential: Any = self.options["account_key"] or self.options["sas_token"]
        if self.options["account_key"] and self.options["account_name"]:
            credential = {"account_name": self.options["account_name"], "account_key": self.options["account_key"]}
        return service(account_url=self.options["account_url"], credential=credential, **self._sdk_kwargs())

    def container_client(self, container_name: str) -> Any:
        return self.connection.get_container_client(container_name)

    def blob_client(self, container_name: str, blob_name: str) -> Any:
        return self.container_client(container_name).get_blob_client(blob_name)

    def upload(self, tmp_path: str, container: str, blob: str, **kwargs: Any) -> None:
        """Upload a local file as ``container/blob`` (the container is created if missing)."""
        logger.debug("Uploading file '%s' to container '%s' and blob '%s'", tmp_path, container, blob)
        self.create_container(container)
        blob_client = self.blob_client(container, blob)
        # A lease on an existing blob keeps a concurrent writer from interleaving with us.
        lease = blob_client.acquire_lease() if blob_client.exists() else None
        try:
            with open(tmp_path, "rb") as data:
                blob_client.upload_blob(
                    data, overwrite=True, lease=lease, progress_hook=kwargs.get("progress_callback")
                )
        finally:
            if lease is not None:
                lease.release()

    def download_as_bytes(self, container: str, blob: str, bytes_to_read: int | None = None) -> bytes:
        """The blob's bytes (only the first ``bytes_to_read`` if given)."""
        blob_client = self.blob_client(container, blob)
        stream = blob_client.download_blob(offset=0, length=bytes_to_read) if bytes_to_read else blob_client.download_blob()
        return bytes(stream.readall())

    def download_as_file(self, container: str, blob: str, location: str) -> Any:
        """Save the blob to ``location``; returns its properties."""
        blob_client = self.blob_client(container, blob)
        with open(location, "wb") as sink:
            blob_client.download_blob().readinto(sink)
        return blob_client.get_blob_properties()

    def create_container(self, container_name: str) -> Any:
        """Create the container if it does not exist (returns its client when created)."""
        if not self.exists(container_name):
            return self.connection.create_container(container_name)
        return None

    def delete_container(self, container_name: str) -> None:
        container_client = self.container_client(container_name)
        lease = container_client.acquire_lease()
        container_client.delete_container(lease=lease)

    def exists(self, path: str) -> bool:
        container, blob = self.splitfilepath(path)
        if blob is None:
            return bool(self.container_client(container).exists())
        return bool(self.blob_client(container, blob).exists())

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> bool:  # type: ignore[override]
        """Delete a blob; False when there was none."""
        if not self.exists(path):
            return False
        container, blob = self.splitfilepath(path)
        if blob is None:
            raise ValueError(f"{path!r} is a container; use delete_container() to delete it")
        blob_client = self.blob_client(container, blob)
        lease = blob_client.acquire_lease()
        blob_client.delete_blob(lease=lease)
        return True

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Blob storage has no directories: only checks ``raise_if_exists``."""
        container, blob = self.splitfilepath(path)
        if raise_if_exists and self.exists(path):
            raise FileAlreadyExists(f"The Azure blob path '{blob}' already exists under container '{container}'")

    def isdir(self, path: str) -> bool:
        """Always False: blob storage has no directories."""
        return False

    def move(self, path: str, dest: str) -> bool:  # type: ignore[override]
        """Copy, then delete the source; on failure the partial copy is removed."""
        try:
            return bool(self.copy(path, dest) and self.remove(path))
        except OSError:
            self.remove(dest)
            return False

    def copy(self, path: str, dest: str) -> Any:
        """Server-side copy within one container; returns the copy's properties (``copy_status``)."""
        source_container, source_blob = self.splitfilepath(path)
        dest_container, dest_blob = self.splitfilepath(dest)
        if source_container != dest_container:
            raise ValueError(
                f"Can't copy blob from '{source_container}' to '{dest_container}'. "
                "File can be moved within container"
            )
        source = self.blob_client(source_container, source_blob)  # type: ignore[arg-type]
        target = self.blob_client(dest_container, dest_blob)  # type: ignore[arg-type]
        source_lease = source.acquire_lease()
        dest_lease = target.acquire_lease() if self.exists(dest) else None
        try:
            return target.start_copy_from_url(source_url=source.url, source_lease=source_lease, destination_lease=dest_lease)
        finally:
            source_lease.release()
            if dest_lease is not None:
                dest_lease.release()

    def rename_dont_move(self, path: str, dest: str) -> None:
        self.move(path, dest)

    @staticmethod
    def splitfilepath(filepath: str) -> tuple[str, str | None]:
        """``'container/a/b'`` → ``('container', 'a/b')``; ``'container'`` → ``('container', None)``."""
        container, _, blob = filepath.partition("/")
        return container, blob or None


class ReadableAzureBlobFile:
    """A blob read sequentially: streamed, or with ``download_when_reading`` from a local copy."""

    def __init__(self, container: str, blob: str, client: AzureBlobClient, download_when_reading: bool, **kwargs: Any) -> None:
        self.container = container
        self.blob = blob
        self.client = client
        self.closed = False
        self.download_when_reading = download_when_reading
        self.azure_blob_options = kwargs
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self._download_dir: str | None = None
        self.download_file_location = os.path.join(tempfile.gettempdir(), f"luigi-azure-{stamp}", blob)
        self.fid: Any = None
        self._stream: Any = None

    def _source(self) -> Any:
        if self.download_when_reading:
            if self.fid is None:
                self._download_dir = tempfile.mkdtemp(prefix="luigi-azure-")
                self.download_file_location = os.path.join(self._download_dir, os.path.basename(self.blob))
                self.client.download_as_file(self.container, self.blob, self.download_file_location)
                self.fid = open(self.download_file_location, "rb")
            return self.fid
        if self._stream is None:
            self._stream = self.client.blob_client(self.container, self.blob).download_blob()
        return self._stream

    def read(self, n: int | None = None) -> bytes:
        """The next ``n`` bytes (all that is left when ``n`` is None or negative)."""
        size = -1 if n is None else n
        return bytes(self._source().read(size))

    def read1(self, n: int = -1) -> bytes:
        return self.read(n)

    def __enter__(self) -> ReadableAzureBlobFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        if self.fid is not None and not self.fid.closed:
            self.fid.close()
        if self._download_dir is not None:
            shutil.rmtree(self._download_dir, ignore_errors=True)
            self._download_dir = None
        self.closed = True

    def flush(self) -> None:
        pass

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int | None = None) -> None:
        pass


class AtomicAzureBlobFile(AtomicLocalFile):
    """A local temporary file uploaded as one block blob on close."""

    def __init__(self, container: str, blob: str, client: AzureBlobClient, **kwargs: Any) -> None:
        super().__init__(os.path.join(container, blob))
        self.container = container
        self.blob = blob
        self.client = client
        self.azure_blob_options = kwargs

    def move_to_final_destination(self) -> None:
        try:
            self.client.upload(self.tmp_path, self.container, self.blob, **self.azure_blob_options)
        finally:
            self._remove_temporary_file()


class AzureBlobTarget(FileSystemTarget):
    """``blob`` in ``container``; pass ``progress_callback=f(current, total)`` to follow uploads."""

    def __init__(
        self,
        container: str,
        blob: str,
        client: AzureBlobClient | None = None,
        format: Format | None = None,
        download_when_reading: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(os.path.join(container, blob))
        self.container = container
        self.blob = blob
        self.client = client or AzureBlobClient()
        self.format = format if format is not None else get_default_format()
        self.download_when_reading = download_when_reading
        self.azure_blob_options = kwargs

    @property
    def fs(self) -> AzureBlobClient:
        return self.client

    def open(self, mode: str) -> Any:
        if mode not in ("r", "w"):
            raise ValueError(f"Unsupported open mode '{mode}'")
        if mode == "r":
            return self.format.pipe_reader(
                ReadableAzureBlobFile(self.container, self.blob, self.client, self.download_when_reading, **self.azure_blob_options)
            )
        return self.format.pipe_writer(AtomicAzureBlobFile(self.container, self.blob, self.client, **self.azure_blob_options))
