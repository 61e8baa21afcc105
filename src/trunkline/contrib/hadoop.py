"""MapReduce jobs written in Python, run by Hadoop Streaming (Luigi's ``luigi.contrib.hadoop``).

Subclass :class:`JobTask` and write ``mapper`` (and usually ``reducer``,
optionally ``combiner``) as generators of ``(key, value)`` pairs. Where the
job runs is decided by ``job_runner()``:

- :class:`LocalJobRunner` runs map, sort and reduce in the worker's process,
  reading and writing any targets (what tests and small inputs want);
- :class:`DefaultHadoopJobRunner` / :class:`HadoopJobRunner` submit a
  streaming job: ``hadoop jar <streaming jar> ... -mapper "python mrrunner.py
  map" -reducer "python mrrunner.py reduce" -file mrrunner.py -file
  packages.tar -file job-instance.pickle -input ... -output ...``. The task is
  pickled, the packages it needs (trunkline, the job's module, ``attach()``-ed
  packages, ``extra_modules()``) are tarred, and ``mrrunner.py`` unpacks both
  on each Hadoop node and runs the step.

The job's stderr is logged as it arrives; the tracking URL Hadoop prints
becomes the task's tracking URL, and stopping the task kills the job
(``mapred job -kill`` / ``yarn application -kill``).

Inputs and the output of a Hadoop-run job are HDFS, S3 or GCS targets, as in
Luigi, or local paths (``LocalTarget``) for Hadoop's local mode.
"""

from __future__ import annotations

import abc
import datetime
import glob
import hashlib
import importlib
import logging
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from io import StringIO
from itertools import groupby
from types import FrameType, ModuleType
from typing import IO, Any

import trunkline as luigi
import trunkline.task
from trunkline import configuration
from trunkline.contrib import mrrunner
from trunkline.contrib._pickling import dumps_task
from trunkline.task import Config

try:
    import ujson as json  # type: ignore[import-not-found, unused-ignore]  # faster, when installed (as in Luigi)
except ImportError:
    import json

logger = logging.getLogger("luigi-interface")

_attached_packages: list[Any] = []

TRACKING_RE = re.compile(r"(tracking url|the url to track the job):\s+(?P<url>.+)$")


class hadoop(Config):
    pool = luigi.OptionalParameter(
        default=None,
        description="Hadoop pool for Hadoop tasks (a task's own pool parameter wins).",
    )


def _contrib(name: str) -> ModuleType | None:
    """``trunkline.contrib.<name>`` if it can be imported here, else None.

    The storage modules (hdfs, s3, gcs) are optional for this one: a local job
    needs none of them, so they are looked up when a check needs them.
    """
    try:
        return importlib.import_module(f"trunkline.contrib.{name}")
    except ImportError:
        return None


def _target_classes(*names: str) -> tuple[type, ...]:
    """The classes ``module.Class`` among names that exist in this installation."""
    found: list[type] = []
    for dotted in names:
        module_name, class_name = dotted.split(".")
        module = _contrib(module_name)
        if module is not None and hasattr(module, class_name):
            found.append(getattr(module, class_name))
    return tuple(found)


def _load_hadoop_cmd() -> list[str]:
    hdfs = _contrib("hdfs")
    if hdfs is not None and hasattr(hdfs, "load_hadoop_cmd"):
        return list(hdfs.load_hadoop_cmd())
    # the same setting hdfs reads: [hadoop] command, split like a shell would
    import shlex

    return shlex.split(configuration.get_config().get("hadoop", "command", "hadoop"))


def attach(*packages: Any) -> None:
    """Ship these packages (module objects) with every streaming job of this process."""
    _attached_packages.extend(packages)


def dereference(f: str) -> str:
    """Follow symbolic links to the file they finally name."""
    while os.path.islink(f):
        f = os.path.join(os.path.dirname(f), os.readlink(f))
    return f


