"""Apache Hive: run queries (``HiveQueryTask``) and check tables and partitions
(``HiveTableTarget``, ``HivePartitionTarget``, ``ExternalHiveTask``).

Queries run through the ``hive`` command line (``[hive] command``), as a Hadoop
job tracked by ``trunkline.contrib.hadoop``. Tables are looked up by one of
four clients chosen with ``[hive] release``:

- ``cdh4``/``cdh3`` (default): ``HiveCommandClient``, parses ``hive -e`` output;
- ``apache``: ``ApacheHiveCommandClient``, the same for Apache Hive's messages;
- ``metastore``: ``MetastoreClient``, asks the metastore over Thrift
  (``[hive] metastore_host``/``metastore_port``; ``pip install "trunkline[hive]"``
  plus the ``hive_metastore`` bindings your Hive ships);
- ``warehouse``: ``WarehouseHiveClient``, looks for the table's files under
  ``[hive] warehouse_location`` on HDFS, skipping ``ignored_file_masks``.
"""

from __future__ import annotations

import abc
import collections
import logging
import operator
import os
import re
import subprocess
import tempfile
import warnings
from typing import Any

import trunkline as luigi
from trunkline.target import FileAlreadyExists, FileSystemTarget
from trunkline.contrib._dbdeps import sibling_module
from trunkline.task import flatten

# contrib.hadoop ships with the execution-engine integrations; without it
# HiveQueryTask still defines (and its run() says what is missing).
_hadoop: Any = sibling_module("hadoop")
_QueryTaskBase: Any = _hadoop.BaseHadoopJobTask if _hadoop else luigi.Task
_RunnerBase: Any = _hadoop.JobRunner if _hadoop else object

logger = logging.getLogger("luigi-interface")


def get_autoconfig_client(*args: Any, **kwargs: Any) -> Any:
    """The HDFS client ``[hdfs] client`` configures (``trunkline.contrib.hdfs``)."""
    from trunkline.contrib.hdfs import get_autoconfig_client as configured_client

    return configured_client(*args, **kwargs)


class HiveCommandError(RuntimeError):
    """The ``hive`` command failed; ``out`` and ``err`` hold what it printed."""

    def __init__(self, message: str, out: Any = None, err: Any = None) -> None:
        super().__init__(message, out, err)
        self.message = message
        self.out = out
        self.err = err


def load_hive_cmd() -> Any:
    return luigi.configuration.get_config().get("hive", "command", "hive").split(" ")


def get_hive_syntax() -> Any:
    return luigi.configuration.get_config().get("hive", "release", "cdh4")


def get_hive_warehouse_location() -> Any:
    return luigi.configuration.get_config().get("hive", "warehouse_location", "/user/hive/warehouse")


def get_ignored_file_masks() -> Any:
    return luigi.configuration.get_config().get("hive", "ignored_file_masks", None)


def run_hive(args: list[str], check_return_code: bool = True) -> str:
    """Run the hive command with ``args``; its stdout. A non-zero exit raises
    ``HiveCommandError`` unless ``check_return_code`` is False (some Hive
    releases exit non-zero for "table not found", which callers test for)."""
    cmd: list[str] = load_hive_cmd() + args
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = process.communicate()
    if check_return_code and process.returncode != 0:
        raise HiveCommandError(
            f"Hive command: {' '.join(cmd)} failed with error code: {process.returncode}", stdout, stderr
        )
    return str(stdout.decode("utf-8"))


def run_hive_cmd(hivecmd: str, check_return_code: bool = True) -> str:
    """Run one HiveQL string (``hive -e``)."""
    return run_hive(["-e", hivecmd], check_return_code)


def run_hive_script(script: str) -> str:
    """Run a HiveQL file (``hive -f``)."""
    if not os.path.isfile(script):
        raise RuntimeError(f"Hive script: {script} does not exist.")
    return run_hive(["-f", script])


def _is_ordered_dict(dikt: Any) -> bool:
    # Plain dicts keep insertion order, which is all a partition path needs.
    return isinstance(dikt, (collections.OrderedDict, dict))


def _validate_partition(partition: Any) -> None:
    """A partition of several columns must be ordered, or its path is ambiguous."""
    if partition and len(partition) > 1 and not _is_ordered_dict(partition):
        raise ValueError("Unable to restore table/partition location")


