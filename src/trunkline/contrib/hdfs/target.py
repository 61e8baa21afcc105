""":class:`HdfsTarget` and :class:`HdfsFlagTarget`: files and job output directories on HDFS."""

from __future__ import annotations

import random
import warnings
from typing import Any
from urllib import parse as urlparse

import trunkline as luigi
import trunkline.format
from trunkline.contrib.hdfs import clients as hdfs_clients
from trunkline.contrib.hdfs import format as hdfs_format
from trunkline.contrib.hdfs.config import tmppath
from trunkline.contrib.hdfs.error import HDFSCliError
from trunkline.target import FileSystemTarget


class HdfsTarget(FileSystemTarget):
    """A file (or, with ``PlainDir``, a directory) on HDFS.

    ``format`` is chained onto ``Plain`` unless it already ends in HDFS;
    ``is_tmp=True`` without a path makes a temporary target removed when the
    object is collected; ``fs`` is the client (default: ``get_autoconfig_client()``).
    """

    def __init__(self, path: str | None = None, format: Any = None, is_tmp: bool = False, fs: Any = None) -> None:
        if path is None:
            if not is_tmp:
                raise ValueError("HdfsTarget needs a path unless is_tmp=True")
            path = tmppath()
        super().__init__(path)
        if format is None:
            format = luigi.format.get_default_format() >> hdfs_format.Plain
        # Formats from before "output = 'hdfs'" said so with hdfs_writer/hdfs_reader methods.
        old_format = (hasattr(format, "hdfs_writer") or hasattr(format, "hdfs_reader")) and not hasattr(format, "output")
        if not old_format and getattr(format, "output", "") != "hdfs":
            format = format >> hdfs_format.Plain
        if old_format:
            warnings.warn(
                "hdfs_writer and hdfs_reader method for format is deprecated,"
                "specify the property output of your format as 'hdfs' instead",
                DeprecationWarning,
                stacklevel=2,
            )
            writer = format.hdfs_writer if hasattr(format, "hdfs_writer") else (format >> hdfs_format.Plain).pipe_writer
            reader = format.hdfs_reader if hasattr(format, "hdfs_reader") else (format >> hdfs_format.Plain).pipe_reader
            format = hdfs_format.CompatibleHdfsFormat(writer, reader)
        else:
            format = hdfs_format.CompatibleHdfsFormat(format.pipe_writer, format.pipe_reader, getattr(format, "input", None))
        self.format = format
        self.is_tmp = is_tmp
        if ":" in urlparse.urlsplit(path).path:
            raise ValueError("colon is not allowed in hdfs filenames")
        self._fs = fs or hdfs_clients.get_autoconfig_client()

    def __del__(self) -> None:
        if getattr(self, "is_tmp", False) and self.exists():
            self.remove(skip_trash=True)

    @property
    def fs(self) -> Any:
        return self._fs

    def glob_exists(self, expected_files: int) -> bool:
        """True when ``path`` (a glob) matches exactly ``expected_files`` entries."""
        return len(list(self.fs.listdir(self.path))) == expected_files

    def open(self, mode: str = "r") -> Any:
        if mode not in ("r", "w"):
            raise ValueError(f"Unsupported open mode '{mode}'")
        if mode == "r":
            return self.format.pipe_reader(self.path)
        return self.format.pipe_writer(self.path)

    def remove(self, skip_trash: bool = False) -> None:
        self.fs.remove(self.path, skip_trash=skip_trash)

    def rename(self, path: Any, raise_if_exists: bool = False) -> None:
        """Move to ``path`` (``self.path`` is unchanged); into ``path`` if that is a directory."""
        if isinstance(path, HdfsTarget):
            path = path.path
        if raise_if_exists and self.fs.exists(path):
            raise RuntimeError(f"Destination exists: {path}")
        self.fs.rename(self.path, path)

    def move(self, path: Any, raise_if_exists: bool = False) -> None:
        """Same as :meth:`rename`."""
        self.rename(path, raise_if_exists=raise_if_exists)

    def move_dir(self, path: str) -> None:
        """Rename to ``path``, never into it (``rename_dont_move``); ``self.path`` is unchanged."""
        self.fs.rename_dont_move(self.path, path)

    def copy(self, dst_dir: str) -> None:
        self.fs.copy(self.path, dst_dir)

    def is_writable(self) -> bool:
        """Whether the nearest existing ancestor directory accepts a new file (hadoopcli only)."""
        if "/" not in self.path:
            return False
        parts = self.path.split("/")
        for keep in range(len(parts), 0, -1):
            path = "/".join(parts[:keep]) + "/"
            if self.fs.exists(path):
                return self._is_writable(path)
        return False

    def _is_writable(self, path: str) -> bool:
        probe = f"{path}.test_write_access-{random.randrange(10_000_000_000):09d}"
        try:
            self.fs.touchz(probe)
            self.fs.remove(probe, recursive=False)
        except HDFSCliError:
            return False
        return True


class HdfsFlagTarget(HdfsTarget):
    """A job's output directory, complete once its flag file (``_SUCCESS``) exists."""

    def __init__(self, path: str, format: Any = None, client: Any = None, flag: str = "_SUCCESS") -> None:
        if path[-1:] != "/":
            raise ValueError(
                "HdfsFlagTarget requires the path to be to a directory.  It must end with a slash ( / )."
            )
        super().__init__(path, format, fs=client)
        self.flag = flag

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path + self.flag))
