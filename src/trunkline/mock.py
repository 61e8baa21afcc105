"""In-memory targets for tests: :class:`MockTarget` and :class:`MockFileSystem`.

All mock files live in one store shared by every ``MockFileSystem`` in the
process (keys are paths, values are bytes). Workers with ``workers > 1`` run
tasks in forked child processes, and the parent must see what a child wrote,
so the store is a ``multiprocessing.Manager().dict()``, as in Luigi.

The manager is a separate process, so it is started lazily, on the first use
of the store, never at import: importing trunkline (or this module) costs
nothing, and only programs that use mock targets pay for the process. A
process that uses the store before forking (a worker checks its tasks'
outputs before it starts task processes) hands the proxy to its ``fork``
children, so they share the store. Children made by ``spawn``/``forkserver``
start with an empty store of their own, as with Luigi.

Why not start the manager only when the process forks (an
``os.register_at_fork`` hook) and keep a plain dict until then? The manager's
own server process would be forked from inside that hook and inherit the pipes
``multiprocessing`` has just opened for the child being started, so waiting
for that child would block. Starting it on first use has no such race.
"""

from __future__ import annotations

import errno
import multiprocessing
import multiprocessing.managers
import sys
import threading
from collections.abc import MutableMapping
from io import BytesIO
from types import TracebackType
from typing import Any, ClassVar

from trunkline import target
from trunkline.format import Format, get_default_format

_Store = MutableMapping[str, bytes]


class MockFileNotFound(FileNotFoundError, KeyError):
    """Reading a mock file that was never written.

    Also a KeyError, because Luigi raised the store's KeyError here and tests
    written for Luigi may catch that.
    """


class MockFileSystem(target.FileSystem):
    """A file system whose files are bytes in the process-wide mock store."""

    # Class-level, so every instance (and every MockTarget) sees the same files;
    # created on first use, see the module docstring.
    _data: ClassVar[_Store | None] = None
    _manager: ClassVar[multiprocessing.managers.SyncManager | None] = None
    # The worker checks outputs from several threads; only one may start the manager.
    _creation_lock: ClassVar[threading.Lock] = threading.Lock()

    def get_all_data(self) -> _Store:
        """The whole store: a mapping from path to bytes."""
        data = MockFileSystem._data
        if data is None:
            with MockFileSystem._creation_lock:
                if MockFileSystem._data is None:
                    MockFileSystem._manager = multiprocessing.Manager()
                    MockFileSystem._data = MockFileSystem._manager.dict()
                data = MockFileSystem._data
        return data

    def get_data(self, fn: str) -> bytes:
        return self.get_all_data()[fn]

    def exists(self, path: str) -> bool:
        return path in self.get_all_data()

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        data = self.get_all_data()
        if raise_if_exists and dest in data:
            raise RuntimeError(f"Destination exists: {dest}")
        data[dest] = data[path]

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        data = self.get_all_data()
        if raise_if_exists and dest in data:
            raise RuntimeError(f"Destination exists: {dest}")
        data[dest] = data.pop(path)

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove ``path``; with ``recursive``, every file whose path starts with it."""
        data = self.get_all_data()
        if not recursive:
            data.pop(path)
            return
        # keys() fetches every path in one round trip to the manager; iterating
        # the proxy would cost one per path.
        paths = data.keys()
        for key in [key for key in paths if key.startswith(path)]:
            data.pop(key, None)

    def listdir(self, path: str) -> list[str]:
        """Every file whose path starts with ``path`` (a prefix match, no globs)."""
        paths = self.get_all_data().keys()  # one round trip, see remove()
        return [key for key in paths if key.startswith(path)]

    def isdir(self, path: str) -> bool:
        return bool(self.listdir(path))

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Directories are implied by file paths, so there is nothing to do."""

    def clear(self) -> None:
        self.get_all_data().clear()


class _MockFile(target.PublishOnCleanExit, BytesIO):
    """The bytes of one open mock file; a write is stored when closed, never before."""

    def __init__(self, owner: MockTarget, mode: str, initial: bytes = b"") -> None:
        super().__init__(initial)
        self._owner = owner
        self._mode = mode
        self._at_line_start = True

    def write(self, data: Any) -> int:
        if self._owner._mirror_on_stderr:
            self._mirror(data)
        return super().write(data)

    def _mirror(self, data: bytes | str) -> None:
        text = data.decode("utf8") if isinstance(data, (bytes, bytearray)) else str(data)
        if not text:
            return
        if self._at_line_start:
            sys.stderr.write(f"{self._owner.path}: ")
        sys.stderr.write(text)
        self._at_line_start = text.endswith("\n")

    def close(self) -> None:
        if not self.closed and self._mode == "w":
            self._owner.fs.get_all_data()[self._owner.path] = self.getvalue()
        super().close()

    def abort(self) -> None:
        """Drop what was written."""
        super().close()

    def __del__(self) -> None:
        # An unclosed write is abandoned, not committed.
        if not self.closed:
            self.abort()

    def readable(self) -> bool:
        return self._mode == "r"

    def writable(self) -> bool:
        return self._mode == "w"

    def seekable(self) -> bool:
        return False


class MockTarget(target.FileSystemTarget):
    """A target whose file is kept in memory by :class:`MockFileSystem`."""

    fs: Any = MockFileSystem()

    def __init__(
        self,
        fn: str,
        is_tmp: bool | None = None,
        mirror_on_stderr: bool = False,
        format: Format | None = None,
    ) -> None:
        super().__init__(fn)
        self.is_tmp = is_tmp
        self._mirror_on_stderr = mirror_on_stderr
        self.format = format or get_default_format()

    def exists(self) -> bool:
        return self.path in self.fs.get_all_data()

    def move(self, path: str, raise_if_exists: bool = False) -> None:
        self.fs.move(self.path, path, raise_if_exists)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        self.move(*args, **kwargs)

    def open(self, mode: str = "r") -> Any:
        """``'r'`` reads the stored bytes; ``'w'`` stores the written bytes on close."""
        if not isinstance(mode, str):
            raise TypeError(f"open() mode must be 'r' or 'w', not {mode!r}")
        if mode.startswith("w"):
            return self.format.pipe_writer(_MockFile(self, "w"))
        if mode.startswith("r"):
            try:
                stored = self.fs.get_all_data()[self.path]
            except KeyError:
                raise MockFileNotFound(
                    errno.ENOENT,
                    "No mock file at this path; write it (or check the path) first",
                    self.path,
                ) from None
            return self.format.pipe_reader(_MockFile(self, "r", stored))
        raise ValueError(f"mode must be 'r' or 'w' (got: {mode})")
