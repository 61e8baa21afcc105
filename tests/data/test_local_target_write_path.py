"""What opening a LocalTarget for writing must keep while its cost is trimmed:
the temporary file's name and place, the parent directory made only when
missing (by the target's own makedirs), and the same error when it cannot be."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from trunkline.format import Gzip, Nop
from trunkline.local_target import LocalTarget


def test_the_temporary_file_sits_beside_the_path_with_nine_random_digits(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.txt"))
    with target.open("w") as out:
        assert re.fullmatch(re.escape(target.path) + r"-luigi-tmp-\d{9}", out.tmp_path)
        assert out._stream is out.buffer  # the text layer's byte layer, under Luigi's name too
        assert os.path.exists(out.tmp_path) and not target.exists()
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("fmt", [None, Nop, Gzip], ids=["text", "nop", "gzip"])
def test_a_missing_parent_is_made_for_every_format(tmp_path: Path, fmt: object) -> None:
    target = LocalTarget(str(tmp_path / "a" / "b" / "out"), format=fmt)  # type: ignore[arg-type]
    with target.open("w") as out:
        out.write(b"x" if fmt is not None else "x")
    assert os.listdir(tmp_path / "a" / "b") == ["out"]


def test_a_file_in_place_of_the_parent_fails_as_makedirs_does_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    target = LocalTarget(str(tmp_path / "blocker" / "out.txt"))
    with pytest.raises(FileExistsError) as raised:
        target.open("w")
    assert raised.value.__context__ is None  # one error, as when makedirs ran first
    deeper = LocalTarget(str(tmp_path / "blocker" / "sub" / "out.txt"))
    with pytest.raises(NotADirectoryError):
        deeper.open("w")
    assert os.listdir(tmp_path) == ["blocker"]


def test_a_subclass_makedirs_runs_before_every_write(tmp_path: Path) -> None:
    calls: list[str] = []

    class RecordingTarget(LocalTarget):
        def makedirs(self) -> None:
            calls.append(self.path)
            super().makedirs()

    target = RecordingTarget(str(tmp_path / "out.txt"))
    for _ in range(2):
        with target.open("w") as out:
            out.write("x")
    assert calls == [target.path, target.path]


def test_an_exception_in_a_with_block_on_a_new_directory_leaves_only_the_directory(
    tmp_path: Path,
) -> None:
    target = LocalTarget(str(tmp_path / "new" / "out.txt"))
    with pytest.raises(RuntimeError, match="half way"), target.open("w") as out:
        out.write("partial")
        raise RuntimeError("half way")
    assert os.listdir(tmp_path / "new") == []


def test_a_text_wrapper_subclass_may_set_stream_as_luigi_s_does(tmp_path: Path) -> None:
    from trunkline.format import TextFormat, TextWrapper
    from trunkline.local_target import atomic_file

    class LuigiStyleWrapper(TextWrapper):
        def __init__(self, stream: object, *args: object, **kwargs: object) -> None:
            self._stream = stream
            super().__init__(stream, *args, **kwargs)  # type: ignore[arg-type]

    class LuigiStyleFormat(TextFormat):
        wrapper_cls = LuigiStyleWrapper

    target = LocalTarget(str(tmp_path / "out.txt"), format=LuigiStyleFormat())
    with target.open("w") as out:
        assert isinstance(out._stream, atomic_file)
        out.write("x")
    assert (tmp_path / "out.txt").read_text() == "x"
