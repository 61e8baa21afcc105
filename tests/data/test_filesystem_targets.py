from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from trunkline.local_target import LocalFileSystem, LocalTarget
from trunkline.target import (
    AtomicLocalFile,
    FileAlreadyExists,
    FileSystem,
    FileSystemTarget,
    Target,
)


class OnlyRequiredFileSystem(FileSystem):
    """A file system with just the two required operations, over a set of paths."""

    def __init__(self, paths: set[str]) -> None:
        self.paths = paths
        self.moves: list[tuple[str, str]] = []

    def exists(self, path: str) -> bool:
        return path in self.paths

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        self.paths.discard(path)

    def move(self, path: str, dest: str) -> None:
        self.moves.append((path, dest))
        self.paths.discard(path)
        self.paths.add(dest)


class RecordingTarget(FileSystemTarget):
    def __init__(self, path: str, fs: FileSystem) -> None:
        super().__init__(path)
        self._fs = fs

    @property
    def fs(self) -> FileSystem:
        return self._fs

    def open(self, mode: str = "r") -> Any:
        raise NotImplementedError


def test_target_without_exists_cannot_be_instantiated() -> None:
    class Incomplete(Target):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_optional_file_system_operations_name_the_file_system_when_missing() -> None:
    fs = OnlyRequiredFileSystem(set())
    for call in (
        lambda: fs.mkdir("d"),
        lambda: fs.isdir("d"),
        lambda: fs.listdir("d"),
        lambda: fs.copy("a", "b"),
    ):
        with pytest.raises(NotImplementedError, match="OnlyRequiredFileSystem"):
            call()


def test_default_rename_dont_move_refuses_an_existing_destination() -> None:
    fs = OnlyRequiredFileSystem({"src", "dest"})
    with pytest.warns(UserWarning, match="atomic mv"), pytest.raises(FileAlreadyExists):
        fs.rename_dont_move("src", "dest")
    assert fs.moves == []


def test_default_rename_dont_move_moves_when_the_destination_is_free() -> None:
    fs = OnlyRequiredFileSystem({"src"})
    with pytest.warns(UserWarning):
        fs.rename_dont_move("src", "dest")
    assert fs.paths == {"dest"}


def test_rename_is_move() -> None:
    fs = OnlyRequiredFileSystem({"a"})
    fs.rename("a", "b")
    assert fs.moves == [("a", "b")]


def test_file_system_target_accepts_a_pathlike_and_prints_as_its_path(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")
    assert target.path == str(tmp_path / "out.txt")
    assert str(target) == target.path


def test_exists_and_remove_are_delegated_to_the_file_system() -> None:
    fs = OnlyRequiredFileSystem({"data/file"})
    target = RecordingTarget("data/file", fs)
    assert target.exists()
    target.remove()
    assert not target.exists()


@pytest.mark.parametrize("path", ["data/*.csv", "data/part-?", "data/[ab]", "data/{x,y}"])
def test_exists_warns_when_the_path_contains_wildcards(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = RecordingTarget(path, OnlyRequiredFileSystem(set()))
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        target.exists()
    assert "wildcards" in caplog.text and path in caplog.text


def test_exists_does_not_warn_for_a_plain_path(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        RecordingTarget("data/plain.csv", OnlyRequiredFileSystem(set())).exists()
    assert caplog.text == ""


def test_temporary_path_is_renamed_to_the_target_on_a_clean_exit(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "deep" / "dir" / "result.csv"))
    with target.temporary_path() as temp_path:
        assert re.fullmatch(re.escape(target.path) + r"-luigi-tmp-\d{10}", temp_path)
        assert os.path.isdir(tmp_path / "deep" / "dir"), (
            "the parent is created before the block runs"
        )
        Path(temp_path).write_text("payload")
        assert not target.exists()
    assert Path(target.path).read_text() == "payload"
    assert not os.path.exists(temp_path)


def test_temporary_path_publishes_nothing_when_the_block_raises(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "result.csv"))
    with (
        pytest.raises(RuntimeError, match="external command failed"),
        target.temporary_path() as temp_path,
    ):
        Path(temp_path).write_text("half")
        raise RuntimeError("external command failed")
    assert not target.exists()


def test_temporary_path_keeps_a_trailing_slash_for_directory_outputs(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "outdir") + "/")
    with target.temporary_path() as temp_path:
        assert temp_path.endswith("/")
        assert re.search(r"outdir-luigi-tmp-\d{10}/$", temp_path)
        os.makedirs(temp_path)
        Path(temp_path, "part-0").write_text("rows")
    assert Path(tmp_path / "outdir" / "part-0").read_text() == "rows"


def test_temporary_path_refuses_to_overwrite_an_existing_output(tmp_path: Path) -> None:
    existing = tmp_path / "result.csv"
    existing.write_text("old")
    with pytest.raises(FileAlreadyExists), LocalTarget(str(existing)).temporary_path() as temp_path:
        Path(temp_path).write_text("new")
    assert existing.read_text() == "old"


class CopyingAtomicFile(AtomicLocalFile):
    """An atomic file whose destination is a plain local path, published by copying."""

    def move_to_final_destination(self) -> None:
        LocalFileSystem().move(self.tmp_path, self.path)


def test_atomic_local_file_publishes_on_close_and_not_before(tmp_path: Path) -> None:
    destination = tmp_path / "published"
    handle = CopyingAtomicFile(str(destination))
    handle.write(b"abc")
    handle.flush()
    assert not destination.exists()
    handle.close()
    assert destination.read_bytes() == b"abc"
    handle.close()  # a second close is harmless


def test_atomic_local_file_discards_the_write_when_the_with_block_raises(tmp_path: Path) -> None:
    destination = tmp_path / "published"
    with pytest.raises(ZeroDivisionError), CopyingAtomicFile(str(destination)) as handle:
        handle.write(b"abc")
        temp_path = handle.tmp_path
        raise ZeroDivisionError("computing the row failed")
    assert not destination.exists()
    assert not os.path.exists(temp_path)


def test_atomic_local_file_writes_beside_a_local_destination(tmp_path: Path) -> None:
    handle = CopyingAtomicFile(str(tmp_path / "out.csv"))
    try:
        assert re.fullmatch(
            re.escape(str(tmp_path / "out.csv")) + r"-luigi-tmp-\d{9,10}", handle.tmp_path
        )
    finally:
        handle.abort()


def test_atomic_local_file_for_a_remote_destination_writes_to_the_temp_dir() -> None:
    handle = CopyingAtomicFile("s3://bucket/key/part-0")
    try:
        assert os.path.dirname(handle.tmp_path) == tempfile.gettempdir()
    finally:
        handle.abort()
    assert not os.path.exists(handle.tmp_path)


def test_atomic_local_file_subclass_without_a_publisher_says_what_is_missing(
    tmp_path: Path,
) -> None:
    class NoPublisher(AtomicLocalFile):
        pass

    handle = NoPublisher(str(tmp_path / "x"))
    with pytest.raises(NotImplementedError, match="move_to_final_destination"):
        handle.close()
    os.remove(handle.tmp_path)