def get_extra_files(extra_files: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """(source, destination) pairs; a directory expands to each file below it."""
    result: list[tuple[str, str]] = []
    for item in extra_files:
        if isinstance(item, str):
            src, dst = item, os.path.basename(item)
        elif isinstance(item, tuple):
            src, dst = item
        else:
            raise TypeError(f"extra_files() items are paths or (src, dst) pairs, not {item!r}")
        if os.path.isdir(src):
            prefix = os.path.join(src, "")
            for base, _dirs, files in os.walk(src):
                for name in files:
                    path = os.path.join(base, name)
                    result.append((path, os.path.join(dst, path[len(prefix):])))
        else:
            result.append((src, dst))
    return result


def create_packages_archive(packages: Iterable[Any], filename: str) -> None:
    """Write a tar of the source files of these packages/modules, importable from its root."""
    import tarfile

    with tarfile.open(filename, "w") as tar:

        def add(src: str, dst: str) -> None:
            logger.debug("adding to tar: %s -> %s", src, dst)
            tar.add(src, dst)

        def add_tree(path: str, root_path: str, root_name: str) -> None:
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if d not in {".svn", ".git", "__pycache__"}]
                for name in files:
                    if not name.endswith(".pyc") and not name.startswith("."):
                        add(dereference(os.path.join(root, name)), root.replace(root_path, root_name) + "/" + name)

        for package in packages:
            # A plain submodule brings its whole package: what it imports from
            # its siblings then works on the node without attaching them too.
            if not getattr(package, "__path__", None) and "." in package.__name__:
                package = importlib.import_module(package.__name__.rpartition(".")[0])
            archive_name = package.__name__.replace(".", "/")
            if getattr(package, "__path__", None):
                path = package.__path__[0]
                if path.endswith(".egg") and os.path.isfile(path):
                    raise ValueError(f"cannot ship {package.__name__}: zipped eggs are not supported")
                parents: list[str] = []
                for parent in package.__name__.split(".")[:-1]:
                    parents.append(parent)
                    parent_init = importlib.import_module(".".join(parents)).__path__[0] + "/__init__.py"
                    add(dereference(parent_init), "/".join(parents) + "/__init__.py")
                add_tree(path, path, archive_name)
                for egg_info in glob.glob(path + "*.egg-info"):
                    add_tree(egg_info, path, archive_name)
            else:
                source = package.__file__
                if source.endswith("pyc"):
                    source = source[:-3] + "py"
                add(dereference(source), os.path.basename(source) if "." not in archive_name else archive_name + ".py")


def flatten(sequence: Iterable[Any]) -> Iterator[Any]:
    """Flatten one level: ``(1, (2, 3), 4)`` gives 1, 2, 3, 4 (strings stay whole)."""
    for item in sequence:
        if hasattr(item, "__iter__") and not isinstance(item, (str, bytes)):
            yield from item
        else:
            yield item


class HadoopRunContext:
    """Kills the submitted job when the task gets SIGTERM or a KeyboardInterrupt."""

    def __init__(self) -> None:
        self.job_id: str | None = None
        self.application_id: str | None = None
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> HadoopRunContext:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self.kill_job)
            self._installed = True
        return self

    def kill_job(self, captured_signal: int | None = None, stack_frame: FrameType | None = None) -> None:
        if self.application_id:
            logger.info("Job interrupted, killing application %s", self.application_id)
            subprocess.call(["yarn", "application", "-kill", self.application_id])
        elif self.job_id:
            logger.info("Job interrupted, killing job %s", self.job_id)
            subprocess.call(["mapred", "job", "-kill", self.job_id])
        if captured_signal is not None:
            sys.exit(128 + captured_signal)

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: object, exc_tb: object) -> None:
        if exc_type is KeyboardInterrupt:
            self.kill_job()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False


class HadoopJobError(RuntimeError):
    def __init__(self, message: str, out: str | None = None, err: str | None = None) -> None:
        super().__init__(message, out, err)
        self.message = message
        self.out = out
        self.err = err

    def __str__(self) -> str:
        return self.message


