"""HDFS through the ``hadoop fs`` command line: the client that works wherever Hadoop is installed.

Every call runs the configured ``hadoop`` command (``[hadoop] command``), so
this client is the slowest, but it needs nothing beyond a Hadoop install.
:class:`HdfsClient` speaks Hadoop 2 syntax (CDH4 and later),
:class:`HdfsClientCdh3` and :class:`HdfsClientApache1` the older ones.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import subprocess
import warnings
from collections.abc import Iterator
from typing import Any

from trunkline.contrib.hdfs import abstract_client as hdfs_abstract_client
from trunkline.contrib.hdfs import config as hdfs_config
from trunkline.contrib.hdfs import error as hdfs_error
from trunkline.contrib.hdfs.config import load_hadoop_cmd
from trunkline.target import FileAlreadyExists

logger = logging.getLogger("luigi-interface")

_NOT_FOUND = re.compile(r"^.*No such file or directory$")
# Lines the JVM or the shell wrapper prints that are not part of a command's answer.
_NOISE_PREFIXES = ("OpenJDK 64-Bit Server VM warning", "It's highly recommended")


def create_hadoopcli_client() -> HdfsClient:
    """The command line client for the configured ``[hadoop] version``."""
    version = hdfs_config.get_configured_hadoop_version()
    if version == "cdh4":
        return HdfsClient()
    if version == "cdh3":
        return HdfsClientCdh3()
    if version == "apache1":
        return HdfsClientApache1()
    raise ValueError(f"Unknown [hadoop] version {version!r}: expected cdh4, cdh3 or apache1")


class HdfsClient(hdfs_abstract_client.HdfsFileSystem):
    """``hadoop fs`` with Apache Hadoop 2 syntax (also CDH4 and later)."""

    recursive_listdir_cmd = ["-ls", "-R"]

    @staticmethod
    def call_check(command: list[str]) -> str:
        """Run ``command``; its standard output, or HDFSCliError when it exits non-zero."""
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True, universal_newlines=True
        )
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise hdfs_error.HDFSCliError(command, process.returncode, stdout, stderr)
        return stdout

    def exists(self, path: str) -> bool:
        """``hadoop fs -stat``: a "No such file or directory" answer means False; other failures raise."""
        cmd = load_hadoop_cmd() + ["fs", "-stat", path]
        logger.debug("Running file existence check: %s", subprocess.list2cmdline(cmd))
        process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True, universal_newlines=True
        )
        stdout, stderr = process.communicate()
        if process.returncode == 0:
            return True
        if any(_NOT_FOUND.match(line) for line in stderr.split("\n")):
            return False
        raise hdfs_error.HDFSCliError(cmd, process.returncode, stdout, stderr)

    def move(self, path: str | list[str] | tuple[str, ...], dest: str) -> None:
        """``hadoop fs -mv``, creating ``dest``'s parent first; several sources move one by one."""
        parent_dir = os.path.dirname(dest)
        if parent_dir and not self.exists(parent_dir):
            self.mkdir(parent_dir)
        if isinstance(path, (list, tuple)):
            warnings.warn("Renaming multiple files at once is not atomic.", stacklevel=2)
            sources = list(path)
        else:
            sources = [path]
        self.call_check(load_hadoop_cmd() + ["fs", "-mv", *sources, dest])

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = False) -> None:
        cmd = load_hadoop_cmd() + ["fs", "-rm"] + (["-r"] if recursive else [])
        if skip_trash:
            cmd.append("-skipTrash")
        self.call_check(cmd + [path])

    def chmod(self, path: str, permissions: Any, recursive: bool = False) -> None:
        flags = ["-R"] if recursive else []
        self.call_check(load_hadoop_cmd() + ["fs", "-chmod", *flags, str(permissions), path])

    def chown(self, path: str, owner: str | None, group: str | None, recursive: bool = False) -> None:
        flags = ["-R"] if recursive else []
        self.call_check(load_hadoop_cmd() + ["fs", "-chown", *flags, f"{owner or ''}:{group or ''}", path])

    def count(self, path: str) -> dict[str, Any]:
        """``hadoop fs -count``: ``{'dir_count', 'file_count', 'content_size'}`` (as strings)."""
        stdout = self.call_check(load_hadoop_cmd() + ["fs", "-count", path])
        for line in stdout.split("\n"):
            if not line.strip() or line.startswith(_NOISE_PREFIXES):
                continue
            dir_count, file_count, content_size = line.split()[:3]
            return {"content_size": content_size, "dir_count": dir_count, "file_count": file_count}
        raise hdfs_error.HDFSCliError(["fs", "-count", path], 0, stdout, "no count in the output")

    def copy(self, path: str, destination: str) -> None:
        self.call_check(load_hadoop_cmd() + ["fs", "-cp", path, destination])

    def put(self, local_path: str, destination: str) -> None:
        self.call_check(load_hadoop_cmd() + ["fs", "-put", local_path, destination])

    def get(self, path: str, local_destination: str) -> None:
        self.call_check(load_hadoop_cmd() + ["fs", "-get", path, local_destination])

    def getmerge(self, path: str, local_destination: str, new_line: bool = False) -> None:
        """Concatenate the files of directory ``path`` into one local file (``-nl``: newline after each)."""
        flags = ["-nl"] if new_line else []
        self.call_check(load_hadoop_cmd() + ["fs", "-getmerge", *flags, path, local_destination])

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if parents and raise_if_exists:
            raise NotImplementedError("HdfsClient.mkdir can't raise with -p")
        try:
            self.call_check(load_hadoop_cmd() + ["fs", "-mkdir", *(["-p"] if parents else []), path])
        except hdfs_error.HDFSCliError as exc:
            if "File exists" not in exc.stderr:
                raise
            if raise_if_exists:
                raise FileAlreadyExists(exc.stderr) from exc

    def listdir(
        self,
        path: str,
        ignore_directories: bool = False,
        ignore_files: bool = False,
        include_size: bool = False,
        include_type: bool = False,
        include_time: bool = False,
        recursive: bool = False,
    ) -> Iterator[Any]:
        """Entries of ``path`` from ``hadoop fs -ls``: paths, or tuples with the asked-for extras
        (size in bytes, type ``'d'``/``'-'``, modification time) in that order."""
        path = path or "."  # the user's home directory
        listing = self.recursive_listdir_cmd if recursive else ["-ls"]
        for line in self.call_check(load_hadoop_cmd() + ["fs", *listing, path]).split("\n"):
            if not line or line.startswith(_NOISE_PREFIXES) or line.startswith("Found"):
                continue  # "Found N items" heads each listing
            kind = line[0]
            if (ignore_directories and kind == "d") or (ignore_files and kind == "-"):
                continue
            # permissions replication owner group size date time path
            fields = line.split()
            name = fields[-1]
            extra: tuple[Any, ...] = ()
            if include_size:
                extra += (int(fields[-4]),)
            if include_type:
                extra += (kind,)
            if include_time:
                extra += (datetime.datetime.strptime(f"{fields[-3]}T{fields[-2]}", "%Y-%m-%dT%H:%M"),)
            yield (name, *extra) if extra else name

    def touchz(self, path: str) -> None:
        self.call_check(load_hadoop_cmd() + ["fs", "-touchz", path])


class HdfsClientCdh3(HdfsClient):
    """CDH3 syntax: ``-mkdir`` always makes parents, recursive delete is ``-rmr``."""

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        try:
            self.call_check(load_hadoop_cmd() + ["fs", "-mkdir", path])
        except hdfs_error.HDFSCliError as exc:
            if "File exists" not in exc.stderr:
                raise
            if raise_if_exists:
                raise FileAlreadyExists(exc.stderr) from exc

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = False) -> None:
        cmd = load_hadoop_cmd() + ["fs", "-rmr" if recursive else "-rm"]
        if skip_trash:
            cmd.append("-skipTrash")
        self.call_check(cmd + [path])


class HdfsClientApache1(HdfsClientCdh3):
    """Apache Hadoop 1 syntax: as CDH3, but existence is ``-test -e`` and recursive listing ``-lsr``."""

    recursive_listdir_cmd = ["-lsr"]

    def exists(self, path: str) -> bool:
        cmd = load_hadoop_cmd() + ["fs", "-test", "-e", path]
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True)
        stdout, stderr = process.communicate()
        if process.returncode == 0:
            return True
        if process.returncode == 1:
            return False
        raise hdfs_error.HDFSCliError(cmd, process.returncode, stdout, stderr)
