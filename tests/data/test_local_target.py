from __future__ import annotations

import errno
import gc
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

import trunkline.local_target as local_target_module
from trunkline.format import Nop
from trunkline.local_target import (
    LocalFileSystem,
    LocalTarget,
    LocalTargetModeError,
    LocalTargetPathError,
)
from trunkline.target import FileAlreadyExists, MissingParentDirectory, NotADirectory


def test_written_text_reads_back_line_by_line(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "lines.txt"))
    with target.open("w") as out:
        out.write("first\nsecond\n")
    with target.open("r") as source:
        assert list(source) == ["first\n", "second\n"]
    assert target.exists()


def test_writing_creates_missing_parent_directories(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "a" / "b" / "c.txt"))
    with target.open("w") as out:
        out.write("x")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x"


def test_output_does_not_exist_until_the_writer_is_closed(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.txt"))
    out = target.open("w")
    out.write("data")
    out.flush()
    assert not target.exists()
    out.close()
    assert target.exists()


def test_exception_inside_with_leaves_neither_output_nor_temporary_file(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.txt"))
    with pytest.raises(ValueError, match="bad row"), target.open("w") as out:
        out.write("partial")
        raise ValueError("bad row")
    assert os.listdir(tmp_path) == []


def test_exception_while_rewriting_keeps_the_previous_output(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.txt"))
    with target.open("w") as out:
        out.write("version 1")
    with pytest.raises(KeyError), target.open("w") as out:
        out.write("version 2, half")
        raise KeyError("missing column")
    assert (tmp_path / "out.txt").read_text() == "version 1"


def test_writer_dropped_without_close_publishes_nothing(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.txt"))
    out = target.open("w")
    out.write("forgotten")
    del out
    gc.collect()
    assert os.listdir(tmp_path) == []


def _write_forever_then_get_killed(path: str, ready: multiprocessing.synchronize.Event) -> None:
    with LocalTarget(path).open("w") as out:
        out.write("x" * 100_000)
        out.flush()
        ready.set()
        signal.pause()


def test_process_killed_mid_write_leaves_nothing_at_the_output_path(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    output = str(tmp_path / "out.txt")
    child = context.Process(target=_write_forever_then_get_killed, args=(output, ready))
    child.start()
    try:
        assert ready.wait(timeout=30), "the child never started writing"
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    finally:
        child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    assert not LocalTarget(output).exists()
    leftovers = os.listdir(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].startswith("out.txt-luigi-tmp-")


def test_nop_format_reads_and_writes_bytes(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "blob"), format=Nop)
    with target.open("w") as out:
        out.write(b"\x00\xff\r\n")
    with target.open("r") as source:
        assert source.read() == b"\x00\xff\r\n"


@pytest.mark.parametrize("mode", ["wb", "wt"])
def test_binary_and_text_flags_in_the_mode_are_ignored(tmp_path: Path, mode: str) -> None:
    target = LocalTarget(str(tmp_path / "f.txt"))
    with target.open(mode) as out:
        out.write("text")
    with target.open(mode.replace("w", "r")) as source:
        assert source.read() == "text"


@pytest.mark.parametrize("mode", ["a", "r+", "x"])
def test_unsupported_mode_is_refused_with_the_mode_in_the_message(
    tmp_path: Path, mode: str
) -> None:
    with pytest.raises(
        LocalTargetModeError, match=r"mode must be 'r' or 'w' \(got: " + mode.replace("+", r"\+")
    ):
        LocalTarget(str(tmp_path / "f")).open(mode)


def test_target_without_path_or_is_tmp_is_refused() -> None:
    with pytest.raises(LocalTargetPathError, match="is_tmp=True"):
        LocalTarget()


def test_temporary_target_gets_a_path_in_the_temp_dir_and_is_deleted_with_the_object() -> None:
    target = LocalTarget(is_tmp=True)
    assert os.path.basename(target.path).startswith("luigi-tmp-")
    with target.open("w") as out:
        out.write("scratch")
    path = target.path
    assert os.path.exists(path)
    del target
    gc.collect()
    assert not os.path.exists(path)


def test_default_format_is_text(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "t"))
    with target.open("w") as out:
        out.write("é")
    with target.open("r") as source:
        assert source.read() == "é"


def test_fn_is_a_deprecated_alias_of_path(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "t"))
    with pytest.warns(DeprecationWarning):
        assert target.fn == target.path


def test_move_copy_and_remove_act_on_the_file(tmp_path: Path) -> None:
    original = LocalTarget(str(tmp_path / "a.txt"))
    with original.open("w") as out:
        out.write("content")
    original.copy(str(tmp_path / "copies" / "b.txt"))
    original.move(str(tmp_path / "moved" / "c.txt"))
    assert not original.exists()
    assert (tmp_path / "copies" / "b.txt").read_text() == "content"
    moved = LocalTarget(str(tmp_path / "moved" / "c.txt"))
    moved.remove()
    assert not moved.exists()


def test_move_and_copy_refuse_an_existing_destination_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    target = LocalTarget(str(tmp_path / "a"))
    with pytest.raises(FileAlreadyExists, match="Destination exists"):
        target.move(str(tmp_path / "b"), raise_if_exists=True)
    with pytest.raises(RuntimeError, match="Destination exists"):
        target.copy(str(tmp_path / "b"), raise_if_exists=True)
    assert (tmp_path / "b").read_text() == "b"


def test_move_dir_moves_a_whole_directory(tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "f").write_text("f")
    LocalTarget(str(tmp_path / "src")).move_dir(str(tmp_path / "dst"))
    assert (tmp_path / "dst" / "sub" / "f").read_text() == "f"


def test_remove_deletes_a_directory_recursively(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "f").write_text("f")
    LocalTarget(str(tmp_path / "d")).remove()
    assert not (tmp_path / "d").exists()


def test_makedirs_creates_the_parent_only(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "x" / "y" / "file"))
    target.makedirs()
    target.makedirs()
    assert (tmp_path / "x" / "y").is_dir()
    assert not target.exists()


def test_mkdir_reports_existing_file_missing_parent_and_existing_directory(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "file").write_text("f")
    with pytest.raises(NotADirectory):
        fs.mkdir(str(tmp_path / "file"))
    with pytest.raises(MissingParentDirectory, match="parents=True"):
        fs.mkdir(str(tmp_path / "no" / "such"), parents=False)
    fs.mkdir(str(tmp_path / "made"), parents=False)
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(tmp_path / "made"), raise_if_exists=True)
    fs.mkdir(str(tmp_path / "made"))
    fs.mkdir(str(tmp_path / "p" / "q" / "r"))
    assert fs.isdir(str(tmp_path / "p" / "q" / "r"))