class HiveClient(metaclass=abc.ABCMeta):
    @abc.abstractmethod
    def table_location(self, table: str, database: str = "default", partition: Any = None) -> Any:
        """Where the table's (or partition's) files are."""

    @abc.abstractmethod
    def table_schema(self, table: str, database: str = "default") -> Any:
        """``[(column, type), ...]``, or None when the table does not exist."""

    @abc.abstractmethod
    def table_exists(self, table: str, database: str = "default", partition: Any = None) -> Any:
        """Whether the table (or, given a dict, the partition) exists."""

    @abc.abstractmethod
    def partition_spec(self, partition: Any) -> str:
        """The partition dict as this client writes it."""


def _describe_rows(describe: str) -> list[tuple[str, ...]]:
    return [tuple(part.strip() for part in line.strip().split("\t")) for line in describe.strip().split("\n")]


class HiveCommandClient(HiveClient):
    """Answers by running ``hive -e`` and reading what it prints."""

    def table_location(self, table: str, database: str = "default", partition: Any = None) -> Any:
        cmd = f"use {database}; describe formatted {table}"
        if partition is not None:
            cmd += f" PARTITION ({self.partition_spec(partition)})"
        for line in run_hive_cmd(cmd).split("\n"):
            if "Location:" in line:
                return line.split("\t")[1]
        return None

    def table_exists(self, table: str, database: str = "default", partition: Any = None) -> Any:
        if partition is None:
            stdout = run_hive_cmd(f'use {database}; show tables like "{table}";')
            return stdout and table.lower() in stdout
        stdout = run_hive_cmd(f"use {database}; show partitions {table} partition ({self.partition_spec(partition)})")
        return bool(stdout)

    def table_schema(self, table: str, database: str = "default") -> Any:
        describe = run_hive_cmd(f"use {database}; describe {table}")
        if not describe or "does not exist" in describe:
            return None
        return _describe_rows(describe)

    def partition_spec(self, partition: Any) -> str:
        """``a=1, b=2`` as HiveQL: ```a`='1',`b`='2'``, columns sorted."""
        return ",".join(f"`{k}`='{v}'" for k, v in sorted(partition.items(), key=operator.itemgetter(0)))


class ApacheHiveCommandClient(HiveCommandClient):
    """Apache Hive exits non-zero and says "Table not found" for a missing table."""

    def table_schema(self, table: str, database: str = "default") -> Any:
        describe = run_hive_cmd(f"use {database}; describe {table}", False)
        if not describe or "Table not found" in describe:
            return None
        return _describe_rows(describe)


class MetastoreClient(HiveClient):
    """Answers from the Hive metastore's Thrift API."""

    def table_location(self, table: str, database: str = "default", partition: Any = None) -> Any:
        with HiveThriftContext() as client:
            if partition is not None:
                try:
                    import hive_metastore.ttypes

                    thrift_table = client.get_partition_by_name(database, table, self.partition_spec(partition))
                except hive_metastore.ttypes.NoSuchObjectException:
                    return ""
            else:
                thrift_table = client.get_table(database, table)
            return thrift_table.sd.location

    def table_exists(self, table: str, database: str = "default", partition: Any = None) -> bool:
        with HiveThriftContext() as client:
            if partition is None:
                return table in client.get_all_tables(database)
            return partition in self._existing_partitions(table, database, client)

    def _existing_partitions(self, table: str, database: str, client: Any) -> list[dict[str, str]]:
        # The metastore names partitions "a=1/b=2".
        return [
            dict(part.split("=", 1) for part in name.split("/"))
            for name in client.get_partition_names(database, table, -1)
        ]

    def table_schema(self, table: str, database: str = "default") -> list[tuple[str, str]]:
        with HiveThriftContext() as client:
            return [(field.name, field.type) for field in client.get_schema(database, table)]

    def partition_spec(self, partition: Any) -> str:
        return "/".join(f"{k}={v}" for k, v in sorted(partition.items(), key=operator.itemgetter(0)))


