"""Apache Beam pipelines (Google Cloud Dataflow or the DirectRunner) as tasks (Luigi's ``luigi.contrib.beam_dataflow``).

A :class:`BeamDataflowJobTask` names the pipeline's launcher in
``dataflow_executable()`` (e.g. ``["java", "-cp", "job.jar", "com.example.Job"]``
or ``["python", "pipeline.py"]``) and how its SDK spells the execution options
in ``dataflow_params`` (a :class:`DataflowParamKeys`: camelCase for Java,
snake_case for Python). The command line is the launcher, the options that are
set (``--project=...``, ``--tempLocation=...``), ``args()``, one
``--<name>=<path>/part-*`` per input and one ``--<name>=<path>`` per output.
The launcher's output is logged line by line as it runs.

A failed launch raises :class:`subprocess.CalledProcessError` after
``cleanup_on_error()``. (Luigi ends the whole worker process with
``os._exit`` there; trunkline fails only the task.)
"""

from __future__ import annotations

import abc
import json
import logging
import os  # noqa: F401  (module-level name in Luigi's module)
import subprocess
from typing import Any

import trunkline as luigi
from trunkline.task import MixinNaiveBulkComplete

# The targets a pipeline may read or write besides local files (both modules
# import without Google's libraries).
from trunkline.contrib import bigquery, gcs

logger = logging.getLogger("luigi-interface")

# in the order they appear on the command line (Luigi's)
_OPTIONS = (
    "runner", "project", "zone", "region", "staging_location", "temp_location", "gcp_temp_location",
    "num_workers", "autoscaling_algorithm", "max_num_workers", "disk_size_gb", "worker_machine_type",
    "worker_disk_type", "network", "subnetwork", "job_name", "service_account", "labels",
)


class DataflowParamKeys(metaclass=abc.ABCMeta):
    """How one Beam SDK spells each execution option (e.g. ``tempLocation`` or ``temp_location``)."""

    @property
    @abc.abstractmethod
    def runner(self) -> str: ...

    @property
    @abc.abstractmethod
    def project(self) -> str: ...

    @property
    @abc.abstractmethod
    def zone(self) -> str: ...

    @property
    @abc.abstractmethod
    def region(self) -> str: ...

    @property
    @abc.abstractmethod
    def staging_location(self) -> str: ...

    @property
    @abc.abstractmethod
    def temp_location(self) -> str: ...

    @property
    @abc.abstractmethod
    def gcp_temp_location(self) -> str: ...

    @property
    @abc.abstractmethod
    def num_workers(self) -> str: ...

    @property
    @abc.abstractmethod
    def autoscaling_algorithm(self) -> str: ...

    @property
    @abc.abstractmethod
    def max_num_workers(self) -> str: ...

    @property
    @abc.abstractmethod
    def disk_size_gb(self) -> str: ...

    @property
    @abc.abstractmethod
    def worker_machine_type(self) -> str: ...

    @property
    @abc.abstractmethod
    def worker_disk_type(self) -> str: ...

    @property
    @abc.abstractmethod
    def job_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def service_account(self) -> str: ...

    @property
    @abc.abstractmethod
    def network(self) -> str: ...

    @property
    @abc.abstractmethod
    def subnetwork(self) -> str: ...

    @property
    @abc.abstractmethod
    def labels(self) -> str: ...


class _CmdLineRunner:
    """Runs the launcher, logging each line of its output; set ``cmd_line_runner`` to replace it."""

    @staticmethod
    def run(cmd: list[str], task: Any = None) -> None:
        process: Any = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, close_fds=True)
        output_lines: list[str] = []
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            output_lines.append(line)
            logger.info(line.rstrip("\n"))
        process.stdout.close()
        exit_code = process.wait()
        if exit_code:
            raise subprocess.CalledProcessError(exit_code, cmd, output="".join(output_lines))


