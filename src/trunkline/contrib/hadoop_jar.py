"""Hadoop jobs packaged as a jar: ``hadoop jar <jar> [main] -D... args`` (Luigi's ``luigi.contrib.hadoop_jar``).

HDFS targets among ``args()`` are passed as paths; one that does not exist yet
is an output, and with ``atomic_output()`` (the default) the job writes to a
temporary path beside it that is moved into place once the job succeeds. With
``ssh()`` the command runs on another host over ssh.
"""

from __future__ import annotations

import logging
import os
import random
import shlex
import warnings
from collections.abc import Callable
from typing import Any

import trunkline as luigi  # noqa: F401  (Luigi's module binds `luigi`)
import trunkline.contrib.hadoop
from trunkline.contrib.hadoop import _contrib, _load_hadoop_cmd

logger = logging.getLogger("luigi-interface")


def _hdfs_target_class() -> type | None:
    hdfs = _contrib("hdfs")
    return getattr(hdfs, "HdfsTarget", None) if hdfs is not None else None


def fix_paths(job: HadoopJarJobTask) -> tuple[list[tuple[Any, str]], list[str]]:
    """The job's arguments as strings, outputs redirected to temporary paths.

    Returns (pairs of (temporary target, final path) to move after the job, arguments).
    """
    hdfs_target: Any = _hdfs_target_class()
    tmp_files: list[tuple[Any, str]] = []
    args: list[str] = []
    arg: Any
    for arg in job.args():
        if hdfs_target is not None and isinstance(arg, hdfs_target):
            if arg.exists() or not job.atomic_output():  # an input, or written in place
                args.append(arg.path)
                continue
            final = arg.path[:-1] if arg.path.endswith("/") else arg.path
            temporary = hdfs_target(final + "-luigi-tmp-%09d" % random.randrange(0, 10_000_000_000))
            tmp_files.append((temporary, final))
            logger.info("Using temp path: %s for path %s", temporary.path, arg.path)
            args.append(temporary.path)
        else:
            # a target's path if it has one, else its string form
            args.append(arg.path if hasattr(arg, "path") else str(arg))
    return tmp_files, args


class HadoopJarJobError(Exception):
    pass


class HadoopJarJobRunner(trunkline.contrib.hadoop.JobRunner):
    """Runs a :class:`HadoopJarJobTask` with ``hadoop jar``, here or over ssh."""

    def __init__(self) -> None:
        pass

    def run_job(self, job: HadoopJarJobTask, tracking_url_callback: Callable[[str], Any] | None = None) -> None:
        if tracking_url_callback is not None:
            warnings.warn(
                "tracking_url_callback argument is deprecated, task.set_tracking_url is used instead.",
                DeprecationWarning,
            )
        jar = job.jar()
        if not jar:
            raise HadoopJarJobError("Jar not defined")
        hadoop_arglist = [*_load_hadoop_cmd(), "jar", jar]
        main = job.main()
        if main:
            hadoop_arglist.append(main)
        hadoop_arglist += ["-D" + conf for conf in job.jobconfs()]
        tmp_files, job_args = fix_paths(job)
        hadoop_arglist += job_args

        ssh_config = job.ssh()
        if ssh_config:
            host, key_file, username = (str(ssh_config.get(key) or "") for key in ("host", "key_file", "username"))
            if not host or not key_file or not username:
                raise HadoopJarJobError("missing some config for HadoopRemoteJarJobRunner")
            arglist = ["ssh", "-i", key_file, "-o", "BatchMode=yes"]  # never prompt
            if ssh_config.get("no_host_key_check", False):
                arglist += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
            arglist.append(f"{username}@{host}")
            # the remote shell parses the command again: quote each argument
            arglist.append(" ".join(shlex.quote(arg) for arg in hadoop_arglist))
        else:
            if not os.path.exists(jar):
                logger.error("Can't find jar: %s, full path %s", jar, os.path.abspath(jar))
                raise HadoopJarJobError("job jar does not exist")
            arglist = hadoop_arglist

        trunkline.contrib.hadoop.run_and_track_hadoop_job(arglist, job.set_tracking_url)
        for temporary, final in tmp_files:
            temporary.move(final)


class HadoopJarJobTask(trunkline.contrib.hadoop.BaseHadoopJobTask):
    """A ``hadoop jar`` job: override ``jar()``, and ``main()`` and ``args()`` as needed."""

    def jar(self) -> str | None:
        return None

    def main(self) -> str | None:
        return None

    def job_runner(self) -> HadoopJarJobRunner:
        return HadoopJarJobRunner()

    def atomic_output(self) -> bool:
        """Write outputs to temporary paths and move them into place after success."""
        return True

    def ssh(self) -> dict[str, Any] | None:
        """``{"host": ..., "key_file": ..., "username": ..., "no_host_key_check": False}`` to run remotely."""
        return None

    def args(self) -> list[Any]:
        """Arguments after ``hadoop jar <jar> <main>``: strings and targets."""
        return []
