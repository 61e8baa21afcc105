"""Spark jobs as tasks (Luigi's ``luigi.contrib.spark``).

:class:`SparkSubmitTask` runs ``spark-submit`` with a command line built from
its properties, each of which defaults to a key of the ``[spark]`` section
(``master``, ``deploy-mode``, ``jars``, ``conf``, ``driver-memory``, ...;
another section when ``spark_version`` is overridden). :class:`PySparkTask`
pickles the task itself, and ``pyspark_runner.py`` unpickles it inside the
Spark driver and calls its ``main(sc, *app_options())``.

Spark writes its log to stderr: it is scanned while the job runs, and the
Spark UI address (client mode) or the YARN tracking URL (cluster mode) becomes
the task's tracking URL. Stopping the task kills ``spark-submit``
(see :class:`~trunkline.contrib.external_program.ExternalProgramRunContext`).
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import inspect
import logging
import os
import pickle
import re
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from trunkline import configuration
from trunkline.contrib._pickling import dumps_task
from trunkline.contrib.external_program import ExternalProgramTask

logger = logging.getLogger("luigi-interface")


def _pyspark_home() -> str | None:
    """The Spark installation inside the pyspark package, when pyspark is installed."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        return None
    home = next(iter(spec.submodule_search_locations))
    return home if os.path.isdir(os.path.join(home, "jars")) else None


