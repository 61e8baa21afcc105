"""Reading and writing HDFS files through ``hadoop fs -cat`` and ``hadoop fs -put -``.

Writes stream into a temporary path (see ``config.tmppath``) and are renamed
into place on close, so a reader never sees a partial file; a write that is
aborted removes its temporary file. ``PlainDir`` writes one ``data`` file into
a directory that appears whole, and reads every file in a directory except
those starting with ``_`` (MapReduce's ``_SUCCESS``, ``_logs``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import trunkline as luigi
import trunkline.format
from trunkline.contrib.hdfs import config as hdfs_config
from trunkline.contrib.hdfs.clients import exists, listdir, mkdir, remove, rename
from trunkline.contrib.hdfs.config import load_hadoop_cmd
from trunkline.contrib.hdfs.error import HDFSCliError

logger = logging.getLogger("luigi-interface")


class HdfsAtomicWriteError(IOError):
    """The rename that publishes a write did not happen."""


class HdfsReadPipe(luigi.format.InputPipeProcessWrapper):
    """The bytes of ``path`` (a glob works too), streamed from ``hadoop fs -cat``."""

    def __init__(self, path: str) -> None:
        super().__init__(load_hadoop_cmd() + ["fs", "-cat", path])


def _replace(tmppath: str, path: str) -> None:
    """Move ``tmppath`` to ``path``, replacing what is there (HDFS rename never overwrites)."""
    try:
        if exists(path):
            remove(path)
    except HDFSCliError:
        pass  # gone in the meantime: the rename below decides
    results = rename(tmppath, path)
    if not all(result["result"] for result in results or []):
        raise HdfsAtomicWriteError(f"Atomic write to {path} failed")


class HdfsAtomicWritePipe(luigi.format.OutputPipeProcessWrapper):
    """Streams into a temporary HDFS path; ``close()`` renames it to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.tmppath = hdfs_config.tmppath(path)
        mkdir(os.path.dirname(self.tmppath), parents=True, raise_if_exists=False)
        super().__init__(load_hadoop_cmd() + ["fs", "-put", "-", self.tmppath])

    def abort(self) -> None:
        logger.info("Aborting %s('%s'). Removing temporary file '%s'", type(self).__name__, self.path, self.tmppath)
        super().abort()
        _remove_quietly(self.tmppath)

    def close(self) -> None:
        super().close()
        _replace(self.tmppath, self.path)


class HdfsAtomicWriteDirPipe(luigi.format.OutputPipeProcessWrapper):
    """Writes ``<path>/data<data_extension>``: the directory appears whole on ``close()``."""

    def __init__(self, path: str, data_extension: str = "") -> None:
        self.path = path
        self.tmppath = hdfs_config.tmppath(path)
        self.datapath = f"{self.tmppath}/data{data_extension}"
        super().__init__(load_hadoop_cmd() + ["fs", "-put", "-", self.datapath])

    def abort(self) -> None:
        logger.info("Aborting %s('%s'). Removing temporary dir '%s'", type(self).__name__, self.path, self.tmppath)
        super().abort()
        _remove_quietly(self.tmppath)

    def close(self) -> None:
        super().close()
        _replace(self.tmppath, self.path)
        # If path was (re)created between the removal and the rename, HDFS moved
        # the temporary directory *into* it: that is a failed write, not a success.
        if os.path.basename(self.tmppath) in map(os.path.basename, listdir(self.path)):
            remove(self.path)
            raise HdfsAtomicWriteError(f"Atomic write to {self.path} failed")


def _remove_quietly(path: str) -> None:
    try:
        remove(path, skip_trash=True)
    except HDFSCliError as exc:  # nothing was written yet, or it is already gone
        logger.debug("Could not remove %s: %s", path, exc)


class PlainFormat(luigi.format.Format):
    """Bytes to and from one HDFS file."""

    input = "bytes"
    output = "hdfs"

    def hdfs_writer(self, path: str) -> Any:
        return self.pipe_writer(path)

    def hdfs_reader(self, path: str) -> Any:
        return self.pipe_reader(path)

    def pipe_reader(self, path: str) -> HdfsReadPipe:
        return HdfsReadPipe(path)

    def pipe_writer(self, output_pipe: str) -> HdfsAtomicWritePipe:
        return HdfsAtomicWritePipe(output_pipe)


class PlainDirFormat(luigi.format.Format):
    """Bytes to and from an HDFS directory of part files."""

    input = "bytes"
    output = "hdfs"

    def hdfs_writer(self, path: str) -> Any:
        return self.pipe_writer(path)

    def hdfs_reader(self, path: str) -> Any:
        return self.pipe_reader(path)

    def pipe_reader(self, path: str) -> HdfsReadPipe:
        return HdfsReadPipe(f"{path}/[^_]*")

    def pipe_writer(self, path: str) -> HdfsAtomicWriteDirPipe:
        return HdfsAtomicWriteDirPipe(path)


Plain = PlainFormat()
PlainDir = PlainDirFormat()


class CompatibleHdfsFormat(luigi.format.Format):
    """A format made of a writer and a reader function that take an HDFS path."""

    output = "hdfs"

    def __init__(self, writer: Callable[[str], Any], reader: Callable[[str], Any], input: str | None = None) -> None:
        if input is not None:
            self.input = input
        self.reader = reader
        self.writer = writer

    def pipe_writer(self, output: str) -> Any:
        return self.writer(output)

    def pipe_reader(self, input: str) -> Any:
        return self.reader(input)

    def hdfs_writer(self, output: str) -> Any:
        return self.writer(output)

    def hdfs_reader(self, input: str) -> Any:
        return self.reader(input)

    # Targets are pickled to worker processes; bound methods of other formats are
    # stored as (instance, method name) and bound again on load.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for attr in ("reader", "writer"):
            method = getattr(self, attr)
            if hasattr(method, "__self__") and hasattr(method, "__func__"):
                state[attr] = (method.__self__, method.__func__.__name__)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__ = state
        for attr in ("reader", "writer"):
            value = state[attr]
            if isinstance(value, tuple) and len(value) == 2:
                setattr(self, attr, getattr(value[0], value[1]))
