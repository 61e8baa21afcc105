"""Tasks run as Sun Grid Engine jobs (Luigi's ``luigi.contrib.sge``).

Subclass :class:`SGEJobTask` and put the job's code in ``work()`` (not
``run()``). ``run()`` pickles the task into a fresh folder on
``shared_tmp_dir`` (a drive every node sees) with a tarball of trunkline and
the task's module, submits ``python sge_runner.py <folder> <project dir>``
with ``qsub -pe <parallel_env> <n_cpu>``, and polls ``qstat`` every
``poll_time`` seconds until the job leaves the queue; anything in the job's
``job.err`` then fails the task. Run the workflow with ``--workers N`` to have
N jobs in the queue at once. Defaults for the parameters can go in
``[SGEJobTask]`` (``shared-tmp-dir``, ``parallel-env``, ``n-cpu``).

:class:`LocalSGEJobTask` runs ``work()`` in place, for trying a workflow out.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import subprocess
import sys
import time
from typing import Any

import trunkline as luigi
from trunkline.contrib import sge_runner
from trunkline.contrib._pickling import dumps_task
from trunkline.contrib.hadoop import create_packages_archive

logger = logging.getLogger("luigi-interface")
# Luigi also sets logger.propagate = False here, which silences the
# luigi-interface logger for every handler above it as soon as this module is
# imported; trunkline leaves the shared logger alone.

POLL_TIME = 5  # seconds between two qstat calls, unless poll_time says otherwise


def _text(output: Any) -> str:
    return output.decode("utf-8", errors="replace") if isinstance(output, bytes) else str(output)


def _parse_qstat_state(qstat_out: Any, job_id: Any) -> str:
    """The state column of job_id's first line in ``qstat`` output; ``u`` when it is not listed."""
    qstat_out = _text(qstat_out)
    if qstat_out.strip() == "":
        return "u"
    lines = qstat_out.split("\n")
    # the table starts after the dashed line under the header
    while lines and not lines.pop(0).startswith("---"):
        pass
    for line in lines:
        if line.strip():
            job, _prior, _name, _user, state = line.strip().split()[0:5]
            if int(job) == int(job_id):
                return str(state)
    return "u"


def _parse_qsub_job_id(qsub_out: Any) -> int:
    """The id in qsub's answer: ``Your job <job_id> ("<job_name>") has been submitted``."""
    return int(_text(qsub_out).split()[2])


def _build_qsub_command(cmd: str, job_name: str, outfile: str, errfile: str, pe: str, n_cpu: int) -> str:
    """A shell command piping the job's command line into qsub (-V: this environment; -r y: rerunnable)."""
    return f'echo {cmd} | qsub -o ":{outfile}" -e ":{errfile}" -V -r y -pe {pe} {n_cpu} -N {job_name}'


class SGEJobError(RuntimeError):
    """The SGE job ended in error, or wrote to its error file."""


