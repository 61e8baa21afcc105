"""Tasks run as IBM Spectrum LSF jobs (Luigi's ``luigi.contrib.lsf``).

Subclass :class:`LSFJobTask` and put the job's code in ``work()``. ``run()``
pickles the task into a fresh folder on ``shared_tmp_dir`` with a tarball of
trunkline and the task's module, submits ``bsub ... lsf_runner.py <folder>``
(queue, slots, memory, resources, run time and name from the parameters),
and asks ``bjobs -noheader -o stat <id>`` every ``poll_time`` seconds until
the job is DONE or EXIT. The job's stdout and stderr go to ``job.out`` and
``job.err`` beside the task's output; anything in ``job.err`` fails the task.
A SIGTERM to the task (how a worker stops it) ``bkill``\\ s the job.

:class:`LocalLSFJobTask` runs ``work()`` in place, for trying a workflow out.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

try:
    # dill pickles more kinds of objects, for when submit and compute nodes differ
    import dill as pickle  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    import pickle

import trunkline as luigi
import trunkline.configuration  # noqa: F401  (module-level name in Luigi's module)
from trunkline.contrib import lsf_runner
from trunkline.contrib._pickling import dumps_task
from trunkline.contrib.hadoop import create_packages_archive
from trunkline.task_status import DONE, FAILED, PENDING, RUNNING, UNKNOWN

LOGGER = logging.getLogger("luigi-interface")


def track_job(job_id: Any) -> str:
    """The job's LSF state: RUN, PEND, SSUSP, DONE, EXIT, ... (``bjobs -o stat``)."""
    cmd = ["bjobs", "-noheader", "-o", "stat", str(job_id)]
    track_job_proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, shell=False)
    raw: Any = track_job_proc.communicate()[0]
    output = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    return output.strip("\n")


def kill_job(job_id: Any) -> None:
    subprocess.call(["bkill", str(job_id)])


class LSFJobError(RuntimeError):
    """The LSF job wrote to its error file, or LSF lost track of it."""