class SparkSubmitTask(ExternalProgramTask):
    """Runs a Spark application (a .jar or .py file in ``app``) with ``spark-submit``."""

    name: Any = None
    entry_class: str | None = None
    app: str | None = None

    # Spark's stderr is its (long) log: shown only when the job fails.
    always_log_stderr = False

    stream_for_searching_tracking_url = "stderr"

    @property
    def tracking_url_pattern(self) -> str:
        if self.deploy_mode == "cluster":
            # a cluster-mode client only relays the application report now and then
            return r"tracking URL: (https?://.*)\s"
        # The driver's own log once its UI listens: Spark 2-3 print the address;
        # Spark 4 prints only the port ("Successfully started service 'SparkUI'
        # on port 4040."), which build_tracking_url() turns into the address.
        return (
            r"Bound (?:.*) to (?:.*), and started at (https?://.*)\s"
            r"|Successfully started service 'SparkUI' on port (\d+)"
        )

    def _on_program_line(self, line: str) -> None:
        # Spark's log, line by line into the worker log while the job runs
        logger.info("%s: %s", self.task_family, line.rstrip())

    def build_tracking_url(self, logs_output: str) -> str:
        if logs_output.isdigit():
            return f"http://{self._driver_host()}:{logs_output}"
        return logs_output

    def _driver_host(self) -> str:
        """The host the Spark UI is reached at, found as Spark finds it (public DNS, driver host)."""
        host: str | None = os.environ.get("SPARK_PUBLIC_DNS") or (self._conf or {}).get("spark.driver.host")
        if not host:
            import socket

            host = os.environ.get("SPARK_LOCAL_HOSTNAME") or socket.getfqdn()
        return host

    def app_options(self) -> list[Any]:
        """The application's own arguments, after the app."""
        return []

    # -- settings, each a [spark] key unless overridden ----------------------
    def _setting(self, key: str, default: str | None = None) -> str | None:
        value: str | None = configuration.get_config().get(self.spark_version, key, default)
        return value

    @property
    def pyspark_python(self) -> str | None:
        return None

    @property
    def pyspark_driver_python(self) -> str | None:
        return None

    @property
    def hadoop_user_name(self) -> str | None:
        return None

    @property
    def spark_version(self) -> str:
        """The configuration section to read (``spark``); lets one cluster use e.g. ``[spark3]``."""
        return "spark"

    @property
    def spark_submit(self) -> str:
        configured = self._setting("spark-submit")
        if configured:
            return configured
        # Not configured and not on PATH: the spark-submit that pip's pyspark
        # installs next to this interpreter (`pip install trunkline[spark]`).
        if shutil.which("spark-submit") is None:
            beside = os.path.join(os.path.dirname(sys.executable), "spark-submit")
            if os.path.exists(beside):
                return beside
        return "spark-submit"

    @property
    def master(self) -> str | None:
        return self._setting("master")

    @property
    def deploy_mode(self) -> str | None:
        return self._setting("deploy-mode")

    @property
    def jars(self) -> list[str] | None:
        return self._list_config(self._setting("jars"))

    @property
    def packages(self) -> list[str] | None:
        return self._list_config(self._setting("packages"))

    @property
    def py_files(self) -> list[str] | None:
        return self._list_config(self._setting("py-files"))

    @property
    def files(self) -> list[str] | None:
        return self._list_config(self._setting("files"))

    @property
    def _conf(self) -> dict[str, Any]:
        conf = collections.OrderedDict(self.conf or {})
        if self.pyspark_python:
            conf["spark.pyspark.python"] = self.pyspark_python
        if self.pyspark_driver_python:
            conf["spark.pyspark.driver.python"] = self.pyspark_driver_python
        return conf

    @property
    def conf(self) -> dict[str, str] | None:
        """``--conf`` pairs; in the config file as ``key=value|key=value``."""
        return self._dict_config(self._setting("conf"))

    @property
    def properties_file(self) -> str | None:
        return self._setting("properties-file")

    @property
    def driver_memory(self) -> str | None:
        return self._setting("driver-memory")

    @property
    def driver_java_options(self) -> str | None:
        return self._setting("driver-java-options")

    @property
    def driver_library_path(self) -> str | None:
        return self._setting("driver-library-path")

    @property
    def driver_class_path(self) -> str | None:
        return self._setting("driver-class-path")

    @property
    def executor_memory(self) -> str | None:
        return self._setting("executor-memory")

    @property
    def driver_cores(self) -> str | None:
        return self._setting("driver-cores")

    @property
    def supervise(self) -> bool:
        # getboolean, not bool(): "false" in a config file must mean False
        return bool(configuration.get_config().getboolean(self.spark_version, "supervise", False))

    @property
    def total_executor_cores(self) -> str | None:
        return self._setting("total-executor-cores")

    @property
    def executor_cores(self) -> str | None:
        return self._setting("executor-cores")

    @property
    def queue(self) -> str | None:
        return self._setting("queue")

    @property
    def num_executors(self) -> str | None:
        return self._setting("num-executors")

    @property
    def archives(self) -> list[str] | None:
        return self._list_config(self._setting("archives"))

    @property
    def hadoop_conf_dir(self) -> str | None:
        return self._setting("hadoop-conf-dir")

    # -- the command -----------------------------------------------------------
    def get_environment(self) -> dict[str, str]:
        env = os.environ.copy()
        for variable in ("HADOOP_CONF_DIR", "HADOOP_USER_NAME"):
            value = getattr(self, variable.lower(), None)
            if value:
                env[variable] = value
        if "SPARK_HOME" not in env:
            # pip's spark-submit looks for Spark with whichever `python3` is first
            # on PATH, which may lack pyspark (a venv not activated): point it here.
            home = _pyspark_home()
            if home:
                env["SPARK_HOME"] = home
        return env

    def program_environment(self) -> dict[str, str]:
        return self.get_environment()

    def program_args(self) -> list[Any]:
        return self.spark_command() + self.app_command()

    def spark_command(self) -> list[Any]:
        """``spark-submit`` and its options, in Luigi's order, only those that are set."""
        return [
            self.spark_submit,
            *self._text_arg("--master", self.master),
            *self._text_arg("--deploy-mode", self.deploy_mode),
            *self._text_arg("--name", self.name),
            *self._text_arg("--class", self.entry_class),
            *self._list_arg("--jars", self.jars),
            *self._list_arg("--packages", self.packages),
            *self._list_arg("--py-files", self.py_files),
            *self._list_arg("--files", self.files),
            *self._list_arg("--archives", self.archives),
            *self._dict_arg("--conf", self._conf),
            *self._text_arg("--properties-file", self.properties_file),
            *self._text_arg("--driver-memory", self.driver_memory),
            *self._text_arg("--driver-java-options", self.driver_java_options),
            *self._text_arg("--driver-library-path", self.driver_library_path),
            *self._text_arg("--driver-class-path", self.driver_class_path),
            *self._text_arg("--executor-memory", self.executor_memory),
            *self._text_arg("--driver-cores", self.driver_cores),
            *self._flag_arg("--supervise", self.supervise),
            *self._text_arg("--total-executor-cores", self.total_executor_cores),
            *self._text_arg("--executor-cores", self.executor_cores),
            *self._text_arg("--queue", self.queue),
            *self._text_arg("--num-executors", self.num_executors),
        ]

    def app_command(self) -> list[Any]:
        if not self.app:
            raise NotImplementedError("subclass should define an app (.jar or .py file)")
        return [self.app, *self.app_options()]

    def _list_config(self, config: Any) -> list[str] | None:
        if config and isinstance(config, str):
            return [item.strip() for item in config.split(",")]
        return None

    def _dict_config(self, config: Any) -> dict[str, str] | None:
        if config and isinstance(config, str):
            return dict(pair.split("=", 1) for pair in config.split("|"))
        return None

    def _text_arg(self, name: str, value: Any) -> list[Any]:
        return [name, value] if value else []

    def _list_arg(self, name: str, value: Any) -> list[str]:
        if value and isinstance(value, (list, tuple)):
            return [name, ",".join(value)]
        return []

    def _dict_arg(self, name: str, value: Any) -> list[str]:
        if not (value and isinstance(value, dict)):
            return []
        command: list[str] = []
        for key, item in value.items():
            command += [name, f"{key}={item}"]
        return command

    def _flag_arg(self, name: str, value: Any) -> list[str]:
        return [name] if value else []


