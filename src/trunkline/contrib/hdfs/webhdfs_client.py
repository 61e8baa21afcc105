"""HDFS over the WebHDFS REST API, through the ``hdfs`` package (HdfsCLI).

``[hdfs] namenode_host`` (several hosts separated by ``;`` for HA),
``[webhdfs] port`` (default 50070), ``[hdfs] user`` (default ``$USER``) and
``[webhdfs] client_type`` (``insecure`` or ``kerberos``) say where and who.
``client`` is the HdfsCLI client itself, for anything not wrapped here.
``pip install "trunkline[hdfs]"`` brings in the library.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import trunkline as luigi
import trunkline.contrib.target
from trunkline.contrib._optional import require
from trunkline.contrib.hdfs import abstract_client as hdfs_abstract_client
from trunkline.contrib.hdfs import config as hdfs_config

logger = logging.getLogger("luigi-interface")


class webhdfs(luigi.Config):  # noqa: N801 - a configuration section
    port = luigi.IntParameter(default=50070, description="Port for webhdfs")
    user = luigi.Parameter(default="", description="Defaults to $USER envvar", config_path=dict(section="hdfs", name="user"))
    client_type = luigi.ChoiceParameter(
        var_type=str, choices=["insecure", "kerberos"], default="insecure", description="Type of hdfs client to use."
    )


def _hdfs_module() -> Any:
    return require("hdfs", "hdfs", "WebHdfsClient")


class WebHdfsClient(hdfs_abstract_client.HdfsFileSystem):
    """WebHDFS with Luigi's file system interface; ``chmod``/``chown``/``count``/``copy`` are not offered."""

    def __init__(
        self, host: str | None = None, port: int | None = None, user: str | None = None, client_type: str | None = None
    ) -> None:
        self.host = host or hdfs_config.hdfs().namenode_host
        self.port = port or webhdfs().port
        self.user = user or webhdfs().user or os.environ["USER"]
        self.client_type = client_type or webhdfs().client_type

    @property
    def url(self) -> str:
        """``http://host:port``, or several joined by ``;`` for HA namenodes (HdfsCLI's syntax)."""
        return ";".join(f"http://{host}:{self.port}" for host in str(self.host).split(";"))

    @property
    def client(self) -> Any:
        """A new HdfsCLI client per use: cheap, and safe across forked worker processes."""
        if self.client_type == "kerberos":
            return require("hdfs.ext.kerberos", "hdfs", "WebHdfsClient(client_type='kerberos')").KerberosClient(url=self.url)
        return _hdfs_module().InsecureClient(url=self.url, user=self.user)

    def walk(self, path: str, depth: int = 1) -> Any:
        return self.client.walk(path, depth=depth)

    def exists(self, path: str) -> bool:
        hdfs = _hdfs_module()
        try:
            self.client.status(path)
        except hdfs.util.HdfsError as exc:
            if str(exc).startswith("File does not exist: "):
                return False
            raise
        return True

    def upload(self, hdfs_path: str, local_path: str, overwrite: bool = False) -> Any:
        return self.client.upload(hdfs_path, local_path, overwrite=overwrite)

    def download(self, hdfs_path: str, local_path: str, overwrite: bool = False, n_threads: int = -1) -> Any:
        return self.client.download(hdfs_path, local_path, overwrite=overwrite, n_threads=n_threads)

    def remove(self, hdfs_path: str, recursive: bool = True, skip_trash: bool = False) -> Any:
        # WebHDFS deletes for good: the caller must say so, as it would to skip the trash.
        if not skip_trash:
            raise ValueError("WebHdfsClient.remove deletes permanently; pass skip_trash=True to confirm")
        return self.client.delete(hdfs_path, recursive=recursive)

    def read(
        self,
        hdfs_path: str,
        offset: int = 0,
        length: int | None = None,
        buffer_size: int | None = None,
        chunk_size: int = 1024,
        buffer_char: str | None = None,
    ) -> Any:
        return self.client.read(
            hdfs_path, offset=offset, length=length, buffer_size=buffer_size,
            chunk_size=chunk_size, delimiter=buffer_char, encoding="utf-8" if buffer_char else None,
        )

    def move(self, path: str, dest: str) -> None:
        parent = dest.rstrip("/").rsplit("/", 1)[0] if "/" in dest.rstrip("/") else ""
        if parent and not self.exists(parent):
            self.mkdir(parent, parents=True)
        self.client.rename(path, dest)

    def mkdir(self, path: str, parents: bool = True, mode: int = 0o755, raise_if_exists: bool = False) -> None:  # type: ignore[override]
        """WebHDFS MKDIRS always makes parents and succeeds on an existing directory."""
        if not parents or raise_if_exists:
            warnings.warn("webhdfs mkdir: parents/raise_if_exists not implemented")
        self.client.makedirs(path, permission=int(oct(mode)[2:]))  # 0o755 travels as the digits 755

    def chmod(self, path: str, permissions: Any, recursive: bool = False) -> None:
        raise NotImplementedError("Webhdfs in luigi doesn't implement chmod")

    def chown(self, path: str, owner: str | None, group: str | None, recursive: bool = False) -> None:
        raise NotImplementedError("Webhdfs in luigi doesn't implement chown")

    def count(self, path: str) -> dict[str, Any]:
        raise NotImplementedError("Webhdfs in luigi doesn't implement count")

    def copy(self, path: str, destination: str) -> None:
        raise NotImplementedError("Webhdfs in luigi doesn't implement copy")

    def put(self, local_path: str, destination: str) -> None:
        self.upload(destination, local_path)

    def get(self, path: str, local_destination: str) -> None:
        self.download(path, local_destination)

    def listdir(
        self,
        path: str,
        ignore_directories: bool = False,
        ignore_files: bool = False,
        include_size: bool = False,
        include_type: bool = False,
        include_time: bool = False,
        recursive: bool = False,
    ) -> Any:
        """The names in directory ``path`` (not recursive)."""
        if recursive:
            raise NotImplementedError("WebHdfsClient.listdir does not list recursively; use walk()")
        return self.client.list(path, status=False)

    def touchz(self, path: str) -> None:
        self.client.write(path, data="", overwrite=False)