class LSFJobTask(luigi.Task):
    """Runs ``work()`` as an LSF job; see the module's documentation."""

    n_cpu_flag = luigi.IntParameter(default=2, significant=False)
    shared_tmp_dir = luigi.Parameter(default="/tmp", significant=False)
    resource_flag = luigi.Parameter(default="mem=8192", significant=False)
    memory_flag = luigi.Parameter(default="8192", significant=False)
    queue_flag = luigi.Parameter(default="queue_name", significant=False)
    runtime_flag = luigi.IntParameter(default=60)
    job_name_flag = luigi.Parameter(default="")
    poll_time = luigi.FloatParameter(
        significant=False, default=5, description="specify the wait time to poll bjobs for the job status"
    )
    save_job_info = luigi.BoolParameter(default=False)
    output = luigi.Parameter(default="")
    extra_bsub_args = luigi.Parameter(default="")

    job_status: str | None = None

    def _log_file(self, name: str) -> str:
        # bsub -o/-e write next to the output; before submission, in the tmp folder
        return getattr(self, f"_{name.replace('.', '_')}", os.path.join(self.tmp_dir, name))

    def fetch_task_failures(self) -> list[str] | str:
        """The lines of the job's stderr file ("" when there is none)."""
        path = self._log_file("job.err")
        if not os.path.isfile(path):
            return ""
        with open(path) as f_err:
            return f_err.readlines()

    def fetch_task_output(self) -> list[str] | str:
        """The lines of the job's stdout file ("" when there is none)."""
        path = self._log_file("job.out")
        if not os.path.isfile(path):
            return ""
        with open(path) as f_out:
            return f_out.readlines()

    def _init_local(self) -> None:
        # parameters may hold paths: a '/' in the folder name would nest folders
        task_name = (f"{random.getrandbits(64):016x}" + self.task_id).replace("/", "::")
        max_filename_length = os.fstatvfs(0).f_namemax
        self.tmp_dir = os.path.join(self.shared_tmp_dir, task_name[:max_filename_length])
        LOGGER.info("Tmp dir: %s", self.tmp_dir)
        os.makedirs(self.tmp_dir)
        # before the pickle (Luigi calls it after, so what it set never reached the node)
        self.init_local()
        LOGGER.debug("Dumping pickled class")
        self._dump(self.tmp_dir)
        LOGGER.debug("Tarballing dependencies")
        packages = [luigi, __import__(self.__module__, None, None, "dummy")]
        create_packages_archive(packages, os.path.join(self.tmp_dir, "packages.tar"))

    def init_local(self) -> None:
        """Runs before submission on this machine; what it sets travels to the node in the pickle."""

    def run(self) -> None:
        self._init_local()
        self._run_job()

    def work(self) -> None:
        """The job's code, run on a compute node. Override this rather than ``run()``."""

    def _dump(self, out_dir: str = "") -> None:
        with self.no_unpicklable_properties():
            self.job_file = os.path.join(out_dir, "job-instance.pickle")
            with open(self.job_file, "wb") as f:
                f.write(dumps_task(self) if pickle.__name__ == "pickle" else pickle.dumps(self))

    def _run_job(self) -> None:
        outputs = self.output()
        first = outputs[0] if isinstance(outputs, list) else outputs
        log_output = os.path.split(first.path)
        self._job_out = os.path.join(log_output[0], "job.out")
        self._job_err = os.path.join(log_output[0], "job.err")
        args: list[Any] = ["bsub", "-q", self.queue_flag, "-n", str(self.n_cpu_flag), "-M", str(self.memory_flag)]
        args += ["-R", "rusage[%s]" % self.resource_flag, "-W", str(self.runtime_flag)]
        if self.job_name_flag:
            args += ["-J", str(self.job_name_flag)]
        args += ["-o", self._job_out, "-e", self._job_err]
        if self.extra_bsub_args:
            args += self.extra_bsub_args.split()
        # Luigi submits the runner file itself, which only runs where it is
        # executable; naming the interpreter works wherever python does
        args += ["python", os.path.abspath(lsf_runner.__file__), self.tmp_dir]
        LOGGER.info("### LSF SUBMISSION ARGS: %s", " ".join(str(a) for a in args))
        run_job_proc = subprocess.Popen(
            [str(a) for a in args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self.tmp_dir
        )
        raw: Any = run_job_proc.communicate()[0]
        output = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        LOGGER.info("### JOB SUBMISSION OUTPUT: %s", str(output))
        # bsub answers "Job <123> is submitted to queue <name>."
        self.job_id = int(output.split("<")[1].split(">")[0])
        LOGGER.info("Job %ssubmitted as job %s", self.job_name_flag + " ", str(self.job_id))
        with _KillOnTerm(self.job_id):
            self._track_job()
        if self.save_job_info:
            LOGGER.info("Saving up temporary bits")
            shutil.move(self.tmp_dir, "/".join(log_output[0:-1]))
        self._finish()
        if self.job_status == FAILED:
            raise LSFJobError(f"LSF job {self.job_id} failed:\n" + "".join(self.fetch_task_failures()))

    def _track_job(self) -> None:
        started = 0
        while True:
            time.sleep(self.poll_time)
            lsf_status = track_job(self.job_id)
            if lsf_status == "RUN":
                self.job_status = RUNNING
                LOGGER.info("Job is running...")
                started = started or int(round(time.time()))
            elif lsf_status == "PEND":
                self.job_status = PENDING
                LOGGER.info("Job is pending...")
            elif lsf_status in ("DONE", "EXIT"):
                errors = self.fetch_task_failures()
                if not errors:
                    self.job_status = DONE
                    LOGGER.info("Job is done")
                    job_name = str(self.job_id)
                    if self.job_name_flag:
                        job_name = f"{self.job_name_flag} {job_name}"
                    # within poll_time of the truth
                    seconds = int(round(time.time())) - started if started else 0
                    LOGGER.info("### JOB COMPLETED: %s in %s seconds", job_name, seconds)
                else:
                    self.job_status = FAILED
                    LOGGER.error("Job has FAILED")
                    LOGGER.error("Traceback: ")
                    for error in errors:
                        LOGGER.error(error)
                break
            elif lsf_status == "SSUSP":
                self.job_status = PENDING
                LOGGER.info("Job is suspended (basically, pending)...")
            else:
                self.job_status = UNKNOWN
                LOGGER.info("Job status is UNKNOWN!")
                LOGGER.info("Status is : %s", lsf_status)
                break

    def _finish(self) -> None:
        LOGGER.info("Cleaning up temporary bits")
        if self.tmp_dir and os.path.exists(self.tmp_dir):
            LOGGER.info("Removing directory %s", self.tmp_dir)
            shutil.rmtree(self.tmp_dir)


class _KillOnTerm:
    """bkill the job when the task's process gets SIGTERM (the worker stopping it)."""

    def __init__(self, job_id: Any) -> None:
        self.job_id = job_id
        self._previous: Any = None
        self._installed = False

    def _on_term(self, signum: int, frame: Any) -> None:
        LOGGER.info("Job interrupted, killing LSF job %s", self.job_id)
        kill_job(self.job_id)
        sys.exit(128 + signum)

    def __enter__(self) -> _KillOnTerm:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_term)
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: object, exc_tb: object) -> None:
        if exc_type is KeyboardInterrupt:
            kill_job(self.job_id)
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)


class LocalLSFJobTask(LSFJobTask):
    """Runs ``init_local()`` and ``work()`` on this machine, without bsub: for testing."""

    def run(self) -> None:
        self.init_local()
        self.work()