def run_and_track_hadoop_job(
    arglist: list[str], tracking_url_callback: Callable[[str], Any] | None = None, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run a ``hadoop`` command line, log its stderr as it comes and follow the job.

    Returns (stdout, stderr). The tracking URL goes to the callback; a job id
    or YARN application id seen in the output is what a SIGTERM kills. A
    non-zero exit raises :class:`HadoopJobError` carrying both streams.
    """
    logger.info("%s", subprocess.list2cmdline(arglist))
    report_url = tracking_url_callback or (lambda url: None)
    with tempfile.TemporaryFile("w+t") as temp_stdout:
        proc = subprocess.Popen(
            arglist, stdout=temp_stdout, stderr=subprocess.PIPE, env=env, close_fds=True, universal_newlines=True
        )
        tracking_url = None
        err_lines: list[str] = []
        with HadoopRunContext() as context:
            assert proc.stderr is not None  # piped above
            for raw in iter(proc.stderr.readline, ""):
                err_lines.append(raw)
                line = raw.strip()
                if line:
                    logger.info("%s", line)
                lowered = line.lower()
                found = TRACKING_RE.search(lowered)
                if found:
                    # the URL keeps its case: take it from the original line
                    tracking_url = line[found.start("url"):found.end("url")]
                    try:
                        report_url(tracking_url)
                    except Exception as exc:  # a broken callback must not fail the job
                        logger.error("Error in tracking_url_callback, disabling! %s", exc)
                        report_url = lambda url: None  # noqa: E731
                if "running job: " in lowered:  # hadoop jar
                    context.job_id = lowered.split("running job: ")[-1]
                if "submitted hadoop job: " in lowered:  # scalding
                    context.job_id = lowered.split("submitted hadoop job: ")[-1]
                if "submitted application " in lowered:  # YARN
                    context.application_id = lowered.split("submitted application ")[-1]
            proc.wait()
        err = "".join(err_lines)
        temp_stdout.seek(0)
        out = temp_stdout.read()
    if proc.returncode == 0:
        _write_luigi_history(arglist, {"job_id": context.job_id})
        return out, err
    message = "Streaming job failed with exit code %d. " % proc.returncode
    if not tracking_url:
        raise HadoopJobError(message + "Also, no tracking url found.", out, err)
    try:
        task_failures = fetch_task_failures(tracking_url)
    except Exception as exc:
        raise HadoopJobError(
            message + "Additionally, an error occurred when fetching data from %s: %s" % (tracking_url, exc), out, err
        ) from None
    if not task_failures:
        raise HadoopJobError(message + "Also, could not fetch output from tasks.", out, err)
    raise HadoopJobError(message + "Output from tasks below:\n%s" % task_failures, out, err)


def _write_luigi_history(arglist: list[str], history: dict[str, Any]) -> None:
    """With ``[core] history-filename`` set, leave the job id in the output directory."""
    history_filename = configuration.get_config().get("core", "history-filename", "")
    if not (history_filename and "-output" in arglist):
        return
    output_dir = arglist[arglist.index("-output") + 1]
    hdfs = _contrib("hdfs")
    if hdfs is None:
        raise ImportError("[core] history-filename needs trunkline.contrib.hdfs: pip install 'trunkline[hdfs]'")
    with hdfs.HdfsTarget(os.path.join(output_dir, history_filename)).open("w") as f:
        f.write(json.dumps(history))


def fetch_task_failures(tracking_url: str) -> str:
    """Fetch the failed tasks' tracebacks from Hadoop's (classic) job tracker pages.

    Best effort, short timeouts: ``mrrunner`` prints each traceback hex-encoded
    after ``luigi-exc-hex=`` in the task's log; this finds them again.
    """
    import urllib.parse
    import urllib.request

    timeout = 3.0
    failures_url = tracking_url.replace("jobdetails.jsp", "jobfailures.jsp") + "&cause=failed"
    logger.debug("Fetching data from %s", failures_url)
    with urllib.request.urlopen(failures_url, timeout=timeout) as response:
        page = response.read().decode("utf-8", errors="replace")
    links = re.findall(r'href="([^"]+)"[^>]*>\s*Last 4KB', page)
    # a random sample: not biased towards the first failures
    links = random.sample(links, min(10, len(links)))
    error_text: list[str] = []
    for link in links:
        task_url = urllib.parse.urljoin(failures_url, link.replace("&amp;", "&")).replace("&start=-4097", "&start=-100000")
        try:
            with urllib.request.urlopen(task_url, timeout=timeout) as response:
                data = response.read().decode("utf-8", errors="replace")
        except Exception as exc:
            logger.debug("Error fetching data from %s: %s", task_url, exc)
            continue
        for found in re.findall(r"luigi-exc-hex=([0-9a-f]+)", data):
            error_text.append("---------- %s:" % task_url)
            error_text.append(bytes.fromhex(found).decode("utf-8", errors="replace"))
    return "\n".join(error_text)


class JobRunner:
    run_job: Any = NotImplemented


class HadoopJobRunner(JobRunner):
    """Submits a :class:`JobTask` as a Hadoop Streaming job with ``hadoop jar``."""

    def __init__(
        self,
        streaming_jar: str,
        modules: list[Any] | None = None,
        streaming_args: list[str] | None = None,
        libjars: list[str] | None = None,
        libjars_in_hdfs: list[str] | None = None,
        jobconfs: dict[str, Any] | None = None,
        input_format: str | None = None,
        output_format: str | None = None,
        end_job_with_atomic_move_dir: bool = True,
        archives: list[str] | None = None,
    ) -> None:
        self.streaming_jar = streaming_jar
        self.modules = modules or []
        self.streaming_args = streaming_args or []
        self.libjars = libjars or []
        self.libjars_in_hdfs = libjars_in_hdfs or []
        self.archives = archives or []
        self.jobconfs = jobconfs or {}
        self.input_format = input_format
        self.output_format = output_format
        self.end_job_with_atomic_move_dir = end_job_with_atomic_move_dir
        self.tmp_dir: str | bool = False

    def run_job(self, job: JobTask, tracking_url_callback: Callable[[str], Any] | None = None) -> None:
        if tracking_url_callback is not None:
            warnings.warn(
                "tracking_url_callback argument is deprecated, task.set_tracking_url is used instead.",
                DeprecationWarning,
            )
        packages = [luigi, *self.modules, *job.extra_modules(), *_attached_packages]
        packages.append(importlib.import_module(job.__module__))
        runner_path = mrrunner.__file__
        if runner_path.endswith("pyc"):
            runner_path = runner_path[:-3] + "py"
        self.tmp_dir = self._make_tmp_dir()
        logger.debug("Tmp dir: %s", self.tmp_dir)

        config = configuration.get_config()
        python_executable = config.get("hadoop", "python-executable", "python")
        runner_arg = "mrrunner.pex" if job.package_binary is not None else "mrrunner.py"
        map_cmd, cmb_cmd, red_cmd = (f"{python_executable} {runner_arg} {step}" for step in ("map", "combiner", "reduce"))

        output_final = job.output().path
        if self.end_job_with_atomic_move_dir:
            flag_targets = _target_classes("s3.S3FlagTarget", "gcs.GCSFlagTarget")
            if flag_targets and isinstance(job.output(), flag_targets):
                raise TypeError("end_job_with_atomic_move_dir is not supported for {}".format(flag_targets))
            # Hadoop writes next to the output, which appears complete only when moved in place
            stamp = datetime.datetime.now().isoformat().replace(":", "-")
            output_hadoop = f"{output_final}-temp-{stamp}"
        else:
            output_hadoop = output_final

        arglist = [*_load_hadoop_cmd(), "jar", self.streaming_jar]
        # generic options (-libjars, -archives, -files, -D) come before the streaming ones
        libjars = list(self.libjars)
        for libjar in self.libjars_in_hdfs:
            fetch = [*_load_hadoop_cmd(), "fs", "-get", libjar, self.tmp_dir]
            logger.debug(subprocess.list2cmdline(fetch))
            subprocess.call(fetch)
            libjars.append(os.path.join(self.tmp_dir, os.path.basename(libjar)))
        if libjars:
            arglist += ["-libjars", ",".join(libjars)]
        archives = list(self.archives) + list(job.extra_archives() or [])
        if archives:
            arglist += ["-archives", ",".join(archives)]
        files = []
        for src, dst in get_extra_files(job.extra_files()):
            # -files cannot make subdirectories: ship flat, link into place on the node
            dst_tmp = "%s_%09d" % (dst.replace("/", "_"), random.randint(0, 999999999))
            files.append(f"{src}#{dst_tmp}")
            job.add_link(dst_tmp, dst)
        if files:
            arglist += ["-files", ",".join(files)]
        jobconfs = job.jobconfs() + [f"{key}={value}" for key, value in self.jobconfs.items()]
        for conf in jobconfs:
            arglist += ["-D", conf]
        arglist += self.streaming_args
        for arg, value in job.extra_streaming_arguments():
            arglist += [arg if arg.startswith("-") else "-" + arg, value]

        arglist += ["-mapper", map_cmd]
        if job.combiner != NotImplemented:
            arglist += ["-combiner", cmb_cmd]
        if job.reducer != NotImplemented:
            arglist += ["-reducer", red_cmd]
        packages_fn = "mrrunner.pex" if job.package_binary is not None else "packages.tar"
        shipped = [
            runner_path if job.package_binary is None else None,
            os.path.join(self.tmp_dir, packages_fn),
            os.path.join(self.tmp_dir, "job-instance.pickle"),
        ]
        for f in filter(None, shipped):
            arglist += ["-file", f]
        if self.output_format:
            arglist += ["-outputformat", self.output_format]
        if self.input_format:
            arglist += ["-inputformat", self.input_format]

        allowed_inputs = _target_classes("hdfs.HdfsTarget", "s3.S3Target", "gcs.GCSTarget") + (luigi.LocalTarget,)
        target: Any
        for target in trunkline.task.flatten(job.input_hadoop()):
            if not isinstance(target, allowed_inputs):
                raise TypeError("target must one of: {}".format(allowed_inputs))
            arglist += ["-input", getattr(target, "path")]
        allowed_outputs = _target_classes("hdfs.HdfsTarget", "s3.S3FlagTarget", "gcs.GCSFlagTarget") + (luigi.LocalTarget,)
        if not isinstance(job.output(), allowed_outputs):
            raise TypeError("output must be one of: {}".format(allowed_outputs))
        arglist += ["-output", output_hadoop]

        if job.package_binary is not None:
            shutil.copy(job.package_binary, os.path.join(self.tmp_dir, "mrrunner.pex"))
        else:
            create_packages_archive(packages, os.path.join(self.tmp_dir, "packages.tar"))
        job.dump(self.tmp_dir)

        run_and_track_hadoop_job(arglist, tracking_url_callback=job.set_tracking_url)

        if self.end_job_with_atomic_move_dir:
            self._move_into_place(job.output(), output_hadoop, output_final)
        self.finish()

    @staticmethod
    def _make_tmp_dir() -> str:
        base_tmp_dir = configuration.get_config().get("core", "tmp-dir", None)
        if not base_tmp_dir:
            return tempfile.mkdtemp()
        warnings.warn(
            "The core.tmp-dir configuration item is deprecated, please use the TMPDIR environment "
            "variable if you wish to control where trunkline.contrib.hadoop may create temporary files "
            "and directories."
        )
        path = os.path.join(base_tmp_dir, "hadoop_job_%016x" % random.getrandbits(64))
        os.makedirs(path)
        return path

    @staticmethod
    def _move_into_place(output: Any, output_hadoop: str, output_final: str) -> None:
        if isinstance(output, luigi.LocalTarget):
            os.rename(output_hadoop, output_final)
            return
        hdfs = _contrib("hdfs")
        if hdfs is None:
            raise ImportError("moving a job's output on HDFS needs trunkline.contrib.hdfs: pip install 'trunkline[hdfs]'")
        hdfs.HdfsTarget(output_hadoop).move_dir(output_final)

    def finish(self) -> None:
        if isinstance(self.tmp_dir, str) and os.path.exists(self.tmp_dir):
            logger.debug("Removing directory %s", self.tmp_dir)
            shutil.rmtree(self.tmp_dir)

    def __del__(self) -> None:
        self.finish()


class DefaultHadoopJobRunner(HadoopJobRunner):
    """A :class:`HadoopJobRunner` with the streaming jar from ``[hadoop] streaming-jar``."""

    def __init__(self) -> None:
        super().__init__(streaming_jar=configuration.get_config().get("hadoop", "streaming-jar"))


class LocalJobRunner(JobRunner):
    """Runs the job in this process as Hadoop Streaming would: map, sort by key, (combine,) reduce.

    ``samplelines`` reads only the first lines of each input (for trying a job out).
    """

    def __init__(self, samplelines: int | None = None) -> None:
        self.samplelines = samplelines

    def sample(self, input_stream: Iterable[str], n: int | None, output: IO[str]) -> None:
        for i, line in enumerate(input_stream):
            if n is not None and i >= n:
                break
            output.write(line)

    def group(self, input_stream: Iterable[str]) -> StringIO:
        """Sort lines by their key fields (all but the last tab-separated field).

        Equal keys are put in a pseudo-random order, not the input order, so
        a reducer cannot come to rely on an order Hadoop does not give.
        """
        keyed = []
        for i, line in enumerate(input_stream):
            fields = line.rstrip("\n").split("\t")
            shuffle = hashlib.md5(str(i).encode("ascii"), usedforsecurity=False).hexdigest()
            keyed.append((fields[:-1], shuffle, line))
        output = StringIO()
        for _, _, line in sorted(keyed):
            output.write(line)
        output.seek(0)
        return output

    def run_job(self, job: JobTask) -> None:
        map_input = StringIO()
        for target in trunkline.task.flatten(job.input_hadoop()):
            with target.open("r") as stream:
                self.sample(stream, self.samplelines, map_input)
        map_input.seek(0)
        if job.reducer == NotImplemented:
            # map-only: the mapper writes the output directly
            with job.output().open("w") as map_output:
                job.run_mapper(map_input, map_output)
            return
        map_output = StringIO()
        job.run_mapper(map_input, map_output)
        map_output.seek(0)
        if job.combiner == NotImplemented:
            reduce_input = self.group(map_output)
        else:
            combine_output = StringIO()
            job.run_combiner(self.group(map_output), combine_output)
            combine_output.seek(0)
            reduce_input = self.group(combine_output)
        with job.output().open("w") as reduce_output:
            job.run_reducer(reduce_input, reduce_output)


class BaseHadoopJobTask(luigi.Task):
    pool = luigi.OptionalParameter(default=None, significant=False, positional=False)
    # counters are sent when this many increments have gathered (1: at once)
    batch_counter_default = 1

    final_mapper: Any = NotImplemented
    final_combiner: Any = NotImplemented
    final_reducer: Any = NotImplemented
    mr_priority: Any = NotImplemented
    package_binary: Any = None

    _counter_dict: dict[tuple[str, ...], int] = {}
    task_id: Any = None

    def _get_pool(self) -> str | None:
        return self.pool or hadoop().pool or None

    @abc.abstractmethod
    def job_runner(self) -> JobRunner: ...

    def jobconfs(self) -> list[str]:
        confs = ["mapred.job.name=%s" % self]
        if self.mr_priority != NotImplemented:
            confs.append("mapred.job.priority=%s" % self.mr_priority())
        pool = self._get_pool()
        if pool is not None:
            # one option, two Hadoop schedulers
            scheduler_type = configuration.get_config().get("hadoop", "scheduler", "fair")
            if scheduler_type == "fair":
                confs.append("mapred.fairscheduler.pool=%s" % pool)
            elif scheduler_type == "capacity":
                confs.append("mapred.job.queue.name=%s" % pool)
        return confs

    def init_local(self) -> None:
        """Runs in the worker before the job is submitted; what it sets is pickled to the nodes.

        Inputs from ``requires_local()`` are readable here through ``input_local()``.
        """

    def init_hadoop(self) -> None:
        """Runs on each Hadoop node before any map, combine or reduce step."""

    # "python" (repr/eval between steps) or "json"
    data_interchange_format = "python"

    def run(self) -> None:
        # Plain attributes, not properties: they are called once per record.
        codec = DataInterchange[self.data_interchange_format]
        self.serialize = codec["serialize"]
        self.internal_serialize = codec["internal_serialize"]
        self.deserialize = codec["deserialize"]
        self.init_local()
        self.job_runner().run_job(self)

    def requires_local(self) -> Any:
        """Tasks whose outputs ``init_local()`` reads in the worker (not Hadoop inputs)."""
        return []

    def requires_hadoop(self) -> Any:
        return self.requires()

    def input_local(self) -> Any:
        return trunkline.task.getpaths(self.requires_local())

    def input_hadoop(self) -> Any:
        return trunkline.task.getpaths(self.requires_hadoop())

    def deps(self) -> list[luigi.Task]:
        return trunkline.task.flatten(self.requires_hadoop()) + trunkline.task.flatten(self.requires_local())

    def on_failure(self, exception: BaseException) -> str | None:
        if isinstance(exception, HadoopJobError):
            return (
                f"Hadoop job failed with message: {exception.message}\n"
                f"    stdout:\n    {exception.out}\n    stderr:\n    {exception.err}\n      "
            )
        message: str | None = super().on_failure(exception)
        return message


DataInterchange: dict[str, dict[str, Callable[..., Any]]] = {
    "python": {"serialize": str, "internal_serialize": repr, "deserialize": eval},
    "json": {"serialize": json.dumps, "internal_serialize": json.dumps, "deserialize": json.loads},
}


class JobTask(BaseHadoopJobTask):
    """A Hadoop Streaming job: ``mapper``, optional ``combiner`` and ``reducer`` methods."""

    jobconf_truncate = 20000
    n_reduce_tasks = 25
    reducer: Any = NotImplemented
    combiner: Any = NotImplemented

    def jobconfs(self) -> list[str]:
        confs = super().jobconfs()
        if self.reducer == NotImplemented:
            confs.append("mapred.reduce.tasks=0")
        else:
            confs.append("mapred.reduce.tasks=%s" % self.n_reduce_tasks)
        if self.jobconf_truncate >= 0:
            confs.append("stream.jobconf.truncate.limit=%i" % self.jobconf_truncate)
        return confs

    def init_mapper(self) -> None:
        pass

    def init_combiner(self) -> None:
        pass

    def init_reducer(self) -> None:
        pass

    def _setup_remote(self) -> None:
        self._setup_links()

    def job_runner(self) -> JobRunner:
        """Hadoop when every output is on HDFS; otherwise the local runner (with a warning)."""
        hdfs_target = _target_classes("hdfs.HdfsTarget")
        for output in trunkline.task.flatten(self.output()):
            if not (hdfs_target and isinstance(output, hdfs_target)):
                warnings.warn("Job is using one or more non-HdfsTarget outputs so it will be run in local mode")
                return LocalJobRunner()
        return DefaultHadoopJobRunner()

    def reader(self, input_stream: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """Turn input lines into mapper arguments: one argument, the line, by default."""
        for line in input_stream:
            yield (line,)

    def writer(self, outputs: Iterable[Any], stdout: IO[str], stderr: IO[str] = sys.stderr) -> None:
        """Write the final records as tab-separated lines."""
        for output in outputs:
            try:
                fields: Iterable[Any] = flatten(output)
                if self.data_interchange_format == "json":
                    # already serialised; a None key is left out
                    fields = [field for field in fields if field]
                else:
                    fields = map(self.serialize, fields)
                print("\t".join(fields), file=stdout)
            except BaseException:
                print(output, file=stderr)
                raise

    def mapper(self, item: Any) -> Iterator[tuple[Any, Any]]:
        """The identity mapper: every line to one reducer key (None)."""
        yield None, item

    def incr_counter(self, *args: Any, **kwargs: Any) -> None:
        """Increment a Hadoop counter: ``(group, name, count)`` or the old ``(group_name, count)``.

        Updates gather until ``threshold`` (default ``batch_counter_default``)
        and are flushed at the end of each step, since each costs a line on stderr.
        """
        threshold = kwargs.get("threshold", self.batch_counter_default)
        if len(args) == 2:
            group_name, count = args
            key: tuple[str, ...] = (group_name,)
        else:
            group, name, count = args
            key = (group, name)
        total = self._counter_dict.get(key, 0) + count
        if total >= threshold:
            self._incr_counter(*key, total)
            total = 0
        self._counter_dict[key] = total

    def _flush_batch_incr_counter(self) -> None:
        for key, count in self._counter_dict.items():
            if count:
                self._incr_counter(*key, count)
                self._counter_dict[key] = 0

    def _incr_counter(self, *args: Any) -> None:
        # Hadoop Streaming's protocol: a reporter line on stderr
        if len(args) == 2:
            group_name, count = args
            print("reporter:counter:%s,%s" % (group_name, count), file=sys.stderr)
        else:
            group, name, count = args
            print("reporter:counter:%s,%s,%s" % (group, name, count), file=sys.stderr)

    def extra_modules(self) -> list[Any]:
        """More packages (module objects) to ship with the job."""
        return []

    def extra_files(self) -> list[str | tuple[str, str]]:
        """Files to put in the nodes' working directory: paths or (src, dst) pairs; dirs recurse."""
        return []

    def extra_streaming_arguments(self) -> list[tuple[str, str]]:
        """More streaming arguments, as (option, value) pairs."""
        return []

    def extra_archives(self) -> list[str]:
        """Archives to ship with ``-archives``."""
        return []

    def add_link(self, src: str, dst: str) -> None:
        if not hasattr(self, "_links"):
            self._links: list[tuple[str, str]] = []
        self._links.append((src, dst))

    def _setup_links(self) -> None:
        if not hasattr(self, "_links"):
            return
        missing = []
        for src, dst in self._links:
            folder = os.path.dirname(dst)
            if folder:
                os.makedirs(folder, exist_ok=True)
            if not os.path.exists(src):
                missing.append(src)
                continue
            if not os.path.exists(dst):
                # a combiner on the same node may have linked it already
                os.link(src, dst)
        if missing:
            raise HadoopJobError("Missing files for distributed cache: " + ", ".join(missing))

    def dump(self, directory: str = "") -> None:
        """Pickle the task to ``job-instance.pickle`` in directory, for mrrunner."""
        with self.no_unpicklable_properties():
            with open(os.path.join(directory, "job-instance.pickle"), "wb") as f:
                f.write(dumps_task(self))

    def _map_input(self, input_stream: Iterable[str]) -> Iterator[Any]:
        for record in self.reader(input_stream):
            yield from self.mapper(*record)
        if self.final_mapper != NotImplemented:
            yield from self.final_mapper()
        self._flush_batch_incr_counter()

    def _reduce_input(self, inputs: Iterable[Any], reducer: Callable[..., Any], final: Any = NotImplemented) -> Iterator[Any]:
        """Group sorted (key, value) records by key and call the reducer once per key."""
        for key, values in groupby(inputs, key=lambda record: self.internal_serialize(record[0])):
            yield from reducer(self.deserialize(key), (value[1] for value in values))
        if final != NotImplemented:
            yield from final()
        self._flush_batch_incr_counter()

    def run_mapper(self, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        self.init_hadoop()
        self.init_mapper()
        outputs = self._map_input(line[:-1] for line in stdin)
        if self.reducer == NotImplemented:
            self.writer(outputs, stdout)
        else:
            self.internal_writer(outputs, stdout)

    def run_reducer(self, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        self.init_hadoop()
        self.init_reducer()
        records = self.internal_reader(line[:-1] for line in stdin)
        self.writer(self._reduce_input(records, self.reducer, self.final_reducer), stdout)

    def run_combiner(self, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        self.init_hadoop()
        self.init_combiner()
        records = self.internal_reader(line[:-1] for line in stdin)
        self.internal_writer(self._reduce_input(records, self.combiner, self.final_combiner), stdout)

    def internal_reader(self, input_stream: Iterable[str]) -> Iterator[list[Any]]:
        """Decode the tab-separated fields written by :meth:`internal_writer`."""
        for input_line in input_stream:
            yield [self.deserialize(field) for field in input_line.split("\t")]

    def internal_writer(self, outputs: Iterable[Any], stdout: IO[str]) -> None:
        """Encode records between steps, one tab-separated line each."""
        for output in outputs:
            print("\t".join(map(self.internal_serialize, output)), file=stdout)
