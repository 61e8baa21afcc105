"""Files on FTP (``ftplib``, optionally over TLS) and SFTP servers: :class:`RemoteTarget`.

Every operation opens a connection, does its work and closes it, so a
target can be checked from any worker process without shared state.

Writes go to a local temporary file; on close it is uploaded to
``<dir>/luigi-tmp-<digits>`` beside the destination and renamed into place, so
the remote path appears whole or not at all. Reads download to a local
temporary file first.

``sftp=True`` speaks SFTP through paramiko (``pip install "trunkline[ftp]"``);
``pysftp_conn_kwargs`` keeps Luigi's name and accepts ``private_key``,
``private_key_pass`` and ``cnopts`` (ignored: host keys are not checked, as
pysftp's ``CnOpts(hostkeys=None)``) besides paramiko's ``connect`` arguments.
Note that plain FTP sends passwords and data unencrypted.
"""

from __future__ import annotations

import datetime
import ftplib
import io
import logging
import os
import posixpath
import random
import tempfile
from typing import Any

import trunkline as luigi
import trunkline.format
import trunkline.local_target
import trunkline.target
from trunkline.contrib._optional import require
from trunkline.format import FileWrapper

logger = logging.getLogger("luigi-interface")


def _temp_name() -> str:
    return f"luigi-tmp-{random.randrange(0, 10_000_000_000):09d}"


class _Sftp:
    """The few pysftp.Connection methods this module uses, on a paramiko SFTP session."""

    def __init__(self, host: str, username: str | None, password: str | None, port: int, **kwargs: Any) -> None:
        paramiko = require("paramiko", "ftp", "RemoteTarget(sftp=True)")
        kwargs.pop("cnopts", None)
        key_file = kwargs.pop("private_key", None)
        key_pass = kwargs.pop("private_key_pass", None)
        self._ssh = paramiko.SSHClient()
        self._ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self._ssh.connect(
            host,
            port=port,
            username=username,
            password=password,
            key_filename=key_file,
            passphrase=key_pass,
            allow_agent=False,
            look_for_keys=key_file is None and password is None,
            **kwargs,
        )
        self.sftp = self._ssh.open_sftp()

    def stat(self, path: str) -> Any:
        return self.sftp.stat(path)

    def exists(self, path: str) -> bool:
        try:
            self.sftp.stat(path)
        except FileNotFoundError:
            return False
        return True

    def isdir(self, path: str) -> bool:
        import stat

        try:
            return stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False

    def makedirs(self, path: str) -> None:
        if not path or path in ("/", ".") or self.isdir(path):
            return
        self.makedirs(posixpath.dirname(path.rstrip("/")))
        self.sftp.mkdir(path)

    def remove_tree(self, path: str) -> None:
        for entry in self.sftp.listdir(path):
            child = posixpath.join(path, entry)
            if self.isdir(child):
                self.remove_tree(child)
            else:
                self.sftp.remove(child)
        self.sftp.rmdir(path)

    def close(self) -> None:
        self.sftp.close()
        self._ssh.close()