class SGEJobTask(luigi.Task):
    """Runs ``work()`` as an SGE job; see the module's documentation."""

    n_cpu = luigi.IntParameter(default=2, significant=False)
    shared_tmp_dir = luigi.Parameter(default="/home", significant=False)
    parallel_env = luigi.Parameter(default="orte", significant=False)
    job_name_format = luigi.OptionalParameter(
        significant=False, default=None,
        description="A string that can be formatted with class variables to name the job with qsub.",
    )
    job_name = luigi.OptionalParameter(significant=False, default=None, description="Explicit job name given via qsub.")
    run_locally = luigi.BoolParameter(significant=False, description="run locally instead of on the cluster")
    poll_time = luigi.IntParameter(
        significant=False, default=POLL_TIME, description="specify the wait time to poll qstat for the job status"
    )
    dont_remove_tmp_dir = luigi.BoolParameter(
        significant=False, description="don't delete the temporary directory used (for debugging)"
    )
    no_tarball = luigi.BoolParameter(
        significant=False, description="don't tarball (and extract) the luigi project files"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.job_name:
            if self.job_name_format:
                self.job_name = self.job_name_format.format(task_family=self.task_family, **self.__dict__)
            else:
                self.job_name = self.task_family

    def _fetch_task_failures(self) -> list[str]:
        if not os.path.exists(self.errfile):
            logger.info("No error file")
            return []
        with open(self.errfile) as f:
            errors = f.readlines()
        if errors and errors[0].strip() == "stdin: is not a tty":  # qsub fed through a pipe says so
            errors.pop(0)
        return errors

    def _init_local(self) -> None:
        folder_name = f"{self.task_id}-{random.getrandbits(64):016x}"
        max_filename_length = os.fstatvfs(0).f_namemax
        self.tmp_dir = os.path.join(self.shared_tmp_dir, folder_name)[:max_filename_length]
        logger.info("Tmp dir: %s", self.tmp_dir)
        os.makedirs(self.tmp_dir)
        logger.debug("Dumping pickled class")
        self._dump(self.tmp_dir)
        if not self.no_tarball:
            logger.debug("Tarballing dependencies")
            packages = [luigi, __import__(self.__module__, None, None, "dummy")]
            create_packages_archive(packages, os.path.join(self.tmp_dir, "packages.tar"))

    def run(self) -> None:
        if self.run_locally:
            self.work()
        else:
            self._init_local()
            self._run_job()

    def work(self) -> None:
        """The job's code, run on a compute node. Override this rather than ``run()``."""

    def _dump(self, out_dir: str = "") -> None:
        with self.no_unpicklable_properties():
            self.job_file = os.path.join(out_dir, "job-instance.pickle")
            with open(self.job_file, "wb") as f:
                f.write(dumps_task(self))

    def _run_job(self) -> None:
        runner_path = sge_runner.__file__
        if runner_path.endswith("pyc"):
            runner_path = runner_path[:-3] + "py"
        # quoted: the folder name holds the task id, parameters and all
        job_str = f'python {runner_path} "{self.tmp_dir}" "{os.getcwd()}"'
        if self.no_tarball:
            job_str += ' "--no-tarball"'
        self.outfile = os.path.join(self.tmp_dir, "job.out")
        self.errfile = os.path.join(self.tmp_dir, "job.err")
        submit_cmd = _build_qsub_command(job_str, self.task_family, self.outfile, self.errfile, self.parallel_env, self.n_cpu)
        logger.debug("qsub command: \n%s", submit_cmd)
        output = subprocess.check_output(submit_cmd, shell=True)
        self.job_id = _parse_qsub_job_id(output)
        logger.debug("Submitted job to qsub with response:\n%s", _text(output))
        self._track_job()
        if self.tmp_dir and os.path.exists(self.tmp_dir) and not self.dont_remove_tmp_dir:
            logger.info("Removing temporary directory %s", self.tmp_dir)
            subprocess.call(["rm", "-rf", self.tmp_dir])

    def _track_job(self) -> None:
        while True:
            time.sleep(self.poll_time)
            sge_status = _parse_qstat_state(subprocess.check_output(["qstat"]), self.job_id)
            if sge_status == "r":
                logger.info("Job is running...")
            elif sge_status == "qw":
                logger.info("Job is pending...")
            elif "E" in sge_status or sge_status in ("t", "u"):
                # in error, or left the queue: done unless the job wrote errors
                errors = self._fetch_task_failures()
                if errors or "E" in sge_status:
                    logger.error("Job has FAILED:\n%s", "\n".join(errors))
                    # Luigi only logs this and lets the task pass; a failed job fails the task here
                    raise SGEJobError(f"SGE job {self.job_id} failed (state {sge_status}):\n" + "".join(errors))
                logger.info("Job is done")
                break
            else:
                logger.info("Job status is UNKNOWN!")
                logger.info("Status is : %s", sge_status)
                raise Exception("job status isn't one of ['r', 'qw', 'E*', 't', 'u']: %s" % sge_status)


class LocalSGEJobTask(SGEJobTask):
    """Runs ``work()`` on this machine, without qsub: for testing a workflow."""

    def run(self) -> None:
        self.work()