class HiveThriftContext:
    """``with HiveThriftContext() as client:`` a metastore client, its transport closed on exit."""

    def __enter__(self) -> Any:
        try:
            from hive_metastore import ThriftHiveMetastore
            from thrift.protocol import TBinaryProtocol
            from thrift.transport import TSocket, TTransport
        except ImportError as error:
            raise Exception(
                f'Could not import Hive thrift library: {error} (pip install "trunkline[hive]" '
                "and the hive_metastore bindings of your Hive)"
            ) from error
        config = luigi.configuration.get_config()
        transport = TTransport.TBufferedTransport(
            TSocket.TSocket(config.get("hive", "metastore_host"), config.getint("hive", "metastore_port"))
        )
        transport.open()
        self.transport = transport
        return ThriftHiveMetastore.Client(TBinaryProtocol.TBinaryProtocol(transport))

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.transport.close()


class WarehouseHiveClient(HiveClient):
    """Answers from the files under the warehouse directory on HDFS; no Hive needed."""

    def __init__(self, hdfs_client: Any = None, warehouse_location: str | None = None) -> None:
        self.hdfs_client = hdfs_client or get_autoconfig_client()
        self.warehouse_location = warehouse_location or get_hive_warehouse_location()

    def table_schema(self, table: str, database: str = "default") -> Any:
        return NotImplemented

    def table_location(self, table: str, database: str = "default", partition: Any = None) -> str:
        return os.path.join(self.warehouse_location, database + ".db", table, self.partition_spec(partition))

    def table_exists(self, table: str, database: str = "default", partition: Any = None) -> bool:
        """True when the directory holds a file not matched by ``[hive] ignored_file_masks``
        (a regular expression; unset: the directory's existence is enough)."""
        path = self.table_location(table, database, partition)
        if not self.hdfs_client.exists(path):
            return False
        ignored_files = get_ignored_file_masks()
        if ignored_files is None:
            return True
        pattern = re.compile(ignored_files)
        return any(not pattern.match(name) for name in self.hdfs_client.listdir(path))

    def partition_spec(self, partition: Any) -> str:
        _validate_partition(partition)
        return "/".join(f"{k}={v}" for k, v in (partition or {}).items())


def get_default_client() -> HiveClient:
    """The client ``[hive] release`` names."""
    syntax = get_hive_syntax()
    if syntax == "apache":
        return ApacheHiveCommandClient()
    if syntax == "metastore":
        return MetastoreClient()
    if syntax == "warehouse":
        return WarehouseHiveClient()
    return HiveCommandClient()


client = get_default_client() if get_hive_syntax() != "warehouse" else None
# (Luigi builds the default client at import; a warehouse client would need HDFS
# configured just to import this module, so that one is built on first use.)


class HiveQueryTask(_QueryTaskBase):  # type: ignore[misc]
    """Template: run the HiveQL that ``query()`` returns.

    Optional: ``n_reduce_tasks``, ``bytes_per_reducer``, ``reducers_max``,
    ``hiverc()`` (init files, default ``[hive] hiverc-location``),
    ``hivevars()`` and ``hiveconfs()`` (``--hivevar``/``--hiveconf`` pairs).
    """

    n_reduce_tasks: int | None = None
    bytes_per_reducer: int | None = None
    reducers_max: int | None = None

    @abc.abstractmethod
    def query(self) -> str:
        """The HiveQL to run."""
        raise RuntimeError("Must implement query!")

    def hiverc(self) -> Any:
        """An init file, or a list of them, passed with ``-i``."""
        return luigi.configuration.get_config().get("hive", "hiverc-location", default=None)

    def hivevars(self) -> dict[str, Any]:
        return {}

    def hiveconfs(self) -> dict[str, Any]:
        """The job name, reducer settings and the scheduler pool (per ``[hadoop] scheduler``)."""
        confs: dict[str, Any] = {"mapred.job.name": f"'{self.task_id}'"}
        if self.n_reduce_tasks is not None:
            confs["mapred.reduce.tasks"] = self.n_reduce_tasks
        if getattr(self, "pool", None) is not None:
            scheduler_type = luigi.configuration.get_config().get("hadoop", "scheduler", "fair")
            if scheduler_type == "fair":
                confs["mapred.fairscheduler.pool"] = self.pool
            elif scheduler_type == "capacity":
                confs["mapred.job.queue.name"] = self.pool
        if self.bytes_per_reducer is not None:
            confs["hive.exec.reducers.bytes.per.reducer"] = self.bytes_per_reducer
        if self.reducers_max is not None:
            confs["hive.exec.reducers.max"] = self.reducers_max
        return confs

    def job_runner(self) -> HiveQueryRunner:
        return HiveQueryRunner()

    if _hadoop is None:  # pragma: no cover - only without contrib.hadoop

        def run(self) -> None:
            raise ImportError("HiveQueryTask runs through trunkline.contrib.hadoop, which is not installed")


