"""Formats: how the bytes of a file target become what a task reads and writes.

A format wraps a raw file object: ``pipe_reader(raw)`` for reading and
``pipe_writer(raw)`` for writing. Formats chain with ``>>`` in write order:
``UTF8 >> Gzip`` turns the user's text into UTF-8 bytes, then compresses them.

Publishing rules every writer here keeps, so a task's output is atomic:

* ``close()`` (or leaving a ``with`` block normally) finishes the layer and
  closes the layer below it, which in the end publishes the target;
* leaving a ``with`` block by an exception passes the exception down, so the
  bottom layer discards the write; nothing appears at the output path;
* a writer dropped without ``close()`` publishes nothing.

Gzip and Bzip2 use the standard library's ``gzip`` and ``bz2`` modules instead
of Luigi's external ``gzip``/``bzip2`` processes: faster for small files, no
binaries needed, and the output is the same file format (``gzip -d`` and
``bunzip2`` read it).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import itertools
import locale
import os
import re
import signal as signal
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Self

_ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
_ANY_NEWLINE = re.compile(b"\r\n|\r|\n")
_GZIP_COMMAND_LINE_DEFAULT_LEVEL = 6


def _exit_layer(layer: Any, exc_info: _ExcInfo) -> None:
    """Leave a lower layer's ``with`` block: close on success, let it discard on failure."""
    exit_method = getattr(layer, "__exit__", None)
    if exit_method is not None:
        exit_method(*exc_info)
    elif exc_info[0] is None:
        layer.close()


class FileWrapper:
    """Wraps a file object so attributes can be added to it; delegates everything else."""

    def __init__(self, file_object: Any) -> None:
        self._subpipe = file_object

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subpipe, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> Any:
        return self._subpipe.__exit__(*exc_info)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._subpipe)


