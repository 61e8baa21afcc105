"""The program ``spark-submit`` runs for a PySparkTask (Luigi's ``luigi.contrib.pyspark_runner``).

    spark-submit ... pyspark_runner.py <task.pickle> [app options...]

It unpickles the task, lets it adjust the ``SparkConf`` (``setup``), opens a
SparkContext — or a SparkSession when ``[pyspark_runner] use_spark_session``
is true — ships the task's packages (``setup_remote``) and calls
``main(context_or_session, *app_options)``. The folder of the pickle is put on
``sys.path`` first, since PySparkTask copies the task's module file there.
"""

from __future__ import annotations

import abc
import logging
import os
import pickle
import sys
from types import TracebackType
from typing import Any

# Run as a script, this file's folder would be sys.path[0] and its neighbours
# (e.g. trunkline.contrib's own modules) would shadow top-level packages.
sys.path.append(sys.path.pop(0))

from trunkline import configuration  # noqa: E402


class _SparkEntryPoint(metaclass=abc.ABCMeta):
    """Opens and closes what ``main()`` receives; ``__enter__`` gives (entry point, SparkContext)."""

    def __init__(self, conf: Any) -> None:
        self.conf = conf

    @abc.abstractmethod
    def __enter__(self) -> tuple[Any, Any]: ...

    @abc.abstractmethod
    def __exit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> None: ...


class SparkContextEntryPoint(_SparkEntryPoint):
    sc: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        from pyspark import SparkContext

        self.sc = SparkContext(conf=self.conf)
        return self.sc, self.sc

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.sc.stop()


class SparkSessionEntryPoint(_SparkEntryPoint):
    spark: Any = None

    def _check_major_spark_version(self) -> None:
        from pyspark import __version__ as spark_version

        if int(spark_version.split(".")[0]) < 2:
            raise RuntimeError(
                f"Apache Spark {spark_version} has no SparkSession: set "
                "[pyspark_runner] use_spark_session = false and take a SparkContext in main()"
            )

    def __enter__(self) -> tuple[Any, Any]:
        self._check_major_spark_version()
        from pyspark.sql import SparkSession

        self.spark = SparkSession.builder.config(conf=self.conf).enableHiveSupport().getOrCreate()
        return self.spark, self.spark.sparkContext

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.spark.stop()


class AbstractPySparkRunner:
    _entry_point_class: type[_SparkEntryPoint] | None = None

    def __init__(self, job: str, *args: Any) -> None:
        # The task's module was copied next to the pickle: make it importable.
        sys.path.append(os.path.dirname(job))
        with open(job, "rb") as fd:
            self.job = pickle.load(fd)
        self.args = args

    def run(self) -> None:
        from pyspark import SparkConf

        conf = SparkConf()
        self.job.setup(conf)
        assert self._entry_point_class is not None, "use PySparkRunner or PySparkSessionRunner"
        with self._entry_point_class(conf=conf) as (entry_point, sc):
            self.job.setup_remote(sc)
            self.job.main(entry_point, *self.args)


def _pyspark_runner_with(name: str, entry_point_class: type[_SparkEntryPoint]) -> type[AbstractPySparkRunner]:
    """A runner class that opens ``entry_point_class`` around ``main()``."""
    return type(name, (AbstractPySparkRunner,), {"_entry_point_class": entry_point_class})


class PySparkRunner(AbstractPySparkRunner):
    """Calls ``main(sc, ...)`` with a SparkContext."""

    _entry_point_class = SparkContextEntryPoint


class PySparkSessionRunner(AbstractPySparkRunner):
    """Calls ``main(spark, ...)`` with a SparkSession."""

    _entry_point_class = SparkSessionEntryPoint


def _use_spark_session() -> bool:
    # getboolean, not bool(): "False" in a config file must mean False
    return bool(configuration.get_config().getboolean("pyspark_runner", "use_spark_session", False))


def _get_runner_class() -> type[AbstractPySparkRunner]:
    return PySparkSessionRunner if _use_spark_session() else PySparkRunner


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARN)
    _get_runner_class()(*sys.argv[1:]).run()
