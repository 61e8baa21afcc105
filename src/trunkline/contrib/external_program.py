"""Tasks that run one external program in a subprocess (Luigi's ``luigi.contrib.external_program``).

Subclass :class:`ExternalProgramTask` and return the command line from
``program_args()``. By default the program's stdout and stderr are captured
into temporary files, logged when it ends, and carried by the
:class:`ExternalProgramRunError` raised when it fails (so they reach the
failure e-mail and the scheduler's error text). When a regular expression is
given in ``tracking_url_pattern``, one of the two streams is read line by line
while the program runs and the first group of each match becomes the task's
tracking URL in the visualiser.

The program dies with the task: a SIGTERM sent to the task's process (how a
worker stops a task) or a KeyboardInterrupt kills it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing import Process  # noqa: F401  (module-level name in Luigi's module)
from time import sleep  # noqa: F401  (module-level name in Luigi's module)
from types import FrameType
from typing import IO, Any

import trunkline as luigi
from trunkline.parameter import ParameterVisibility

logger = logging.getLogger("luigi-interface")

_STREAMS = ("none", "stdout", "stderr")


class ExternalProgramTask(luigi.Task):
    """Runs the command line returned by :meth:`program_args` and fails when it exits non-zero."""

    capture_output = luigi.BoolParameter(default=True, significant=False, positional=False)

    stream_for_searching_tracking_url = luigi.parameter.ChoiceParameter(
        var_type=str,
        choices=list(_STREAMS),
        default="none",
        significant=False,
        positional=False,
        visibility=ParameterVisibility.HIDDEN,
        description="Stream for searching tracking URL",
    )

    tracking_url_pattern = luigi.OptionalParameter(
        default=None,
        significant=False,
        positional=False,
        visibility=ParameterVisibility.HIDDEN,
        description="Regex pattern used for searching URL in the logs of the external program",
    )

    def program_args(self) -> Sequence[Any]:
        """The command line: the executable first. Subclasses must override it."""
        raise NotImplementedError

    def program_environment(self) -> dict[str, str]:
        """The program's environment; a copy of this process's by default."""
        return os.environ.copy()

    @property
    def always_log_stderr(self) -> bool:
        """Log stderr after a success too (False: only after a failure)."""
        return True

    def _clean_output_file(self, file_object: IO[bytes]) -> str:
        file_object.seek(0)
        return "".join(line.decode("utf-8", errors="replace") for line in file_object.readlines())

    def build_tracking_url(self, logs_output: str) -> str:
        """Turn what ``tracking_url_pattern`` matched into the URL to show; identity by default."""
        return logs_output

    def _tracks_url(self) -> bool:
        return self.stream_for_searching_tracking_url != "none" and self.tracking_url_pattern is not None

    def run(self) -> None:
        args = [str(arg) for arg in self.program_args()]
        logger.info("Running command: %s", " ".join(args))
        env = self.program_environment()
        kwargs: dict[str, Any] = {"env": env}
        captured: tuple[IO[bytes], IO[bytes]] | None = None
        if self.capture_output:
            captured = (tempfile.TemporaryFile(), tempfile.TemporaryFile())
            kwargs.update(stdout=captured[0], stderr=captured[1])
        try:
            if self._tracks_url():
                with self._proc_with_tracking_url_context(proc_args=args, proc_kwargs=kwargs) as proc:
                    proc.wait()
            else:
                proc = subprocess.Popen(args, **kwargs)
                with ExternalProgramRunContext(proc):
                    proc.wait()
            success = proc.returncode == 0
            stdout = stderr = None
            if captured is not None:
                stdout = self._clean_output_file(captured[0])
                stderr = self._clean_output_file(captured[1])
                if stdout:
                    logger.info("Program stdout:\n{}".format(stdout))
                if stderr and (self.always_log_stderr or not success):
                    logger.info("Program stderr:\n{}".format(stderr))
            if not success:
                raise ExternalProgramRunError(
                    _failure_message(proc.returncode), args, env=env, stdout=stdout, stderr=stderr
                )
        finally:
            if captured is not None:
                for handle in captured:
                    handle.close()

    @contextmanager
    def _proc_with_tracking_url_context(
        self, proc_args: Sequence[str], proc_kwargs: dict[str, Any]
    ) -> Iterator[subprocess.Popen[bytes]]:
        """Start the program with the tracked stream piped to a reader thread.

        A thread, not a process as in Luigi: ``set_tracking_url`` then runs in
        the task's own process, so it reaches an in-process (local) scheduler
        too. Lines still go to the capture file, so the output is logged and
        carried by the error as without tracking.
        """
        stream = self.stream_for_searching_tracking_url
        copy_to: IO[bytes] | None = proc_kwargs.get(stream)
        proc_kwargs = {**proc_kwargs, stream: subprocess.PIPE}
        proc = subprocess.Popen(proc_args, **proc_kwargs)
        pipe: Any = proc.stderr if stream == "stderr" else proc.stdout
        pattern = re.compile(self.tracking_url_pattern)
        set_tracking_url: Any = self.set_tracking_url

        def follow() -> None:
            for raw in iter(pipe.readline, b""):
                if not raw:
                    break
                if copy_to is not None:
                    copy_to.write(raw)
                line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
                self._on_program_line(line)
                match = pattern.search(line)
                if match:
                    # the first group that matched: a pattern may offer alternatives
                    found = next((group for group in match.groups() if group is not None), match.group(0))
                    set_tracking_url(self.build_tracking_url(found))
            if copy_to is not None:
                copy_to.flush()

        reader = threading.Thread(target=follow, name=f"{self.task_id}-output", daemon=True)
        reader.start()
        try:
            with ExternalProgramRunContext(proc):
                yield proc
        finally:
            # The pipe ends when the program exits; the reader drains what is left.
            reader.join(timeout=30)
            if pipe is not None and hasattr(pipe, "close"):
                pipe.close()

    def _on_program_line(self, line: str) -> None:
        """Called for each line of the tracked stream as it arrives (a hook; logs at debug)."""
        logger.debug("%s: %s", self.task_family, line.rstrip())


def _failure_message(returncode: int) -> str:
    message = "Program failed with return code={}:".format(returncode)
    if returncode < 0:
        # Popen reports death by a signal as minus the signal's number.
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        message = "Program failed with return code={} (killed by {}):".format(returncode, name)
    return message


class ExternalProgramRunContext:
    """Kills the program when the task's process gets SIGTERM or a KeyboardInterrupt."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> ExternalProgramRunContext:
        # signal.signal() works in the main thread only; a task run from another
        # thread still has its program killed by the worker's process-tree kill.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self.kill_job)
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: object, exc_tb: object) -> None:
        if exc_type is KeyboardInterrupt:
            self.kill_job()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False

    def kill_job(self, captured_signal: int | None = None, stack_frame: FrameType | None = None) -> None:
        self.proc.kill()
        if captured_signal is not None:
            # The shell's convention: a death by signal N exits with 128 + N.
            sys.exit(128 + captured_signal)