class PySparkTask(SparkSubmitTask):
    """A Spark job written inline: implement ``main(sc, *args)``.

    ``run()`` pickles the task into a temporary folder (with the file of the
    module that defines it), and ``spark-submit`` runs ``pyspark_runner.py``
    on that pickle. Packages named in ``[spark] py-packages`` are zipped and
    shipped to the executors with ``sc.addPyFile``.
    """

    app = os.path.join(os.path.dirname(__file__), "pyspark_runner.py")

    @property
    def name(self) -> str:
        return self.__class__.__name__

    @property
    def py_packages(self) -> Iterable[str] | None:
        packages = configuration.get_config().get("spark", "py-packages", None)
        if packages:
            return [package.strip() for package in packages.split(",")]
        return None

    @property
    def files(self) -> list[str] | None:
        # In cluster mode the driver runs elsewhere: the pickle travels with --files.
        if self.deploy_mode == "cluster":
            return [self.run_pickle]
        return None

    @property
    def pickle_protocol(self) -> int:
        return int(configuration.get_config().getint("spark", "pickle-protocol", pickle.DEFAULT_PROTOCOL))

    def get_environment(self) -> dict[str, str]:
        env = super().get_environment()
        master = self.master or "local"
        if master.startswith("local") and not (self.pyspark_python or "PYSPARK_PYTHON" in env):
            # In local mode driver and executors run here: let them use this
            # interpreter, which can unpickle the task (it has trunkline).
            env["PYSPARK_PYTHON"] = sys.executable
        return env

    def setup(self, conf: Any) -> None:
        """Called in the driver with the ``SparkConf`` the context will be made from."""

    def setup_remote(self, sc: Any) -> None:
        self._setup_packages(sc)

    def main(self, sc: Any, *args: Any) -> None:
        """The job: called in the driver with a SparkContext (or SparkSession) and ``app_options()``."""
        raise NotImplementedError("subclass should define a main method")

    def app_command(self) -> list[Any]:
        pickle_loc = os.path.basename(self.run_pickle) if self.deploy_mode == "cluster" else self.run_pickle
        return [self.app, pickle_loc, *self.app_options()]

    def run(self) -> None:
        fragment = re.sub(r"[^\w]", "_", self.name)
        self.run_path = tempfile.mkdtemp(prefix=fragment)
        self.run_pickle = os.path.join(self.run_path, f"{fragment}.pickle")
        with open(self.run_pickle, "wb") as fd:
            # The runner adds this folder to sys.path, so the task's module unpickles there.
            shutil.copy(os.path.abspath(inspect.getfile(self.__class__)), os.path.join(self.run_path, "."))
            self._dump(fd)
        try:
            super().run()
        finally:
            shutil.rmtree(self.run_path)

    def _dump(self, fd: IO[bytes]) -> None:
        with self.no_unpicklable_properties():
            # the runner is its own __main__: a class from the script is named by its module
            fd.write(dumps_task(self, protocol=self.pickle_protocol))

    def _setup_packages(self, sc: Any) -> None:
        """Ship each package of ``py_packages`` to the executors as a tarball."""
        packages = self.py_packages
        if not packages:
            return
        for package in packages:
            module = importlib.import_module(package)
            module_path: str | None
            try:
                module_path = module.__path__[0]
            except AttributeError:
                module_path = module.__file__
            if module_path is None:
                raise ValueError(f"py-packages: {package} has no file to ship")
            os.makedirs(self.run_path, exist_ok=True)
            tar_path = os.path.join(self.run_path, f"{package}.tar.gz")
            with tarfile.open(tar_path, "w:gz") as tar:
                tar.add(module_path, os.path.basename(module_path))
            sc.addPyFile(tar_path)
