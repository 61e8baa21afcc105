"""Scalding jobs as tasks (Luigi's ``luigi.contrib.scalding``).

Configuration (each defaults from ``SCALA_HOME`` / ``SCALDING_HOME``)::

    [scalding]
    scala-home = /usr/share/scala            # with lib/scala-library.jar (and the compiler)
    scalding-home = /usr/share/scalding      # with lib/scalding-core-*.jar
    scalding-provided = /usr/share/scalding/provided   # jars to compile against
    scalding-libjars = /usr/share/scalding/libjars     # jars shipped with the job

A :class:`ScaldingJobTask` gives either a Scala ``source()`` (compiled with
``scala.tools.nsc.Main`` and jarred) or a built ``jar()`` with ``job_class()``,
and is submitted with ``hadoop jar scalding-core... <JobClass> --hdfs``. Its
``requires()`` is a dict: each key becomes ``--key <input paths>``.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import warnings
from collections.abc import Callable
from typing import Any

import trunkline.configuration
import trunkline as luigi  # noqa: F401  (Luigi's module binds `luigi`)
import trunkline.contrib.hadoop
import trunkline.contrib.hadoop_jar
from trunkline import LocalTarget
from trunkline.contrib.hadoop import _load_hadoop_cmd
from trunkline.task import flatten

logger = logging.getLogger("luigi-interface")


class ScaldingJobRunner(trunkline.contrib.hadoop.JobRunner):
    """Builds (when given a source) and submits a :class:`ScaldingJobTask`."""

    def __init__(self) -> None:
        conf = trunkline.configuration.get_config()
        self.scala_home = conf.get("scalding", "scala-home", os.environ.get("SCALA_HOME", "/usr/share/scala"))
        default_home = os.environ.get("SCALDING_HOME", "/usr/share/scalding")
        self.scalding_home = conf.get("scalding", "scalding-home", default_home)
        # as in Luigi, these default below SCALDING_HOME, not below [scalding] scalding-home
        self.provided_dir = conf.get("scalding", "scalding-provided", os.path.join(default_home, "provided"))
        self.libjars_dir = conf.get("scalding", "scalding-libjars", os.path.join(default_home, "libjars"))
        self.tmp_dir = LocalTarget(is_tmp=True)

    def _get_jars(self, path: str) -> list[str]:
        return [os.path.join(path, name) for name in os.listdir(path) if name.endswith(".jar")]

    def get_scala_jars(self, include_compiler: bool = False) -> list[str]:
        lib_dir = os.path.join(self.scala_home, "lib")
        jars = [os.path.join(lib_dir, "scala-library.jar")]
        reflect = os.path.join(lib_dir, "scala-reflect.jar")  # Scala 2.10 and later
        if os.path.exists(reflect):
            jars.append(reflect)
        if include_compiler:
            jars.append(os.path.join(lib_dir, "scala-compiler.jar"))
        return jars

    def get_scalding_jars(self) -> list[str]:
        return self._get_jars(os.path.join(self.scalding_home, "lib"))

    def get_scalding_core(self) -> str:
        lib_dir = os.path.join(self.scalding_home, "lib")
        for name in os.listdir(lib_dir):
            if name.startswith("scalding-core-"):
                path = os.path.join(lib_dir, name)
                logger.debug("Found scalding-core: %s", path)
                return path
        raise trunkline.contrib.hadoop.HadoopJobError(f"Could not find scalding-core in {lib_dir}.")

    def get_provided_jars(self) -> list[str]:
        return self._get_jars(self.provided_dir)

    def get_libjars(self) -> list[str]:
        return self._get_jars(self.libjars_dir)

    def get_tmp_job_jar(self, source: str) -> str:
        job_name = os.path.basename(os.path.splitext(source)[0])
        return os.path.join(self.tmp_dir.path, job_name + ".jar")

    def get_build_dir(self, source: str) -> str:
        return os.path.join(self.tmp_dir.path, "build")

    def get_job_class(self, source: str) -> str:
        """The job class in a Scala source: the one named like the file, else the last ``extends ...Job``."""
        job_name = os.path.splitext(os.path.basename(source))[0]
        package = job_class = None
        with open(source) as f:
            for line in f:
                found = re.search(r"package\s+([^\s\(]+)", line)
                if found:
                    package = found.group(1)
                found = re.search(r"class\s+([^\s\(]+).*extends\s+.*Job", line)
                if found:
                    job_class = found.group(1)
                    if job_class == job_name:
                        break
        if not job_class:
            raise trunkline.contrib.hadoop.HadoopJobError(f"Could not find scalding job class in {source}.")
        if package:
            job_class = f"{package}.{job_class}"
        logger.debug("Found scalding job class: %s", job_class)
        return job_class

    def build_job_jar(self, job: ScaldingJobTask) -> str:
        job_jar = job.jar()
        if job_jar:
            if not os.path.exists(job_jar):
                logger.error("Can't find jar: %s, full path %s", job_jar, os.path.abspath(job_jar))
                raise Exception("job jar does not exist")
            if not job.job_class():
                logger.error("Undefined job_class()")
                raise Exception("Undefined job_class()")
            return job_jar
        job_src = job.source()
        if not job_src:
            logger.error("Both source() and jar() undefined")
            raise Exception("Both source() and jar() undefined")
        if not os.path.exists(job_src):
            logger.error("Can't find source: %s, full path %s", job_src, os.path.abspath(job_src))
            raise Exception("job source does not exist")
        job_jar = self.get_tmp_job_jar(job_src)
        build_dir = self.get_build_dir(job_src)
        os.makedirs(build_dir, exist_ok=True)
        classpath = ":".join(
            filter(None, self.get_scalding_jars() + self.get_provided_jars() + self.get_libjars() + job.extra_jars())
        )
        scala_cp = ":".join(self.get_scala_jars(include_compiler=True))
        compile_cmd = ["java", "-cp", scala_cp, "scala.tools.nsc.Main", "-classpath", classpath, "-d", build_dir, job_src]
        logger.info("Compiling scala source: %s", subprocess.list2cmdline(compile_cmd))
        subprocess.check_call(compile_cmd)
        jar_cmd = ["jar", "cf", job_jar, "-C", build_dir, "."]
        logger.info("Building job jar: %s", subprocess.list2cmdline(jar_cmd))
        subprocess.check_call(jar_cmd)
        return job_jar

    def run_job(self, job: ScaldingJobTask, tracking_url_callback: Callable[[str], Any] | None = None) -> None:
        if tracking_url_callback is not None:
            warnings.warn(
                "tracking_url_callback argument is deprecated, task.set_tracking_url is used instead.",
                DeprecationWarning,
            )
        job_jar = self.build_job_jar(job)
        jars = [job_jar, *self.get_libjars(), *job.extra_jars()]
        scalding_core = self.get_scalding_core()
        arglist = [*_load_hadoop_cmd(), "jar", scalding_core, "-libjars", ",".join(filter(None, jars))]
        arglist += ["-D%s" % conf for conf in job.jobconfs()]
        arglist += [job.job_class() or self.get_job_class(job.source() or ""), "--hdfs"]
        # Scalding's argument parser mistakes '=' in a value
        arglist += ["--name", job.task_id.replace("=", ":")]
        tmp_files, job_args = trunkline.contrib.hadoop_jar.fix_paths(job)  # type: ignore[arg-type]
        arglist += job_args
        env = os.environ.copy()
        hadoop_cp = ":".join(filter(None, [*jars, scalding_core]))
        env["HADOOP_CLASSPATH"] = hadoop_cp
        logger.info("Submitting Hadoop job: HADOOP_CLASSPATH=%s %s", hadoop_cp, subprocess.list2cmdline(arglist))
        trunkline.contrib.hadoop.run_and_track_hadoop_job(arglist, job.set_tracking_url, env=env)
        for temporary, final in tmp_files:
            temporary.move(final)


class ScaldingJobTask(trunkline.contrib.hadoop.BaseHadoopJobTask):
    """A Scalding job from a Scala ``source()`` or a ``jar()``.

    ``requires()`` returns a dict: ``{"input1": A, "input2": [B, C]}`` gives
    ``--input1 <A's output> --input2 <B's output> <C's output>``.
    """

    def relpath(self, current_file: str, rel_path: str) -> str:
        """``rel_path`` taken relative to the folder of ``current_file`` (pass ``__file__``)."""
        return os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(current_file)), rel_path))

    def source(self) -> str | None:
        return None

    def jar(self) -> str | None:
        return None

    def extra_jars(self) -> list[str]:
        return []

    def job_class(self) -> str | None:
        return None

    def job_runner(self) -> ScaldingJobRunner:
        return ScaldingJobRunner()

    def atomic_output(self) -> bool:
        return True

    def requires(self) -> dict[str, Any]:
        return {}

    def job_args(self) -> list[Any]:
        """More arguments for the Scalding job."""
        return []

    def args(self) -> list[Any]:
        arglist: list[Any] = []
        for name, tasks in self.requires_hadoop().items():
            arglist.append("--" + name)
            arglist.extend(task.output().path for task in flatten(tasks))
        arglist.extend(["--output", self.output()])
        arglist.extend(self.job_args())
        return arglist