class ExternalProgramRunError(RuntimeError):
    """The program exited non-zero; ``str()`` shows its command, output and environment."""

    def __init__(
        self,
        message: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message, args, env, stdout, stderr)
        self.message = message
        self.args = args  # type: ignore[assignment]  # Luigi keeps the command line here
        self.env = env
        self.out = stdout
        self.err = stderr

    def __str__(self) -> str:
        environment = " ".join(f"{key}='{value}'" for key, value in (self.env or {}).items())
        return (
            f"{self.message}\nCOMMAND: {' '.join(self.args)}"
            f"\nSTDOUT: {self.out or '[empty]'}\nSTDERR: {self.err or '[empty]'}"
            f"\nENVIRONMENT: {environment or '[empty]'}"
            # an environment value may leave the terminal coloured: reset it
            "\033[m"
        )


class ExternalPythonProgramTask(ExternalProgramTask):
    """An :class:`ExternalProgramTask` for a Python program, with a virtualenv and extra path."""

    virtualenv = luigi.OptionalParameter(
        default=None,
        positional=False,
        description="path to the virtualenv directory to use (the one holding bin/activate).",
    )
    extra_pythonpath = luigi.OptionalParameter(
        default=None,
        positional=False,
        description="prepended to the PYTHONPATH environment variable.",
    )

    def program_environment(self) -> dict[str, str]:
        env = super().program_environment()
        if self.extra_pythonpath:
            env["PYTHONPATH"] = ":".join([self.extra_pythonpath, env.get("PYTHONPATH", "")])
        if self.virtualenv:
            # What bin/activate does: its bin/ first on PATH, VIRTUAL_ENV set, no PYTHONHOME.
            env["PATH"] = ":".join([f"{self.virtualenv}/bin", env.get("PATH", "")])
            env["VIRTUAL_ENV"] = self.virtualenv
            env.pop("PYTHONHOME", None)
        return env
