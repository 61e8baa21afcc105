"""Apache Pig scripts as tasks (Luigi's ``luigi.contrib.pig``).

Configuration::

    [pig]
    home = /usr/share/pig      # bin/pig below it is run

Subclass :class:`PigJobTask`, return the script from ``pig_script_path()``,
and optionally parameters (``-param_file``), properties (``-propertyFile``),
extra options and environment variables. Pig's log is followed while it runs:
the message of each log line goes to the worker log, and a Hadoop job id it
reports is what a SIGTERM to the task kills.
"""

from __future__ import annotations

import logging
import os
import re
import select  # noqa: F401  (module-level name in Luigi's module)
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import IO, Any

import trunkline as luigi
from trunkline import configuration

logger = logging.getLogger("luigi-interface")

_JOB_ID = re.compile(r"HadoopJobId: (job_\S+)")


class PigJobTask(luigi.Task):
    def pig_home(self) -> str:
        home: str = configuration.get_config().get("pig", "home", "/usr/share/pig")
        return home

    def pig_command_path(self) -> str:
        return os.path.join(self.pig_home(), "bin/pig")

    def pig_env_vars(self) -> dict[str, str]:
        """Environment variables for Pig, e.g. ``{"PIG_CLASSPATH": "/your/path"}``."""
        return {}

    def pig_properties(self) -> dict[str, str]:
        """Pig properties, e.g. ``{"pig.additional.jars": "/path/to/your/jar"}``."""
        return {}

    def pig_parameters(self) -> dict[str, str]:
        """Script parameters (``$NAME`` in the script), written to a ``-param_file``."""
        return {}

    def pig_options(self) -> list[str]:
        """More command-line options, e.g. ``["-x", "local"]``."""
        return []

    def output(self) -> Any:
        raise NotImplementedError("subclass should define output path")

    def pig_script_path(self) -> str:
        raise NotImplementedError("subclass should define pig_script_path")

    @contextmanager
    def _build_pig_cmd(self) -> Iterator[list[str]]:
        """The command line; its parameter and property files live as long as the context."""
        opts = list(self.pig_options())

        def lines(items: dict[str, str]) -> list[bytes]:
            return [f"{key}={value}{os.linesep}".encode() for key, value in items.items()]

        with tempfile.NamedTemporaryFile() as param_file, tempfile.NamedTemporaryFile() as prop_file:
            parameters = self.pig_parameters()
            if parameters:
                param_file.writelines(lines(parameters))
                param_file.flush()
                opts += ["-param_file", param_file.name]
            properties = self.pig_properties()
            if properties:
                prop_file.writelines(lines(properties))
                prop_file.flush()
                opts += ["-propertyFile", prop_file.name]
            cmd = [self.pig_command_path(), *opts, "-f", self.pig_script_path()]
            logger.info(subprocess.list2cmdline(cmd))
            yield cmd

    def run(self) -> None:
        with self._build_pig_cmd() as cmd:
            self.track_and_progress(cmd)

    def track_and_progress(self, cmd: list[str]) -> None:
        env = os.environ.copy()
        env["PIG_HOME"] = self.pig_home()
        env.update(self.pig_env_vars())
        proc = subprocess.Popen(cmd, shell=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        out_lines: list[str] = []
        err_lines: list[str] = []
        with PigRunContext() as context:

            def follow(stream: IO[bytes], keep: list[str]) -> None:
                for raw in iter(stream.readline, b""):
                    line = raw.decode("utf8", errors="replace")
                    keep.append(line)
                    found = _JOB_ID.search(line)
                    if found:
                        context.job_id = found.group(1)
                    # Pig's log lines read "date [thread] LEVEL class - message": log the message
                    message = line.split(" - ")[-1].strip()
                    if message:
                        logger.info(message)

            # one reader per pipe: neither can fill up and stall Pig
            readers = [
                threading.Thread(target=follow, args=(proc.stdout, out_lines), daemon=True),
                threading.Thread(target=follow, args=(proc.stderr, err_lines), daemon=True),
            ]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
            proc.wait()
        err = "".join(err_lines)
        if proc.returncode == 0:
            logger.info("Job completed successfully!")
            return
        logger.error("Error when running script:\n%s", self.pig_script_path())
        logger.error(err)
        raise PigJobError("Pig script failed with return value: %s" % (proc.returncode,), err=err)


class PigRunContext:
    """Kills the Pig job (``pig -e kill <job>``) when the task gets SIGTERM or a KeyboardInterrupt."""

    def __init__(self) -> None:
        self.job_id: str | None = None
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> PigRunContext:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self.kill_job)
            self._installed = True
        return self

    def kill_job(self, captured_signal: int | None = None, stack_frame: FrameType | None = None) -> None:
        if self.job_id:
            logger.info("Job interrupted, killing job %s", self.job_id)
            subprocess.call(["pig", "-e", '"kill %s"' % self.job_id])
        if captured_signal is not None:
            sys.exit(128 + captured_signal)

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: object, exc_tb: object) -> None:
        if exc_type is KeyboardInterrupt:
            self.kill_job()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False


class PigJobError(RuntimeError):
    def __init__(self, message: str, out: str | None = None, err: str | None = None) -> None:
        super().__init__(message, out, err)
        self.message = message
        self.out = out
        self.err = err

    def __str__(self) -> str:
        info = self.message
        if self.out:
            info += "\nSTDOUT: " + str(self.out)
        if self.err:
            info += "\nSTDERR: " + str(self.err)
        return info
