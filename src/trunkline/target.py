"""Targets: the outputs a task produces, and the file systems they live on.

A task is complete when every target it outputs ``exists()``. File-backed
targets write through a temporary path and publish with a rename, so a crash
or an exception part-way through a write never leaves something at the output
path that looks complete.

Exception hierarchy::

    FileSystemException
    ├── FileAlreadyExists        the destination exists but must not
    ├── MissingParentDirectory   mkdir without parents, and the parent is absent
    └── NotADirectory            a directory was expected, a file was found
"""

from __future__ import annotations

import abc
import io
import logging
import os
import random
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any

logger = logging.getLogger("luigi-interface")


class Target(metaclass=abc.ABCMeta):
    """Something a task produces; the task is complete when it ``exists()``."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Return True when the target has been produced."""


class FileSystemException(Exception):
    """A file system operation could not be carried out."""


class FileAlreadyExists(FileSystemException):
    """The destination of an operation exists but is required not to."""


class MissingParentDirectory(FileSystemException):
    """The parent directory is missing and creating parents was not asked for."""


class NotADirectory(FileSystemException):
    """A directory was expected at a path that holds a file."""


class FileSystem(metaclass=abc.ABCMeta):
    """The operations a :class:`FileSystemTarget` delegates to.

    ``exists`` and ``remove`` are required; the others are optional and raise
    ``NotImplementedError`` naming the file system class when absent.
    """

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Return True if a file or directory exists at ``path``."""

    @abc.abstractmethod
    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove the file or directory at ``path``."""

    def _not_implemented(self, operation: str) -> NotImplementedError:
        return NotImplementedError(f"{operation}() not implemented on {type(self).__name__}")

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Create a directory (and its parents unless ``parents`` is False)."""
        raise self._not_implemented("mkdir")

    def isdir(self, path: str) -> bool:
        """Return True if ``path`` is a directory."""
        raise self._not_implemented("isdir")

    def listdir(self, path: str) -> Iterable[str]:
        """Return the files below ``path``, recursively."""
        raise self._not_implemented("listdir")

    def move(self, path: str, dest: str) -> None:
        """Move ``path`` to ``dest``."""
        raise self._not_implemented("move")

    def copy(self, path: str, dest: str) -> None:
        """Copy ``path`` to ``dest``."""
        raise self._not_implemented("copy")

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Rename ``path`` to ``dest`` without moving it *into* ``dest`` if that is a folder.

        The default is not atomic (check, then move); file systems that can do
        better override it.
        """
        warnings.warn(f"File system {type(self).__name__} client doesn't support atomic mv.")
        if self.exists(dest):
            raise FileAlreadyExists(f"Cannot rename {path!r}: destination {dest!r} already exists")
        self.move(path, dest)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        """Same as :meth:`move`."""
        self.move(*args, **kwargs)


class FileSystemTarget(Target):
    """A target at a path on a :class:`FileSystem` (given by the ``fs`` property)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    def __str__(self) -> str:
        return self.path

    @property
    @abc.abstractmethod
    def fs(self) -> FileSystem:
        """The file system this target lives on."""

    @abc.abstractmethod
    def open(self, mode: str) -> IO[Any]:
        """Open for reading (``'r'``) or writing (``'w'``); use ``format=Nop`` for bytes."""

    def exists(self) -> bool:
        path = self.path
        # Four plain membership tests: no generator to set up on every completeness check.
        if "*" in path or "?" in path or "[" in path or "{" in path:
            logger.warning(
                "Using wildcards in path %s might lead to processing of an incomplete dataset; "
                "override exists() to suppress the warning.",
                path,
            )
        return self.fs.exists(path)

    def remove(self) -> None:
        self.fs.remove(self.path)

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """Yield a temporary path to write to; it is renamed to ``path`` on a clean exit.

        The parent directory is created first, so the temporary path is
        writable at once. If the block raises, nothing is renamed.
        """
        bare_path = self.path.rstrip("/").rstrip("\\")
        suffix = random.randrange(0, 10_000_000_000)
        temp_path = f"{bare_path}-luigi-tmp-{suffix:010d}{self._trailing_slash()}"
        parent = os.path.dirname(bare_path)
        if parent:
            self.fs.mkdir(parent, parents=True, raise_if_exists=False)
        yield temp_path
        self.fs.rename_dont_move(temp_path, self.path)

    def _touchz(self) -> None:
        with self.open("w"):
            pass

    def _trailing_slash(self) -> str:
        return self.path[-1] if self.path and self.path[-1] in "/\\" else ""


class PublishOnCleanExit:
    """``with`` for writers that publish on ``close()``: a block that ends
    normally publishes; one that raises calls ``abort()`` and publishes nothing."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()  # type: ignore[attr-defined]
        else:
            self.abort()  # type: ignore[attr-defined]


def _naming_destination(exc: OSError, path: str) -> OSError:
    """The same error about the output path the user named, not the temporary file beside it."""
    if exc.errno is None or not exc.filename or exc.filename == path:
        return exc
    return type(exc)(exc.errno, exc.strerror, path)


class AtomicLocalFile(PublishOnCleanExit, io.BufferedWriter):
    """A buffered writer to a local temporary file that is published on ``close()``.

    Subclasses say how to publish (``move_to_final_destination``) and may
    choose where the temporary file goes (``generate_tmp_path``).

    Leaving a ``with`` block by an exception publishes nothing and deletes the
    temporary file; so does dropping the object without closing it.
    """

    def __init__(self, path: str) -> None:
        self.__tmp_path = self.generate_tmp_path(path)
        self.path = path
        try:
            raw = io.FileIO(self.__tmp_path, "w")
        except OSError as exc:
            raise _naming_destination(exc, path) from exc
        super().__init__(raw)
        self._finished = False

    @property
    def tmp_path(self) -> str:
        return self.__tmp_path

    def generate_tmp_path(self, path: str) -> str:
        """Beside a local destination (so publishing is a same-disk rename), else in the temp dir.

        Remote destinations (``s3://...``) have no local directory, so their
        temporary file goes to the system temp directory, as in Luigi.
        """
        suffix = random.randrange(0, 10_000_000_000)
        parent = os.path.dirname(path) or "."
        if os.path.isdir(parent):
            return f"{path}-luigi-tmp-{suffix:09d}"
        return os.path.join(tempfile.gettempdir(), f"luigi-s3-tmp-{suffix:09d}")

    def move_to_final_destination(self) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} must implement move_to_final_destination() to publish {self.tmp_path}"
        )

    def close(self) -> None:
        """Flush, close and publish; a second call does nothing."""
        if self._finished:
            return
        self._finished = True
        super().close()
        try:
            self.move_to_final_destination()
        except OSError as exc:
            self._remove_temporary_file()
            raise _naming_destination(exc, self.path) from exc

    def abort(self) -> None:
        """Discard what was written: close without publishing and delete the temporary file."""
        if self._finished:
            return
        self._finished = True
        # Closing the raw file first makes the buffered close a no-op, so buffered
        # bytes are dropped rather than flushed.
        self.raw.close()
        self._remove_temporary_file()

    def _remove_temporary_file(self) -> None:
        try:
            os.remove(self.tmp_path)
        except FileNotFoundError:
            pass

    def __del__(self) -> None:
        # Never publish from the garbage collector: an unclosed write is abandoned.
        if not getattr(self, "_finished", True):
            self.abort()
