from __future__ import annotations

import bz2
import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import luigi
import luigi.format
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.format import (
    UTF8,
    Bzip2,
    ChainFormat,
    Format,
    Gzip,
    GzipFormat,
    MixedUnicodeBytes,
    Nop,
    SysNewLine,
    Text,
    TextFormat,
    get_default_format,
)
from trunkline.local_target import LocalTarget

_FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

BYTE_FORMATS: dict[str, Format] = {
    "Nop": Nop,
    "Gzip": Gzip,
    "Bzip2": Bzip2,
    "Gzip level 1": GzipFormat(compression_level=1),
    "Nop >> Gzip": Nop >> Gzip,
    "Gzip >> Bzip2": Gzip >> Bzip2,
}
TEXT_FORMATS: dict[str, Format] = {
    "Text": Text,
    "UTF8": UTF8,
    "UTF8 >> Gzip": UTF8 >> Gzip,
    "UTF8 >> Bzip2": UTF8 >> Bzip2,
    "Text >> SysNewLine >> Gzip": Text >> SysNewLine >> Gzip,
}


def _write_then_read(path: Path, fmt: Format, payload: str | bytes) -> str | bytes:
    target = LocalTarget(str(path), format=fmt)
    with target.open("w") as out:
        out.write(payload)
    with target.open("r") as source:
        result: str | bytes = source.read()
        return result


@pytest.mark.parametrize("name", list(BYTE_FORMATS))
@given(payload=st.binary(max_size=2000))
@_FAST
def test_byte_formats_round_trip_any_bytes(tmp_path: Path, name: str, payload: bytes) -> None:
    assert _write_then_read(tmp_path / "f", BYTE_FORMATS[name], payload) == payload


# Text layers translate line endings, so the property is stated for \n-only text.
_text_without_carriage_returns = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=500
)


@pytest.mark.parametrize("name", list(TEXT_FORMATS))
@given(payload=_text_without_carriage_returns)
@_FAST
def test_text_formats_round_trip_unicode_text(tmp_path: Path, name: str, payload: str) -> None:
    fmt = TEXT_FORMATS[name]
    if fmt is Text and not _locale_can_encode(payload):
        return
    assert _write_then_read(tmp_path / "f", fmt, payload) == payload


def _locale_can_encode(text: str) -> bool:
    import locale

    try:
        text.encode(locale.getpreferredencoding(False))
    except UnicodeEncodeError:
        return False
    return True


def test_gzip_output_is_readable_by_the_gzip_module(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "rows.gz"), format=UTF8 >> Gzip)
    with target.open("w") as out:
        out.write("naïve,1\nplain,2\n")
    with gzip.open(tmp_path / "rows.gz", "rt", encoding="utf8") as source:
        assert source.read() == "naïve,1\nplain,2\n"


@pytest.mark.skipif(shutil.which("gzip") is None, reason="no gzip command on this machine")
def test_gzip_output_is_readable_by_the_gzip_command(tmp_path: Path) -> None:
    with LocalTarget(str(tmp_path / "a.gz"), format=Gzip).open("w") as out:
        out.write(b"abc\n" * 1000)
    completed = subprocess.run(
        ["gzip", "-dc", str(tmp_path / "a.gz")], capture_output=True, check=True
    )
    assert completed.stdout == b"abc\n" * 1000


def test_bzip2_output_is_readable_by_the_bz2_module(tmp_path: Path) -> None:
    with LocalTarget(str(tmp_path / "a.bz2"), format=Bzip2).open("w") as out:
        out.write(b"payload")
    assert bz2.decompress((tmp_path / "a.bz2").read_bytes()) == b"payload"


def test_gzip_reader_reads_files_made_by_the_gzip_module_including_several_members(
    tmp_path: Path,
) -> None:
    (tmp_path / "multi.gz").write_bytes(gzip.compress(b"first\n") + gzip.compress(b"second\n"))
    with LocalTarget(str(tmp_path / "multi.gz"), format=Gzip).open("r") as source:
        assert list(source) == [b"first\n", b"second\n"]


def test_files_written_by_luigi_with_gzip_read_back_identically(tmp_path: Path) -> None:
    path = str(tmp_path / "from-luigi.gz")
    with luigi.LocalTarget(path, format=luigi.format.UTF8 >> luigi.format.Gzip).open("w") as out:
        out.write("written by luigi\n")
    with LocalTarget(path, format=UTF8 >> Gzip).open("r") as source:
        assert source.read() == "written by luigi\n"


def test_luigi_reads_gzip_files_written_by_trunkline(tmp_path: Path) -> None:
    path = str(tmp_path / "from-trunkline.gz")
    with LocalTarget(path, format=UTF8 >> Gzip).open("w") as out:
        out.write("written by trunkline\n")
    with luigi.LocalTarget(path, format=luigi.format.UTF8 >> luigi.format.Gzip).open("r") as source:
        assert source.read() == "written by trunkline\n"


def test_gzip_compression_level_is_applied(tmp_path: Path) -> None:
    payload = b"".join(b"row %d, value %d\n" % (i, i % 7) for i in range(5000))
    sizes = {}
    for level in (0, 9):
        path = tmp_path / f"level{level}.gz"
        with LocalTarget(str(path), format=GzipFormat(compression_level=level)).open("w") as out:
            out.write(payload)
        sizes[level] = path.stat().st_size
        assert gzip.decompress(path.read_bytes()) == payload
    assert sizes[0] > len(payload), "level 0 stores the data uncompressed"
    assert sizes[9] < len(payload) // 4