class HiveQueryRunner(_RunnerBase):  # type: ignore[misc]
    """Writes the query to a file and runs ``hive -f`` on it as a tracked Hadoop job."""

    def prepare_outputs(self, job: Any) -> None:
        """Create the parent directory of each file-system output (Hive will not)."""
        for output in flatten(job.output()):
            if isinstance(output, FileSystemTarget):
                parent_dir = os.path.dirname(output.path)
                if parent_dir and not output.fs.exists(parent_dir):
                    logger.info("Creating parent directory %r", parent_dir)
                    try:
                        output.fs.mkdir(parent_dir)
                    except FileAlreadyExists:
                        pass

    def get_arglist(self, f_name: str, job: Any) -> list[str]:
        arglist: list[str] = load_hive_cmd() + ["-f", f_name]
        hiverc = job.hiverc()
        if hiverc:
            for rcfile in [hiverc] if isinstance(hiverc, str) else hiverc:
                arglist += ["-i", rcfile]
        for key, value in (job.hiveconfs() or {}).items():
            arglist += ["--hiveconf", f"{key}={value}"]
        for key, value in (job.hivevars() or {}).items():
            arglist += ["--hivevar", f"{key}={value}"]
        logger.info(arglist)
        return arglist

    def run_job(self, job: Any, tracking_url_callback: Any = None) -> Any:
        if tracking_url_callback is not None:
            warnings.warn(
                "tracking_url_callback argument is deprecated, task.set_tracking_url is used instead.",
                DeprecationWarning,
            )
        self.prepare_outputs(job)
        with tempfile.NamedTemporaryFile() as query_file:
            query = job.query()
            query_file.write(query.encode("utf8") if isinstance(query, str) else query)
            query_file.flush()
            arglist = self.get_arglist(query_file.name, job)
            # Looked up at call time, so patching contrib.hadoop's function takes effect.
            return sibling_module("hadoop").run_and_track_hadoop_job(arglist, job.set_tracking_url)


class HivePartitionTarget(luigi.Target):
    """A partition (a dict of column → value) of a Hive table."""

    def __init__(
        self, table: str, partition: Any, database: str = "default", fail_missing_table: bool = True, client: Any = None
    ) -> None:
        self.database = database
        self.table = table
        self.partition = partition
        self.client = client or get_default_client()
        self.fail_missing_table = fail_missing_table

    def __str__(self) -> str:
        return self.path

    def exists(self) -> bool:
        """Whether the partition exists. A Hive error (a missing table, say)
        raises unless ``fail_missing_table`` is False and the table is indeed missing."""
        try:
            logger.debug("Checking Hive table '%s.%s' for partition %s", self.database, self.table, self.partition or {})
            return bool(self.client.table_exists(self.table, self.database, self.partition))
        except HiveCommandError:
            if self.fail_missing_table or self.client.table_exists(self.table, self.database):
                raise
            return False

    @property
    def path(self) -> str:
        """The partition's location, as the client reports it."""
        location: str = self.client.table_location(self.table, self.database, self.partition)
        if not location:
            raise Exception(f"Couldn't find location for table: {self}")
        return location


class HiveTableTarget(HivePartitionTarget):
    """A whole Hive table; a missing table just does not exist."""

    def __init__(self, table: str, database: str = "default", client: Any = None) -> None:
        super().__init__(table=table, partition=None, database=database, fail_missing_table=False, client=client)


class ExternalHiveTask(luigi.ExternalTask):
    """A Hive table or partition made outside the workflow."""

    database = luigi.Parameter(default="default")
    table = luigi.Parameter()
    partition: Any = luigi.DictParameter(
        default={}, description='Python dictionary specifying the target partition e.g. {"date": "2013-01-25"}'
    )

    def output(self) -> HivePartitionTarget:
        return HivePartitionTarget(database=self.database, table=self.table, partition=self.partition)
