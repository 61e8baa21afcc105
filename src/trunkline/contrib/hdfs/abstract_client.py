"""The interface every HDFS client implements (Hadoop 2 semantics)."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

import trunkline as luigi
import trunkline.target


class HdfsFileSystem(luigi.target.FileSystem, metaclass=abc.ABCMeta):
    """An HDFS client; ``rename`` is HDFS's name for ``move``."""

    def rename(self, path: Any, dest: str) -> Any:
        return self.move(path, dest)

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Rename ``path`` to ``dest``, never into ``dest`` when that is a directory.

        Not atomic here (check, then move); a client with HDFS's rename2 can do better.
        """
        super().rename_dont_move(path, dest)

    @abc.abstractmethod
    def remove(self, path: str, recursive: bool = True, skip_trash: bool = False) -> None: ...

    @abc.abstractmethod
    def chmod(self, path: str, permissions: Any, recursive: bool = False) -> None: ...

    @abc.abstractmethod
    def chown(self, path: str, owner: str | None, group: str | None, recursive: bool = False) -> None: ...

    @abc.abstractmethod
    def count(self, path: str) -> dict[str, Any]:
        """Directory, file and byte counts below ``path``."""

    @abc.abstractmethod
    def copy(self, path: str, destination: str) -> None: ...

    @abc.abstractmethod
    def put(self, local_path: str, destination: str) -> None: ...

    @abc.abstractmethod
    def get(self, path: str, local_destination: str) -> None: ...

    @abc.abstractmethod
    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None: ...

    @abc.abstractmethod
    def listdir(
        self,
        path: str,
        ignore_directories: bool = False,
        ignore_files: bool = False,
        include_size: bool = False,
        include_type: bool = False,
        include_time: bool = False,
        recursive: bool = False,
    ) -> Iterable[Any]: ...

    @abc.abstractmethod
    def touchz(self, path: str) -> None: ...
