"""DropboxTarget and DropboxClient against a stand-in of the SDK's Dropbox connection.

Dropbox has no local emulator. The stand-in replaces ``dropbox.dropbox_client.Dropbox``
(the connection object the client makes) with an in-memory account that
answers the ``files_*`` calls with the SDK's own result and error types, so the
client's handling of metadata, paging, errors and upload sessions is exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

dropbox = pytest.importorskip("dropbox", reason='the Dropbox SDK is in the test extra: pip install -e ".[test]"')

import dropbox.dropbox_client  # noqa: E402
import dropbox.exceptions  # noqa: E402
import dropbox.files  # noqa: E402

import trunkline as luigi  # noqa: E402
from trunkline.contrib import dropbox as tl_dropbox  # noqa: E402
from trunkline.contrib.dropbox import DropboxClient, DropboxTarget  # noqa: E402
from trunkline.format import Nop  # noqa: E402
from trunkline.target import FileAlreadyExists, NotADirectory  # noqa: E402


class FakeAccount:
    """Files and folders of one account, keyed by lower-cased path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.folders: set[str] = set()
        self.sessions: dict[str, bytes] = {}
        self.calls: list[str] = []


class FakeDropbox:
    account = FakeAccount()
    page_size = 2

    def __init__(self, oauth2_access_token: str, user_agent: str) -> None:
        assert oauth2_access_token == "token"

    @staticmethod
    def _not_found(path: str) -> dropbox.exceptions.ApiError:
        error = dropbox.files.GetMetadataError.path(dropbox.files.LookupError.not_found)
        return dropbox.exceptions.ApiError("req", error, None, None)

    def files_get_metadata(self, path: str) -> Any:
        self.account.calls.append(f"get_metadata {path}")
        key = path.lower()
        if key in self.account.files:
            return dropbox.files.FileMetadata(name=key.rsplit("/", 1)[-1], path_display=path, size=len(self.account.files[key]))
        if key in self.account.folders:
            return dropbox.files.FolderMetadata(name=key.rsplit("/", 1)[-1], path_display=path)
        raise self._not_found(path)

    def files_delete_v2(self, path: str) -> None:
        key = path.lower()
        self.account.files = {k: v for k, v in self.account.files.items() if k != key and not k.startswith(key + "/")}
        self.account.folders = {f for f in self.account.folders if f != key and not f.startswith(key + "/")}

    def files_create_folder_v2(self, path: str) -> None:
        parts = path.lower().strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self.account.folders.add("/" + "/".join(parts[:i]))

    def _entries(self, path: str) -> list[str]:
        prefix = path.lower().rstrip("/") + "/"
        return sorted([p for p in (*self.account.files, *self.account.folders) if p.startswith(prefix)])

    def files_list_folder(self, path: str, recursive: bool = False) -> Any:
        return self._page(self._entries(path), 0)

    def files_list_folder_continue(self, cursor: str) -> Any:
        path, start = cursor.rsplit("|", 1)
        return self._page(self._entries(path), int(start), path)

    def _page(self, entries: list[str], start: int, path: str = "") -> Any:
        chunk = entries[start : start + self.page_size]
        more = start + self.page_size < len(entries)
        base = path or (entries[0].rsplit("/", 1)[0] if entries else "")
        return SimpleNamespace(
            entries=[SimpleNamespace(path_display=p) for p in chunk],
            has_more=more,
            cursor=f"{base}|{start + self.page_size}",
        )

    def files_move_v2(self, from_path: str, to_path: str) -> None:
        self.account.files[to_path.lower()] = self.account.files.pop(from_path.lower())

    def files_copy_v2(self, from_path: str, to_path: str) -> None:
        self.account.files[to_path.lower()] = self.account.files[from_path.lower()]

    def files_download(self, path: str) -> Any:
        if path.lower() not in self.account.files:
            raise self._not_found(path)
        return None, SimpleNamespace(content=self.account.files[path.lower()])

    def files_upload_session_start(self, data: bytes) -> Any:
        session = f"s{len(self.account.sessions)}"
        self.account.sessions[session] = data
        self.account.calls.append("session_start")
        return SimpleNamespace(session_id=session)

    def files_upload_session_append_v2(self, data: bytes, cursor: Any) -> None:
        assert cursor.offset == len(self.account.sessions[cursor.session_id])
        self.account.sessions[cursor.session_id] += data
        self.account.calls.append("session_append")

    def files_upload_session_finish(self, data: bytes, cursor: Any, commit: Any) -> None:
        content = self.account.sessions.pop(cursor.session_id) + data
        self.account.files[commit.path.lower()] = content  # visible only now
        self.account.calls.append("session_finish")


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    FakeDropbox.account = FakeAccount()
    monkeypatch.setattr(dropbox.dropbox_client, "Dropbox", FakeDropbox)
    yield FakeDropbox.account


def test_write_uploads_through_a_session_and_reads_back(account: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    target = DropboxTarget("/reports/today.txt", "token")
    with target.open("w") as out:
        out.write("one\ntwo\n")
    assert account.files == {"/reports/today.txt": b"one\ntwo\n"}
    assert account.calls[-2:] == ["session_start", "session_finish"]
    with target.open("r") as lines:
        assert list(lines) == ["one\n", "two\n"]
    monkeypatch.setattr(tl_dropbox, "_CHUNK_SIZE", 10)
    big = DropboxTarget("/big.bin", "token", format=Nop)
    with big.open("w") as out:
        out.write(b"x" * 35)
    assert account.files["/big.bin"] == b"x" * 35
    assert account.calls[-4:] == ["session_start", "session_append", "session_append", "session_finish"]


def test_a_failed_write_uploads_nothing(account: FakeAccount) -> None:
    with pytest.raises(RuntimeError):
        with DropboxTarget("/failed.txt", "token").open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert account.files == {} and "session_start" not in account.calls


def test_client_operations(account: FakeAccount) -> None:
    client = DropboxClient("token")
    with pytest.raises(ValueError):
        DropboxClient("")
    client.mkdir("/a/b")
    assert client.exists("/a") and client.isdir("/a/b") and client.exists("/")
    assert client.exists("/a/")  # a trailing slash on a folder is accepted
    account.files["/a/b/f.txt"] = b"data"
    account.files["/a/g.txt"] = b"more"
    assert not client.isdir("/a/g.txt") and not client.exists("/nothing")
    with pytest.raises(NotADirectory):
        client.mkdir("/a/g.txt")
    with pytest.raises(FileAlreadyExists):
        client.mkdir("/a", raise_if_exists=True)
    assert client.listdir("/a") == ["/a/b", "/a/b/f.txt", "/a/g.txt"]  # two pages
    client.copy("/a/g.txt", "/a/h.txt")
    client.move("/a/h.txt", "/i.txt")
    assert client.download_as_bytes("/i.txt") == b"more"
    assert client.remove("/a") is True
    assert client.remove("/a") is False
    assert sorted(account.files) == ["/i.txt"]


def test_a_task_writing_to_dropbox_runs_once(account: FakeAccount) -> None:
    runs = []

    class Share(luigi.Task):
        def output(self) -> DropboxTarget:
            return DropboxTarget("/shared/out.txt", "token")

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("shared")

    assert luigi.build([Share()], local_scheduler=True)
    assert luigi.build([Share()], local_scheduler=True)
    assert runs == [1]