class BeamDataflowJobTask(MixinNaiveBulkComplete, luigi.Task, metaclass=abc.ABCMeta):
    """A Beam pipeline launched as a command; set ``project`` and ``temp_location`` at least for Dataflow."""

    project: Any = None
    runner: Any = None
    temp_location: Any = None
    staging_location: Any = None
    gcp_temp_location: Any = None
    num_workers: Any = None
    autoscaling_algorithm: Any = None
    max_num_workers: Any = None
    network: Any = None
    subnetwork: Any = None
    disk_size_gb: Any = None
    worker_machine_type: Any = None
    job_name: Any = None
    worker_disk_type: Any = None
    service_account: Any = None
    zone: Any = None
    region: Any = None
    labels: dict[str, str] = {}

    cmd_line_runner: Any = _CmdLineRunner
    dataflow_params: Any = None

    def __init__(self) -> None:
        if not isinstance(self.dataflow_params, DataflowParamKeys):
            raise ValueError("dataflow_params must be of type DataflowParamKeys")
        super().__init__()

    @abc.abstractmethod
    def dataflow_executable(self) -> list[str]:
        """The launcher, e.g. ``["java", "com.example.MyPipeline", "-Xmx256m"]``."""

    def args(self) -> list[str]:
        """More arguments for the pipeline, e.g. ``["--setup_file=setup.py"]``."""
        return []

    def before_run(self) -> None:
        """Called right before the launch (set up temporary tables, check inputs...)."""

    def on_successful_run(self) -> None:
        """Called after a successful run, before ``validate_output()``."""

    def validate_output(self) -> bool:
        """False fails the task (and calls ``cleanup_on_error``)."""
        return True

    def file_pattern(self) -> dict[str, str]:
        """Per input name, the file pattern appended to its path (``part-*`` otherwise)."""
        return {}

    def on_successful_output_validation(self) -> None:
        """Called after ``validate_output()`` returned True."""

    def cleanup_on_error(self, error: BaseException) -> None:
        """Called after a failed run or a failed validation."""

    def run(self) -> None:
        cmd_line = self._mk_cmd_line()
        logger.info(" ".join(cmd_line))
        self.before_run()
        try:
            self.cmd_line_runner.run(cmd_line, self)
        except subprocess.CalledProcessError as error:
            logger.error(error, exc_info=True)
            self.cleanup_on_error(error)
            raise
        self.on_successful_run()
        if not self.validate_output():
            invalid = ValueError("Output validation failed")
            self.cleanup_on_error(invalid)
            raise invalid
        self.on_successful_output_validation()

    def _mk_cmd_line(self) -> list[str]:
        cmd_line = list(self.dataflow_executable())
        cmd_line.extend(self._get_dataflow_args())
        cmd_line.extend(self.args())
        cmd_line.extend(self._format_input_args())
        cmd_line.extend(self._format_output_args())
        return cmd_line

    def _get_runner(self) -> str:
        if not self.runner:
            logger.warning("Runner not supplied to BeamDataflowJobTask. Defaulting to DirectRunner.")
            return "DirectRunner"
        if self.runner in ("DataflowRunner", "DirectRunner"):
            return str(self.runner)
        raise ValueError("Runner %s is unsupported." % self.runner)

    def _get_dataflow_args(self) -> list[str]:
        keys = self.dataflow_params
        args = [f"--{keys.runner}={self._get_runner()}"]
        for option in _OPTIONS[1:]:
            value = getattr(self, option)
            if value:
                if option == "labels":
                    value = json.dumps(value)
                args.append(f"--{getattr(keys, option)}={value}")
        return args

    def _format_input_args(self) -> list[str]:
        """One ``--name=<path>/<pattern>,...`` per input; ``requires()`` may return a target, a
        (name, target) pair, a dict of them, a list of pairs, or a list of targets ("input")."""
        job_input = self.input()
        if isinstance(job_input, luigi.Target):
            job_input = {"input": job_input}
        elif isinstance(job_input, tuple):
            job_input = {job_input[0]: job_input[1]}
        elif isinstance(job_input, list):
            job_input = dict(job_input) if all(isinstance(i, tuple) for i in job_input) else {"input": job_input}
        elif not isinstance(job_input, dict):
            raise ValueError(
                "Invalid job input requires(). Supported types: [Target, tuple of (name, Target), "
                "dict of (name: Target), list of Targets]"
            )
        patterns = self.file_pattern()
        if not isinstance(patterns, dict):
            raise ValueError("file_pattern() must return a dict type")
        input_args = []
        for name, targets in job_input.items():
            uris = [self.get_target_path(target) for target in luigi.task.flatten(targets)]
            # a required task with several outputs gives "<input>-<output key>" arguments
            names = [f"{name}-{key}" for key in targets] if isinstance(targets, dict) else [name] * len(uris)
            by_name: dict[str, list[str]] = {}
            for arg_name, uri in zip(names, uris):
                by_name.setdefault(arg_name, []).append(uri.rstrip("/") + "/" + patterns.get(name, "part-*"))
            input_args += [f"--{key}={','.join(paths)}" for key, paths in by_name.items()]
        return input_args

    def _format_output_args(self) -> list[str]:
        job_output = self.output()
        if isinstance(job_output, luigi.Target):
            job_output = {"output": job_output}
        elif not isinstance(job_output, dict):
            raise ValueError("Task output must be a Target or a dict from String to Target")
        return [f"--{name}={self.get_target_path(target)}" for name, target in job_output.items()]

    @staticmethod
    def get_target_path(target: Any) -> str:
        """The string a pipeline gets for a target: a path, a gs:// URI, or project:dataset.table."""
        if isinstance(target, luigi.LocalTarget) or (gcs is not None and isinstance(target, gcs.GCSTarget)):
            path: str = target.path
            return path
        if bigquery is not None and isinstance(target, bigquery.BigQueryTarget):
            return f"{target.table.project_id}:{target.table.dataset_id}.{target.table.table_id}"
        raise ValueError("Target %s not supported" % target)