class RemoteFileSystem(luigi.target.FileSystem):
    """An FTP/FTPS or SFTP server; port defaults to 21 (FTP) or 22 (SFTP)."""

    def __init__(
        self,
        host: str,
        username: str | None = None,
        password: str | None = None,
        port: int | None = None,
        tls: bool = False,
        timeout: float = 60,
        sftp: bool = False,
        pysftp_conn_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout = timeout
        self.sftp = sftp
        self.pysftp_conn_kwargs = pysftp_conn_kwargs or {}
        self.port = port if port is not None else (22 if sftp else 21)
        self.conn: Any = None

    # -- connections -------------------------------------------------------------

    def _connect(self) -> None:
        if self.sftp:
            self._sftp_connect()
        else:
            self._ftp_connect()

    def _sftp_connect(self) -> None:
        self.conn = _Sftp(self.host, self.username, self.password, self.port, **self.pysftp_conn_kwargs)

    def _ftp_connect(self) -> None:
        self.conn = ftplib.FTP_TLS() if self.tls else ftplib.FTP()
        self.conn.connect(self.host, self.port, timeout=self.timeout)
        self.conn.login(self.username or "", self.password or "")
        if self.tls:
            self.conn.prot_p()  # encrypt the data channel too, not only the commands

    def _close(self) -> None:
        if self.sftp:
            self._sftp_close()
        else:
            self._ftp_close()

    def _sftp_close(self) -> None:
        self.conn.close()

    def _ftp_close(self) -> None:
        self.conn.quit()

    def _session(self, ftp_method: Any, sftp_method: Any, *args: Any) -> Any:
        self._connect()
        try:
            return (sftp_method if self.sftp else ftp_method)(*args)
        finally:
            self._close()

    # -- operations --------------------------------------------------------------

    def exists(self, path: str, mtime: datetime.datetime | None = None) -> bool:
        """True if ``path`` exists (and, given ``mtime``, was modified after it)."""
        return bool(self._session(self._ftp_exists, self._sftp_exists, path, mtime))

    def _sftp_exists(self, path: str, mtime: Any) -> bool:
        if mtime:
            stamp = mtime.timestamp() if isinstance(mtime, datetime.datetime) else mtime
            return bool(self.conn.exists(path) and self.conn.stat(path).st_mtime > stamp)
        return bool(self.conn.exists(path))

    def _ftp_exists(self, path: str, mtime: datetime.datetime | None) -> bool:
        directory, name = os.path.split(path)
        try:
            listing = self.conn.nlst(directory)
        except ftplib.error_perm:  # the directory itself is missing
            return False
        if path not in listing and name not in listing:
            return False
        if mtime:
            reply = self.conn.sendcmd("MDTM " + path)
            return bool(datetime.datetime.strptime(reply[4:].strip(), "%Y%m%d%H%M%S") > mtime)
        return True

    def remove(self, path: str, recursive: bool = True) -> None:  # type: ignore[override]
        self._session(self._ftp_remove, self._sftp_remove, path, recursive)

    def _sftp_remove(self, path: str, recursive: bool) -> None:
        if not self.conn.isdir(path):
            self.conn.sftp.remove(path)
            return
        if not recursive:
            raise RuntimeError("Path is not a regular file, and recursive option is not set")
        self.conn.remove_tree(path)

    def _ftp_remove(self, path: str, recursive: bool) -> None:
        if recursive:
            self._rm_recursive(self.conn, path)
            return
        try:
            self.conn.delete(path)
        except ftplib.all_errors:
            self.conn.rmd(path)

    def _rm_recursive(self, ftp: ftplib.FTP, path: str) -> None:
        """Delete a file, or a directory and everything in it."""
        home = ftp.pwd()
        try:
            ftp.cwd(path)
        except ftplib.all_errors:
            ftp.delete(path)  # not a directory
            return
        try:
            names = ftp.nlst()
        except ftplib.all_errors:
            names = []
        for name in names:
            if posixpath.basename(name) in (".", ".."):
                continue
            self._rm_recursive(ftp, posixpath.join(ftp.pwd(), posixpath.basename(name)))
            ftp.cwd(path)
        ftp.cwd(home)
        try:
            ftp.rmd(path)
        except ftplib.all_errors as exc:
            logger.warning("Could not remove %s: %s", path, exc)

    def put(self, local_path: str, path: str, atomic: bool = True) -> None:
        """Upload a local file; ``atomic`` uploads beside ``path`` and renames it into place."""
        self._session(self._ftp_put, self._sftp_put, local_path, path, atomic)

    def _sftp_put(self, local_path: str, path: str, atomic: bool) -> None:
        normpath = posixpath.normpath(path)
        directory = posixpath.dirname(normpath)
        self.conn.makedirs(directory)
        tmp_path = posixpath.join(directory, _temp_name()) if atomic else normpath
        self.conn.sftp.put(local_path, tmp_path)
        if atomic:
            # posix_rename replaces an existing file, as a local rename would.
            self.conn.sftp.posix_rename(tmp_path, normpath)

    def _ftp_put(self, local_path: str, path: str, atomic: bool) -> None:
        normpath = posixpath.normpath(path)
        folder = posixpath.dirname(normpath)
        if folder.startswith("/"):
            self.conn.cwd("/")
        for part in folder.split("/"):
            if not part:
                continue
            if part not in [posixpath.basename(n) for n in self.conn.nlst()]:
                self.conn.mkd(part)
            self.conn.cwd(part)
        self.conn.cwd("/")
        tmp_path = posixpath.join(folder, _temp_name()) if atomic else normpath
        with open(local_path, "rb") as source:
            self.conn.storbinary(f"STOR {tmp_path}", source)
        if atomic:
            self.conn.rename(tmp_path, normpath)

    def get(self, path: str, local_path: str) -> None:
        """Download to ``local_path`` (through a temporary file beside it, then a rename)."""
        folder = os.path.dirname(os.path.normpath(local_path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        tmp_local_path = f"{local_path}-{_temp_name()}"
        try:
            self._session(self._ftp_get, self._sftp_get, path, tmp_local_path)
            os.replace(tmp_local_path, local_path)
        finally:
            if os.path.exists(tmp_local_path):
                os.remove(tmp_local_path)

    def _sftp_get(self, path: str, tmp_local_path: str) -> None:
        self.conn.sftp.get(path, tmp_local_path)

    def _ftp_get(self, path: str, tmp_local_path: str) -> None:
        with open(tmp_local_path, "wb") as sink:
            self.conn.retrbinary(f"RETR {path}", sink.write)

    def listdir(self, path: str = ".") -> list[str]:
        """The names in directory ``path``, as the server lists them."""
        return list(self._session(self._ftp_listdir, self._sftp_listdir, path))

    def _sftp_listdir(self, path: str) -> list[str]:
        return list(self.conn.sftp.listdir(path))

    def _ftp_listdir(self, path: str) -> list[str]:
        return list(self.conn.nlst(path))


class AtomicFtpFile(luigi.target.AtomicLocalFile):
    """A local temporary file, uploaded with an atomic put on close."""

    def __init__(self, fs: RemoteFileSystem, path: str) -> None:
        self._fs = fs
        super().__init__(path)

    def generate_tmp_path(self, path: str) -> str:
        return os.path.join(tempfile.gettempdir(), f"luigi-contrib-ftp-{_temp_name()}")

    def move_to_final_destination(self) -> None:
        try:
            self._fs.put(self.tmp_path, self.path)
        finally:
            self._remove_temporary_file()

    @property
    def fs(self) -> RemoteFileSystem:
        return self._fs


class RemoteTarget(luigi.target.FileSystemTarget):
    """A file on an FTP or SFTP server, read and written through local temporary files."""

    def __init__(
        self,
        path: str,
        host: str,
        format: trunkline.format.Format | None = None,
        username: str | None = None,
        password: str | None = None,
        port: int | None = None,
        mtime: datetime.datetime | None = None,
        tls: bool = False,
        timeout: float = 60,
        sftp: bool = False,
        pysftp_conn_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.mtime = mtime
        self.format = format if format is not None else luigi.format.get_default_format()
        self.tls = tls
        self.timeout = timeout
        self.sftp = sftp
        self._fs = RemoteFileSystem(host, username, password, port, tls, timeout, sftp, pysftp_conn_kwargs)

    @property
    def fs(self) -> RemoteFileSystem:
        return self._fs

    def open(self, mode: str) -> Any:
        if mode == "w":
            return self.format.pipe_writer(AtomicFtpFile(self._fs, self.path))
        if mode == "r":
            # The download lives in a private directory removed when this target goes away.
            self.__temp_dir = tempfile.TemporaryDirectory(prefix="luigi-contrib-ftp_")
            local = os.path.join(self.__temp_dir.name, os.path.basename(self.path) or "download")
            self._fs.get(self.path, local)
            return self.format.pipe_reader(FileWrapper(io.BufferedReader(io.FileIO(local, "r"))))
        raise ValueError(f"mode must be 'r' or 'w' (got: {mode})")

    def exists(self) -> bool:
        return self.fs.exists(self.path, self.mtime)

    def put(self, local_path: str, atomic: bool = True) -> None:
        self.fs.put(local_path, self.path, atomic)

    def get(self, local_path: str) -> None:
        self.fs.get(self.path, local_path)