def test_listdir_yields_every_file_below_the_directory(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for relative in ("top", "a/mid", "a/b/low"):
        (tmp_path / relative).write_text("x")
    listed = sorted(LocalFileSystem().listdir(str(tmp_path)))
    assert listed == sorted(str(tmp_path / relative) for relative in ("top", "a/mid", "a/b/low"))


def test_rename_dont_move_refuses_to_replace_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "new").write_text("new")
    (tmp_path / "old").write_text("old")
    with pytest.raises(FileAlreadyExists):
        LocalFileSystem().rename_dont_move(str(tmp_path / "new"), str(tmp_path / "old"))
    assert (tmp_path / "old").read_text() == "old"


def test_move_across_devices_falls_back_to_copy_and_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    source = tmp_path / "source"
    source.write_text("cross-device")

    def replace_refusing_the_source(src: str, dst: str) -> None:
        if src == str(source):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(local_target_module.os, "replace", replace_refusing_the_source)
    LocalFileSystem().move(str(source), str(tmp_path / "elsewhere" / "dest"))
    assert (tmp_path / "elsewhere" / "dest").read_text() == "cross-device"
    assert not source.exists()
    assert os.listdir(tmp_path / "elsewhere") == ["dest"]


def test_move_reraises_other_os_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalFileSystem().move(str(tmp_path / "absent"), str(tmp_path / "dest"))