def test_gzip_level_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 9.*12"):
        GzipFormat(compression_level=12)


@pytest.mark.parametrize("fmt", [UTF8 >> Gzip, Gzip, Bzip2, Text >> SysNewLine, MixedUnicodeBytes])
def test_exception_inside_with_publishes_nothing_for_any_format(
    tmp_path: Path, fmt: Format
) -> None:
    payload: str | bytes = "text" if getattr(fmt, "input", "bytes") == "unicode" else b"bytes"
    target = LocalTarget(str(tmp_path / "out"), format=fmt)
    with pytest.raises(LookupError), target.open("w") as out:
        out.write(payload)
        raise LookupError("failed half way")
    assert os.listdir(tmp_path) == []


def test_gzip_writer_publishes_on_close_without_with(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "out.gz"), format=UTF8 >> Gzip)
    out = target.open("w")
    out.write("line\n")
    assert not target.exists()
    out.close()
    assert gzip.decompress((tmp_path / "out.gz").read_bytes()) == b"line\n"


def test_chaining_text_after_text_is_a_type_error_naming_both_sides() -> None:
    with pytest.raises(TypeError, match="TextFormat expect unicode but TextFormat provide bytes"):
        UTF8 >> Text


def test_chain_takes_input_from_its_first_and_output_from_its_last_format() -> None:
    chain = UTF8 >> Gzip
    assert isinstance(chain, ChainFormat)
    assert (chain.input, chain.output) == ("unicode", "bytes")


def test_chain_check_can_be_switched_off() -> None:
    chain = ChainFormat(UTF8, Text, check_consistency=False)
    assert chain.args == (UTF8, Text)


def test_sys_newline_writes_the_platform_line_separator_and_reads_back_newlines(
    tmp_path: Path,
) -> None:
    target = LocalTarget(str(tmp_path / "nl"), format=SysNewLine)
    with target.open("w") as out:
        out.write(b"a\r\nb\rc\n")
    assert (
        (tmp_path / "nl").read_bytes()
        == b"a" + os.linesep.encode() + b"b" + os.linesep.encode() + b"c" + os.linesep.encode()
    )
    (tmp_path / "nl").write_bytes(b"x\r\ny\rz\n")
    with target.open("r") as source:
        assert source.read() == b"x\ny\nz\n"


def test_mixed_unicode_bytes_accepts_both_and_warns_about_text(tmp_path: Path) -> None:
    target = LocalTarget(str(tmp_path / "m"), format=MixedUnicodeBytes)
    with target.open("w") as out:
        out.write(b"bytes,")
        with pytest.warns(UserWarning, match="unicode"):
            out.write("text")
    assert (tmp_path / "m").read_bytes() == b"bytes,text"


def test_default_format_is_the_text_format() -> None:
    assert get_default_format() is Text
    assert isinstance(Text, TextFormat)


def test_utf8_format_writes_utf8_bytes(tmp_path: Path) -> None:
    with LocalTarget(str(tmp_path / "u"), format=UTF8).open("w") as out:
        out.write("ü")
    assert (tmp_path / "u").read_bytes() == "ü".encode()


@given(payload=st.binary(max_size=500))
@_FAST
def test_sys_newline_reads_back_every_line_ending_as_a_newline(
    tmp_path: Path, payload: bytes
) -> None:
    (tmp_path / "nl").write_bytes(payload)
    with LocalTarget(str(tmp_path / "nl"), format=SysNewLine).open("r") as source:
        assert source.read() == payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


@pytest.mark.skipif(shutil.which("gzip") is None, reason="no gzip command on this machine")
def test_output_pipe_wrapper_publishes_what_the_command_wrote(tmp_path: Path) -> None:
    from trunkline.format import OutputPipeProcessWrapper
    from trunkline.local_target import atomic_file

    with OutputPipeProcessWrapper(["gzip"], atomic_file(str(tmp_path / "p.gz"))) as pipe:
        pipe.write(b"through a process\n")
    assert gzip.decompress((tmp_path / "p.gz").read_bytes()) == b"through a process\n"


def test_output_pipe_wrapper_refuses_to_publish_when_the_command_fails(tmp_path: Path) -> None:
    from trunkline.format import OutputPipeProcessWrapper
    from trunkline.local_target import atomic_file

    pipe = OutputPipeProcessWrapper(
        [sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit(2)"],
        atomic_file(str(tmp_path / "never")),
    )
    pipe.write(b"data")
    with pytest.raises(RuntimeError, match="Error when executing command"):
        pipe.close()
    assert not (tmp_path / "never").exists()


@pytest.mark.skipif(shutil.which("gunzip") is None, reason="no gunzip command on this machine")
def test_input_pipe_wrapper_reads_the_command_output_from_a_file_or_a_stream(
    tmp_path: Path,
) -> None:
    from trunkline.format import InputPipeProcessWrapper

    (tmp_path / "in.gz").write_bytes(gzip.compress(b"line 1\nline 2\n"))
    with InputPipeProcessWrapper(["gunzip"], open(tmp_path / "in.gz", "rb")) as pipe:
        assert list(pipe) == [b"line 1\n", b"line 2\n"]
    in_memory = io.BytesIO(gzip.compress(b"from memory"))
    with InputPipeProcessWrapper(["gunzip"], in_memory) as pipe:
        assert pipe.read() == b"from memory"