class BaseWrapper:
    """A byte-stream layer that changes what is written or read and delegates the rest."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _exit_layer(self._stream, (exc_type, exc, traceback))

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._stream
        finally:
            self.close()


class NewlineWrapper(BaseWrapper):
    """Normalises line endings: to ``newline`` (default ``os.linesep``) on write, to it (default ``\\n``) on read."""

    def __init__(self, stream: Any, newline: str | None = None) -> None:
        if newline not in (None, "", "\n", "\r\n", "\r"):
            raise ValueError(
                f"newline must be one of None, '', '\\n', '\\r\\n' or '\\r', got {newline!r}"
            )
        self.newline = None if newline is None else newline.encode("ascii")
        super().__init__(stream)

    def _on_read(self, data: bytes) -> bytes:
        if self.newline == b"":
            return data
        return _ANY_NEWLINE.sub(self.newline or b"\n", data)

    def _on_write(self, data: bytes) -> bytes:
        target = self.newline or os.linesep.encode("ascii")
        return _ANY_NEWLINE.sub(target, data)

    def read(self, size: int = -1) -> bytes:
        return self._on_read(self._stream.read(size))

    def __iter__(self) -> Iterator[bytes]:
        try:
            for line in self._stream:
                yield self._on_read(line)
        finally:
            self.close()

    def write(self, data: bytes) -> int:
        return int(self._stream.write(self._on_write(data)) or 0)

    def writelines(self, lines: Iterable[bytes]) -> None:
        self._stream.writelines(self._on_write(line) for line in lines)


class MixedUnicodeBytesWrapper(BaseWrapper):
    """A byte stream that also accepts ``str`` on write (encoded, with a warning)."""

    def __init__(self, stream: Any, encoding: str | None = None) -> None:
        self.encoding = encoding or locale.getpreferredencoding()
        super().__init__(stream)

    def _convert(self, data: str | bytes) -> bytes:
        if isinstance(data, str):
            warnings.warn("Writing unicode to byte stream", stacklevel=3)
            return data.encode(self.encoding)
        return data

    def write(self, data: str | bytes) -> int:
        return int(self._stream.write(self._convert(data)) or 0)

    def writelines(self, lines: Iterable[str | bytes]) -> None:
        self._stream.writelines(self._convert(line) for line in lines)


class TextWrapper(io.TextIOWrapper):
    """Text on top of a byte layer; ``with`` passes success or failure down to that layer.

    Constructed as ``io.TextIOWrapper`` is, with no Python ``__init__`` to pay
    on every text write: the byte layer is ``buffer``, also read as ``_stream``
    (Luigi's name) unless a subclass sets that attribute itself.
    """

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":
            return self.buffer
        return getattr(self.buffer, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            _exit_layer(self._stream, (exc_type, exc, traceback))

    def __del__(self) -> None:
        # Replaces io's finaliser, which would close() and so publish an abandoned
        # write. Readers are still closed, so their file descriptors are released.
        if not self.closed and not self.writable():
            self.close()


class CompressedWriter:
    """A compressing layer: ``close()`` writes the trailer, then closes the layer below."""

    def __init__(self, compressor: gzip.GzipFile | bz2.BZ2File, sink: Any) -> None:
        self._compressor = compressor
        self._sink = sink
        self._finished = False

    @property
    def closed(self) -> bool:
        return self._finished

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:
        return self._compressor.write(data)

    def writelines(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self._compressor.write(line)

    def flush(self) -> None:
        # Nothing is visible before close() publishes; a sync flush would only
        # hurt the compression ratio.
        pass

    def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._compressor.close()
        self._sink.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        if not self._finished:
            self._finished = True
            self._compressor.close()  # its bytes go to a temporary file about to be discarded
            _exit_layer(self._sink, (exc_type, exc, traceback))

    def __getattr__(self, name: str) -> Any:
        if name in ("_sink", "_compressor"):
            raise AttributeError(name)
        return getattr(self._sink, name)


class _GzipReader(gzip.GzipFile):
    """Decompresses a gzip stream (all members) and closes the source when closed."""

    def __init__(self, source: Any) -> None:
        self._source = source
        super().__init__(fileobj=source, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._source.close()


class _Bzip2Reader(bz2.BZ2File):
    """Decompresses a bzip2 stream and closes the source when closed."""

    def __init__(self, source: Any) -> None:
        self._source = source
        super().__init__(source, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._source.close()


class Format:
    """Turns a raw file object into what a task reads or writes.

    Subclasses may set ``input`` and ``output`` to ``'unicode'`` or ``'bytes'``
    (what the user side and the file side speak) so chains can be checked.
    """

    def pipe_reader(self, input_pipe: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot read")

    def pipe_writer(self, output_pipe: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot write")

    def __rshift__(self, other: Format) -> ChainFormat:
        return ChainFormat(self, other)


class ChainFormat(Format):
    """Formats applied in write order; the last one is closest to the file."""

    def __init__(self, *args: Format, check_consistency: bool = True, **kwargs: Any) -> None:
        self.args = args
        if args and hasattr(args[0], "input"):
            self.input = args[0].input
        if args and hasattr(args[-1], "output"):
            self.output = args[-1].output
        if check_consistency:
            for upper, lower in itertools.pairwise(args):
                produced = getattr(upper, "output", None)
                expected = getattr(lower, "input", None)
                if produced is not None and expected is not None and produced != expected:
                    raise TypeError(
                        f"The format chaining is not valid, {type(lower).__name__} expect {expected} "
                        f"but {type(upper).__name__} provide {produced}"
                    )

    def pipe_reader(self, input_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            input_pipe = fmt.pipe_reader(input_pipe)
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            output_pipe = fmt.pipe_writer(output_pipe)
        return output_pipe


class NopFormat(Format):
    """Bytes in, bytes out, unchanged."""

    def pipe_reader(self, input_pipe: Any) -> Any:
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        return output_pipe


class WrappedFormat(Format):
    """A format that wraps the pipe in ``wrapper_cls(pipe, *args, **kwargs)``."""

    wrapper_cls: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def pipe_reader(self, input_pipe: Any) -> Any:
        return self.wrapper_cls(input_pipe, *self.args, **self.kwargs)

    def pipe_writer(self, output_pipe: Any) -> Any:
        return self.wrapper_cls(output_pipe, *self.args, **self.kwargs)


class TextFormat(WrappedFormat):
    """Text over bytes; keyword arguments go to ``io.TextIOWrapper`` (e.g. ``encoding``)."""

    input = "unicode"
    output = "bytes"
    wrapper_cls = TextWrapper


class MixedUnicodeBytesFormat(WrappedFormat):
    output = "bytes"
    wrapper_cls = MixedUnicodeBytesWrapper


class NewlineFormat(WrappedFormat):
    input = "bytes"
    output = "bytes"
    wrapper_cls = NewlineWrapper


class GzipFormat(Format):
    """gzip compression; ``compression_level`` 1-9 (None: 6, as the ``gzip`` command)."""

    input = "bytes"
    output = "bytes"

    def __init__(self, compression_level: int | None = None) -> None:
        if compression_level is not None and not 0 <= int(compression_level) <= 9:
            raise ValueError(
                f"compression_level must be between 0 and 9, got {compression_level!r}"
            )
        self.compression_level = compression_level

    def pipe_reader(self, input_pipe: Any) -> Any:
        return _GzipReader(input_pipe)

    def pipe_writer(self, output_pipe: Any) -> Any:
        level = self.compression_level
        level = _GZIP_COMMAND_LINE_DEFAULT_LEVEL if level is None else int(level)
        compressor = gzip.GzipFile(fileobj=output_pipe, mode="wb", compresslevel=level, mtime=0)
        return CompressedWriter(compressor, output_pipe)


class Bzip2Format(Format):
    """bzip2 compression."""

    input = "bytes"
    output = "bytes"

    def pipe_reader(self, input_pipe: Any) -> Any:
        return _Bzip2Reader(input_pipe)

    def pipe_writer(self, output_pipe: Any) -> Any:
        return CompressedWriter(bz2.BZ2File(output_pipe, mode="wb"), output_pipe)


class InputPipeProcessWrapper:
    """Reads the standard output of a command fed with ``input_pipe``.

    Kept for code that runs its own decompressor; trunkline's formats don't
    use it. A command exiting non-zero raises RuntimeError on close.
    """

    def __init__(
        self, command: list[str] | subprocess.Popen[bytes], input_pipe: Any = None
    ) -> None:
        self._command = command
        self._input_pipe = input_pipe
        self._spooled_input: str | None = None
        if input_pipe is not None and not _has_fileno(input_pipe):
            self._input_pipe = self._spool_to_file(input_pipe)
        if isinstance(command, subprocess.Popen):
            self._process = command
        else:
            self._process = self.create_subprocess(command)

    def _spool_to_file(self, source: Any) -> Any:
        # A subprocess needs a real file descriptor for its standard input.
        with tempfile.NamedTemporaryFile("wb", prefix="luigi-process_tmp", delete=False) as spool:
            self._spooled_input = spool.name
            while chunk := source.read(io.DEFAULT_BUFFER_SIZE):
                spool.write(chunk)
        source.close()
        return open(self._spooled_input, "rb")

    def create_subprocess(self, command: list[str]) -> subprocess.Popen[bytes]:
        # restore_signals gives the command the default SIGPIPE action, so it
        # stops quietly when the reader closes early.
        return subprocess.Popen(
            command,
            stdin=self._input_pipe,
            stdout=subprocess.PIPE,
            restore_signals=True,
            close_fds=True,
        )

    def _finish(self) -> None:
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._spooled_input is not None and os.path.exists(self._spooled_input):
            os.remove(self._spooled_input)
        if self._input_pipe is not None:
            self._input_pipe.close()
        self._process.wait()
        # 141 and -13: the reader stopped early and the command got SIGPIPE.
        if self._process.returncode not in (0, 141, -13):
            raise RuntimeError(
                "Error reading from pipe. Subcommand exited with non-zero exit status "
                f"{self._process.returncode}."
            )

    def close(self) -> None:
        self._finish()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self._finish()
            return
        with contextlib.suppress(RuntimeError, OSError):  # the original exception matters more
            self._finish()

    def __getattr__(self, name: str) -> Any:
        if name in ("_process", "_input_pipe"):
            raise AttributeError(name)
        return getattr(self._process.stdout, name)

    def __iter__(self) -> Iterator[bytes]:
        assert self._process.stdout is not None
        yield from self._process.stdout
        self._finish()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


class OutputPipeProcessWrapper:
    """Feeds written bytes to a command whose standard output is ``output_pipe``.

    ``close()`` closes ``output_pipe`` (publishing it) only if the command
    exited 0; otherwise it raises RuntimeError. Leaving a ``with`` block by an
    exception stops the command without publishing.
    """

    def __init__(self, command: list[str], output_pipe: Any = None) -> None:
        self.closed = False
        self._command = command
        self._output_pipe = output_pipe
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=output_pipe, close_fds=True
        )

    def write(self, data: bytes) -> int:
        assert self._process.stdin is not None
        return self._process.stdin.write(data)

    def _finish(self) -> None:
        if self._process.returncode is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait()
            self.closed = True

    def close(self) -> None:
        self._finish()
        if self._process.returncode != 0:
            raise RuntimeError(f"Error when executing command {self._command}")
        if self._output_pipe is not None:
            self._output_pipe.close()

    def abort(self) -> None:
        self._finish()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        self.abort()
        if self._output_pipe is not None:
            _exit_layer(self._output_pipe, (exc_type, exc, traceback))

    def __getattr__(self, name: str) -> Any:
        if name in ("_process", "_output_pipe"):
            raise AttributeError(name)
        return getattr(self._process.stdin, name)

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, io.UnsupportedOperation):
        return False
    return True


Text = TextFormat()
UTF8 = TextFormat(encoding="utf8")
Nop = NopFormat()
SysNewLine = NewlineFormat()
Gzip = GzipFormat()
Bzip2 = Bzip2Format()
MixedUnicodeBytes = MixedUnicodeBytesFormat()


def get_default_format() -> Format:
    """The format targets use when given none: ``Text``."""
    return Text
