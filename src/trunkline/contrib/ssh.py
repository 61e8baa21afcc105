"""Remote commands and files over the ``ssh`` command line: :class:`RemoteContext`, :class:`RemoteTarget`.

:class:`RemoteContext` is ``subprocess`` on another machine: ``Popen`` and
``check_output`` prefix the command with ``ssh [options] host``, and
``tunnel()`` forwards a local port for the length of a ``with`` block. It uses
the OpenSSH client on PATH (``ssh``, ``scp``; ``sshpass`` with ``sshpass=True``),
so ``~/.ssh/config``, agents and jump hosts work as they do in a shell; no
Python library is needed.

:class:`RemoteTarget` streams a remote file: reads through ``ssh host cat
path``, writes through ``ssh host 'cat > path-luigi-tmp-<digits>'`` followed by
an ``mv`` into place on close, so the file appears whole or not at all. A write
that raises removes its temporary file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import random
import subprocess
from collections.abc import Iterator
from typing import Any

import trunkline as luigi
import trunkline.format
import trunkline.target

logger = logging.getLogger("luigi-interface")


def _temp_suffix() -> str:
    return f"-luigi-tmp-{random.randrange(0, 10_000_000_000):09d}"


class RemoteCalledProcessError(subprocess.CalledProcessError):
    """A remote command exited non-zero; ``host`` says where it ran."""

    def __init__(self, returncode: int, command: Any, host: str, output: bytes | None = None) -> None:
        super().__init__(returncode, command, output)
        self.host = host

    def __str__(self) -> str:
        return f"Command '{self.cmd}' on host {self.host} returned non-zero exit status {self.returncode}"


class RemoteContext:
    """Where and how to reach a host: ``username``, ``key_file``, ``port``, ``connect_timeout``,
    ``no_host_key_check``, ``sshpass`` (password from ``$SSHPASS``) and ``tty``."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        self.host = host
        self.username: str | None = kwargs.get("username")
        self.key_file: str | None = kwargs.get("key_file")
        self.connect_timeout: int | None = kwargs.get("connect_timeout")
        self.port: Any = kwargs.get("port")
        self.no_host_key_check: bool = kwargs.get("no_host_key_check", False)
        self.sshpass: bool = kwargs.get("sshpass", False)
        self.tty: bool = kwargs.get("tty", False)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.host!r}, {self.username!r}, {self.key_file!r}, "
            f"{self.connect_timeout!r}, {self.port!r})"
        )

    def __eq__(self, other: object) -> bool:
        return repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def _host_ref(self) -> str:
        return f"{self.username}@{self.host}" if self.username else self.host

    def _prepare_cmd(self, cmd: list[str]) -> list[str]:
        """``cmd`` prefixed with the ssh invocation that runs it on the host."""
        connection = ["ssh", self._host_ref(), "-o", "ControlMaster=no"]
        if self.sshpass:
            connection = ["sshpass", "-e", *connection]
        else:
            connection += ["-o", "BatchMode=yes"]  # fail instead of prompting for a password
        if self.port:
            connection += ["-p", str(self.port)]
        if self.connect_timeout is not None:
            connection += ["-o", f"ConnectTimeout={int(self.connect_timeout)}"]
        if self.no_host_key_check:
            connection += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
        if self.key_file:
            connection += ["-i", self.key_file]
        if self.tty:
            connection.append("-t")
        return connection + list(cmd)

    def Popen(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802 - Luigi's name
        """``subprocess.Popen`` of ``cmd`` on the host."""
        return subprocess.Popen(self._prepare_cmd(cmd), **kwargs)

    def check_output(self, cmd: list[str]) -> bytes:
        """Run ``cmd`` on the host and return its standard output; RemoteCalledProcessError on failure."""
        process = self.Popen(cmd, stdout=subprocess.PIPE)
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RemoteCalledProcessError(process.returncode, cmd, self.host, output=output)
        return bytes(output)

    @contextlib.contextmanager
    def tunnel(self, local_port: int, remote_port: int | None = None, remote_host: str = "localhost") -> Iterator[None]:
        """Forward localhost:``local_port`` to ``remote_host``:``remote_port`` as seen from the host."""
        process = self.Popen(
            # The remote side prints a marker once the connection (and so the
            # forward) is up, then holds the session open until stdin closes.
            ["-L", f"{local_port}:{remote_host}:{remote_port}", "echo -n ready && cat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        if process.stdout.read(5) != b"ready":
            process.kill()
            process.wait()
            raise RuntimeError(f"ssh tunnel to {self.host} did not come up (exit {process.returncode})")
        try:
            yield
        finally:
            process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"ssh tunnel process exited uncleanly (returncode {process.returncode})")


class RemoteFileSystem(luigi.target.FileSystem):
    """A host's file system, through shell commands run over ssh."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        self.remote_context = RemoteContext(host, **kwargs)

    def _test(self, flag: str, path: str) -> bool:
        try:
            self.remote_context.check_output(["test", flag, path])
        except subprocess.CalledProcessError as exc:
            if exc.returncode == 1:  # test's "false"; anything else (255: ssh failed) is an error
                return False
            raise
        return True

    def exists(self, path: str) -> bool:
        return self._test("-e", path)

    def isdir(self, path: str) -> bool:
        return self._test("-d", path)

    def listdir(self, path: str) -> list[str]:
        """Every file below ``path``, recursively (following links)."""
        path = path.rstrip("/") or "."
        listing = self.remote_context.check_output(["find", "-L", path, "-type", "f"]).splitlines()
        return [line.decode("utf-8") for line in listing]

    def remove(self, path: str, recursive: bool = True) -> None:  # type: ignore[override]
        self.remote_context.check_output(["rm", "-r", path] if recursive else ["rm", path])

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if self.exists(path):
            if raise_if_exists:
                raise luigi.target.FileAlreadyExists(f"Cannot create {path}: it already exists")
            if not self.isdir(path):
                raise luigi.target.NotADirectory(f"Cannot create {path}: a file is in the way")
            return
        # stderr folded into stdout so a missing parent can be told apart from other failures.
        cmd = ["mkdir", "-p", path] if parents else ["mkdir", path, "2>&1"]
        try:
            self.remote_context.check_output(cmd)
        except subprocess.CalledProcessError as exc:
            if b"no such file" in (exc.output or b"").lower():
                raise luigi.target.MissingParentDirectory(
                    f"Cannot create {path}: its parent does not exist (pass parents=True)"
                ) from exc
            raise

    def _scp(self, src: str, dest: str) -> None:
        context = self.remote_context
        cmd = ["scp", "-q", "-C", "-o", "ControlMaster=no"]
        if context.sshpass:
            cmd = ["sshpass", "-e", *cmd]
        else:
            cmd.append("-B")
        if context.no_host_key_check:
            cmd += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
        if context.key_file:
            cmd += ["-i", context.key_file]
        if context.port:
            cmd += ["-P", str(context.port)]
        if os.path.isdir(src):
            cmd.append("-r")
        cmd += [src, dest]
        process = subprocess.Popen(cmd)
        output, _ = process.communicate()
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, cmd, output=output)

    def put(self, local_path: str, path: str) -> None:
        """Copy a local file to ``path``: scp beside it, then ``mv`` into place."""
        folder = posixpath.dirname(posixpath.normpath(path))
        if folder and not self.exists(folder):
            self.remote_context.check_output(["mkdir", "-p", folder])
        tmp_path = path + _temp_suffix()
        self._scp(local_path, f"{self.remote_context._host_ref()}:{tmp_path}")
        self.remote_context.check_output(["mv", tmp_path, path])

    def get(self, path: str, local_path: str) -> None:
        """Copy ``path`` to a local file, through a temporary file beside it."""
        folder = os.path.dirname(os.path.normpath(local_path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        tmp_local_path = local_path + _temp_suffix()
        self._scp(f"{self.remote_context._host_ref()}:{path}", tmp_local_path)
        os.replace(tmp_local_path, local_path)


class AtomicRemoteFileWriter(luigi.format.OutputPipeProcessWrapper):
    """Streams into ``<path>-luigi-tmp-<digits>`` on the host; ``close()`` moves it into place."""

    def __init__(self, fs: RemoteFileSystem, path: str) -> None:
        self._fs = fs
        self.path = path
        folder = posixpath.dirname(posixpath.normpath(path))
        if folder:
            fs.mkdir(folder)
        self.__tmp_path = path + _temp_suffix()
        self._published = False
        super().__init__(fs.remote_context._prepare_cmd(["cat", ">", self.__tmp_path]))

    def close(self) -> None:
        super().close()
        self.fs.remote_context.check_output(["mv", self.__tmp_path, self.path])
        self._published = True

    def abort(self) -> None:
        super().abort()
        self._discard()

    def _discard(self) -> None:
        try:
            if self.fs.exists(self.__tmp_path):
                self.fs.remote_context.check_output(["rm", self.__tmp_path])
        except Exception:  # cleanup must not hide the error that made us abort
            logger.exception("Failed to delete in-flight file %s", self.__tmp_path)

    def __del__(self) -> None:
        # Abandoned without close(): never publish, and leave no temporary file behind.
        if not getattr(self, "_published", True) and not getattr(self, "closed", True):
            self.abort()

    @property
    def tmp_path(self) -> str:
        return self.__tmp_path

    @property
    def fs(self) -> RemoteFileSystem:
        return self._fs


class RemoteTarget(luigi.target.FileSystemTarget):
    """A file on a host reached with ``ssh``; keyword arguments are :class:`RemoteContext`'s."""

    def __init__(self, path: str, host: str, format: trunkline.format.Format | None = None, **kwargs: Any) -> None:
        super().__init__(path)
        self.format = format if format is not None else luigi.format.get_default_format()
        self._fs = RemoteFileSystem(host, **kwargs)

    @property
    def fs(self) -> RemoteFileSystem:
        return self._fs

    def open(self, mode: str = "r") -> Any:
        if mode == "w":
            writer = AtomicRemoteFileWriter(self.fs, self.path)
            return self.format.pipe_writer(writer) if self.format else writer
        if mode == "r":
            reader = luigi.format.InputPipeProcessWrapper(self.fs.remote_context._prepare_cmd(["cat", self.path]))
            return self.format.pipe_reader(reader) if self.format else reader
        raise ValueError(f"mode must be 'r' or 'w' (got: {mode})")

    def put(self, local_path: str) -> None:
        self.fs.put(local_path, self.path)

    def get(self, local_path: str) -> None:
        self.fs.get(self.path, local_path)
