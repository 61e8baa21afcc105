"""Files on the local disk: :class:`LocalTarget` and :class:`LocalFileSystem`.

Writes go to ``<path>-luigi-tmp-<9 digits>`` in the same directory and are
published with ``os.replace`` on close, which is atomic on one file system: a
reader sees either no file or the whole file, never a partial one.
"""

from __future__ import annotations

import errno
import io as io
import os
import random
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

from trunkline.format import FileWrapper, Format, get_default_format
from trunkline.target import (
    AtomicLocalFile,
    FileAlreadyExists,
    FileSystem,
    FileSystemTarget,
    MissingParentDirectory,
    NotADirectory,
)


class LocalTargetPathError(ValueError):
    """A LocalTarget was created with neither a path nor ``is_tmp=True``."""


class LocalTargetModeError(ValueError):
    """``LocalTarget.open`` was given a mode other than read or write."""


def _random_suffix() -> str:
    # random() and a multiply cost a third of randrange(), which is written in Python.
    return f"{int(random.random() * 1_000_000_000):09d}"


class atomic_file(AtomicLocalFile):
    """Writes beside the destination and publishes with ``os.replace`` on close."""

    def generate_tmp_path(self, path: str) -> str:
        return f"{path}-luigi-tmp-{_random_suffix()}"

    def move_to_final_destination(self) -> None:
        os.replace(self.tmp_path, self.path)


class LocalFileSystem(FileSystem):
    """File system operations on the local disk."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if self.exists(path):
            if raise_if_exists:
                raise FileAlreadyExists(f"Cannot create directory {path!r}: it already exists")
            if not self.isdir(path):
                raise NotADirectory(f"Cannot create directory {path!r}: a file is in the way")
            return
        if parents:
            os.makedirs(path, exist_ok=True)
            return
        parent = os.path.dirname(path)
        if parent and not os.path.exists(parent):
            raise MissingParentDirectory(
                f"Cannot create directory {path!r}: parent {parent!r} does not exist (pass parents=True)"
            )
        os.mkdir(path)

    def listdir(self, path: str) -> Iterator[str]:
        for directory, _, file_names in os.walk(path):
            for name in file_names:
                yield os.path.join(directory, name)

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        if recursive and self.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)

    def copy(self, old_path: str, new_path: str, raise_if_exists: bool = False) -> None:
        if raise_if_exists and os.path.exists(new_path):
            raise RuntimeError(f"Destination exists: {new_path}")
        self._make_parent(new_path)
        shutil.copy(old_path, new_path)

    def move(self, old_path: str, new_path: str, raise_if_exists: bool = False) -> None:
        """Move atomically; across devices, copy beside the destination then replace."""
        if raise_if_exists and os.path.exists(new_path):
            raise FileAlreadyExists(f"Destination exists: {new_path}")
        self._make_parent(new_path)
        try:
            os.replace(old_path, new_path)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            staged = f"{new_path}-{_random_suffix()}"
            shutil.copy(old_path, staged)
            os.replace(staged, new_path)
            os.remove(old_path)

    def rename_dont_move(self, path: str, dest: str) -> None:
        self.move(path, dest, raise_if_exists=True)

    def _make_parent(self, path: str) -> None:
        parent = os.path.dirname(path)
        if parent and not os.path.exists(parent):
            self.mkdir(parent)


class LocalTarget(FileSystemTarget):
    """A file on the local disk.

    ``is_tmp=True`` without a path picks ``<tmpdir>/luigi-tmp-<9 digits>``;
    temporary targets delete their file when the target object is dropped.
    """

    fs: Any = LocalFileSystem()

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        format: Format | None = None,
        is_tmp: bool = False,
    ) -> None:
        if not path:
            if not is_tmp:
                raise LocalTargetPathError(
                    "LocalTarget needs a path, or is_tmp=True for a temporary file; got path="
                    f"{path!r}"
                )
            path = os.path.join(tempfile.gettempdir(), f"luigi-tmp-{_random_suffix()}")
        super().__init__(path)
        self.format = format if format is not None else get_default_format()
        self.is_tmp = is_tmp

    def makedirs(self) -> None:
        """Create the parent directories of the path if they are missing."""
        parent = os.path.dirname(os.path.normpath(self.path))
        # One stat when the directory exists (the usual case) rather than a
        # mkdir that fails with FileExistsError inside os.makedirs.
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)

    def open(self, mode: str = "r") -> Any:
        """``'r'`` reads, ``'w'`` writes atomically; ``b``/``t`` are ignored (use ``format=Nop`` for bytes)."""
        base_mode = mode if mode == "w" or mode == "r" else mode.replace("b", "").replace("t", "")
        if base_mode == "w":
            return self.format.pipe_writer(self._open_temporary_file())
        if base_mode == "r":
            return self.format.pipe_reader(FileWrapper(open(self.path, "rb")))
        raise LocalTargetModeError(f"mode must be 'r' or 'w' (got: {mode})")

    def _open_temporary_file(self) -> atomic_file:
        """The temporary file beside the path, its directory made first if missing.

        The directory usually exists, so the file is opened first and
        ``makedirs()`` runs (then the open again) only when the open finds no
        directory: one ``stat`` less per write, the same files and errors.
        A subclass's own ``makedirs()`` still runs first, every time.
        """
        if type(self).makedirs is not LocalTarget.makedirs:
            self.makedirs()
            return atomic_file(self.path)
        try:
            return atomic_file(self.path)
        except (FileNotFoundError, NotADirectoryError):
            pass  # not raised from here, so a failure below is not chained to this one
        self.makedirs()
        return atomic_file(self.path)

    def move(self, new_path: str, raise_if_exists: bool = False) -> None:
        self.fs.move(self.path, new_path, raise_if_exists=raise_if_exists)

    def move_dir(self, new_path: str) -> None:
        self.move(new_path)

    def remove(self) -> None:
        self.fs.remove(self.path)

    def copy(self, new_path: str, raise_if_exists: bool = False) -> None:
        self.fs.copy(self.path, new_path, raise_if_exists)

    @property
    def fn(self) -> str:
        warnings.warn(
            "Use LocalTarget.path to reference filename", DeprecationWarning, stacklevel=2
        )
        return self.path

    def __del__(self) -> None:
        if getattr(self, "is_tmp", False) and self.exists():
            self.remove()
