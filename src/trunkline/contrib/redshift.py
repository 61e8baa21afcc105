"""Amazon Redshift: load from S3 with ``COPY``, unload with ``UNLOAD``, run queries.

Redshift speaks PostgreSQL's protocol, so ``RedshiftTarget`` is a
``PostgresTarget`` (port 5439, client-side timestamps in the marker table) and
the connection comes from the PostgreSQL driver (``trunkline[postgres]``).
``S3CopyToTable.run`` issues ``COPY ... FROM 's3://...'`` and inserts the marker
row in the same transaction before one commit.

Credentials for COPY/UNLOAD come from the task, else the ``[redshift]`` config
section, else environment variables of the same names upper-cased: an IAM role
(``aws_account_id`` + ``aws_arn_role_name``) or keys (``aws_access_key_id`` +
``aws_secret_access_key``, optionally ``aws_session_token``).
"""

from __future__ import annotations

import abc
import json
import logging
import os
import time
from typing import Any

import trunkline as luigi
from trunkline.contrib import postgres, rdbms
from trunkline.contrib._dbdeps import optional_import, sibling_module


class _S3PathTaskPlaceholder(luigi.ExternalTask):
    """Stands in for contrib.s3's task where that module is not installed."""

    path = luigi.Parameter()

    def output(self) -> Any:
        raise ImportError("trunkline.contrib.s3 (the storage integrations) is not installed")


def _missing_s3_target(*args: Any, **kwargs: Any) -> Any:
    raise ImportError("trunkline.contrib.s3 (the storage integrations) is not installed")


# contrib.s3 ships with the storage integrations.
_s3: Any = sibling_module("s3")
S3PathTask: Any = _s3.S3PathTask if _s3 else _S3PathTaskPlaceholder
S3Target: Any = _s3.S3Target if _s3 else _missing_s3_target


logger = logging.getLogger("luigi-interface")

# Luigi's module binds psycopg2; queries here go through postgres.dbapi, which
# is psycopg2 when installed and psycopg 3 otherwise.
psycopg2: Any = optional_import("psycopg2", "postgres")


class _CredentialsMixin:
    """AWS credentials for COPY and UNLOAD: task property, then config, then environment."""

    @property
    def configuration_section(self) -> str:
        """The config section the credentials are read from."""
        return "redshift"

    @property
    def aws_access_key_id(self) -> str | None:
        return self._get_configuration_attribute("aws_access_key_id")

    @property
    def aws_secret_access_key(self) -> str | None:
        return self._get_configuration_attribute("aws_secret_access_key")

    @property
    def aws_account_id(self) -> str | None:
        return self._get_configuration_attribute("aws_account_id")

    @property
    def aws_arn_role_name(self) -> str | None:
        return self._get_configuration_attribute("aws_arn_role_name")

    @property
    def aws_session_token(self) -> str | None:
        return self._get_configuration_attribute("aws_session_token")

    def _get_configuration_attribute(self, attribute: str) -> str | None:
        value = luigi.configuration.get_config().get(self.configuration_section, attribute, default=None)
        return value or os.environ.get(attribute.upper())

    def _credentials(self) -> str:
        """The CREDENTIALS string of a COPY or UNLOAD; an IAM role wins over keys."""
        if self.aws_account_id and self.aws_arn_role_name:
            return f"aws_iam_role=arn:aws:iam::{self.aws_account_id}:role/{self.aws_arn_role_name}"
        if self.aws_access_key_id and self.aws_secret_access_key:
            token = f";token={self.aws_session_token}" if self.aws_session_token else ""
            return f"aws_access_key_id={self.aws_access_key_id};aws_secret_access_key={self.aws_secret_access_key}{token}"
        raise NotImplementedError(
            "Missing Credentials. Ensure one of the pairs of auth args below are set in a configuration file, "
            "environment variables or by being overridden in the task: "
            "'aws_access_key_id' AND 'aws_secret_access_key' OR 'aws_account_id' AND 'aws_arn_role_name'"
        )


class RedshiftTarget(postgres.PostgresTarget):
    """A marker-table row in Redshift (``[redshift] marker-table``)."""

    marker_table = luigi.configuration.get_config().get("redshift", "marker-table", "table_updates")
    DEFAULT_DB_PORT = 5439
    # Redshift has no DEFAULT NOW() on the marker's column as PostgreSQL does.
    use_db_timestamps = False


class S3CopyToTable(rdbms.CopyToTable, _CredentialsMixin):
    """Template: ``COPY`` files from S3 into a Redshift table.

    Set ``host``, ``database``, ``user``, ``password``, ``table``, ``columns``,
    ``s3_load_path()`` and ``copy_options`` (``"CSV"``, ``"GZIP"``...).
    Optional: ``table_type`` (``TEMP``), ``table_attributes`` (``DISTKEY``...),
    ``table_constraints``, ``do_truncate_table``, ``prune_table``/
    ``prune_column``/``prune_date``, ``queries`` to run after the copy.
    """

    @abc.abstractmethod
    def s3_load_path(self) -> str:
        """The S3 path (or manifest) to load."""
        return None  # type: ignore[return-value]

    @property
    @abc.abstractmethod
    def copy_options(self) -> str:
        """Text appended to the COPY statement."""
        return ""

    @property
    def prune_table(self) -> str | None:
        return None

    @property
    def prune_column(self) -> str | None:
        return None

    @property
    def prune_date(self) -> str | None:
        return None

    @property
    def table_attributes(self) -> str:
        return ""

    @property
    def table_constraints(self) -> str:
        return ""

    @property
    def do_truncate_table(self) -> bool:
        return False

    def do_prune(self) -> bool:
        """True when all three prune settings are given; some but not all is an error."""
        settings = (self.prune_table, self.prune_column, self.prune_date)
        if all(settings):
            return True
        if any(settings):
            raise Exception("override zero or all prune variables")
        return False

    @property
    def table_type(self) -> str:
        """``""`` for a permanent table, ``"TEMP"`` for a temporary one."""
        return ""

    @property
    def queries(self) -> list[str]:
        """SQL run after the copy, in its transaction."""
        return []

    def truncate_table(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute(f"truncate {self.table}")
        finally:
            cursor.close()

    def prune(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute(f"delete from {self.prune_table} where {self.prune_column} >= {self.prune_date}")
        finally:
            cursor.close()

    def create_schema(self, connection: Any) -> None:
        """Create the schema of a ``schema.table`` name if it is missing."""
        if "." not in self.table:
            return
        connection.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS {self.table.split('.')[0]};")

    def create_table(self, connection: Any) -> None:
        """Create the table from ``(name, type)`` or ``(name, type, encoding)`` columns."""
        width = len(self.columns[0])
        if width == 1:
            raise NotImplementedError(
                f"create_table() not implemented for {self.table!r} and columns types not specified"
            )
        if width == 2:
            coldefs = ",".join(f"{name} {type_}" for name, type_ in self.columns)
            constraints = f", {self.table_constraints}" if self.table_constraints != "" else ""
        elif width == 3:
            coldefs = ",".join(f"{name} {type_} ENCODE {encoding}" for name, type_, encoding in self.columns)
            constraints = f",{self.table_constraints}" if self.table_constraints != "" else ""
        else:
            raise ValueError(f"create_table() found no columns for {self.table!r}")
        connection.cursor().execute(
            f"CREATE {self.table_type} TABLE {self.table} ({coldefs} {constraints}) {self.table_attributes}"
        )

    def run(self) -> None:
        """Prepare the table, COPY, run ``queries``, add the marker; commit once."""
        if not self.table:
            raise Exception("table need to be specified")
        path = self.s3_load_path()
        output = self.output()
        connection = output.connect()
        cursor = connection.cursor()
        self.init_copy(connection)
        self.copy(cursor, path)
        self.post_copy(cursor)
        if self.enable_metadata_columns:
            self.post_copy_metacolumns(cursor)
        output.touch(connection)
        connection.commit()
        connection.close()

    def copy(self, cursor: Any, f: str) -> None:
        """Issue the COPY of ``f`` (an S3 path) into the table."""
        logger.info("Inserting file: %s", f)
        colnames = f"({','.join(column[0] for column in self.columns)})" if self.columns else ""
        # Luigi's exact layout (a newline and nine spaces before each clause): code
        # and tests written for Luigi compare the statement text.
        indent = "\n" + " " * 9
        cursor.execute(
            f"{indent}COPY {self.table} {colnames} from '{f}'"
            f"{indent}CREDENTIALS '{self._credentials()}'"
            f"{indent}{self.copy_options}{indent};"
        )

    def output(self) -> RedshiftTarget:
        return RedshiftTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id,
        )

    def does_schema_exist(self, connection: Any) -> bool:
        """Whether the schema of a ``schema.table`` name exists (always True without one)."""
        if "." not in self.table:
            return True
        cursor = connection.cursor()
        try:
            cursor.execute(
                "select 1 as schema_exists from pg_namespace where nspname = lower(%s) limit 1",
                [self.table.split(".")[0]],
            )
            return bool(cursor.fetchone())
        finally:
            cursor.close()

    def does_table_exist(self, connection: Any) -> bool:
        if "." in self.table:
            query = (
                "select 1 as table_exists from information_schema.tables "
                "where table_schema = lower(%s) and table_name = lower(%s) limit 1"
            )
        else:
            # pg_table_def lists only tables on the search path, as an unqualified name is.
            query = "select 1 as table_exists from pg_table_def where tablename = lower(%s) limit 1"
        cursor = connection.cursor()
        try:
            cursor.execute(query, tuple(self.table.split(".")))
            return bool(cursor.fetchone())
        finally:
            cursor.close()

    def init_copy(self, connection: Any) -> None:
        """Create the schema and table if missing, add metadata columns, then
        truncate or prune as configured; all in the copy's transaction."""
        if not self.does_schema_exist(connection):
            logger.info("Creating schema for %s", self.table)
            self.create_schema(connection)
        if not self.does_table_exist(connection):
            logger.info("Creating table %s", self.table)
            self.create_table(connection)
        if self.enable_metadata_columns:
            self._add_metadata_columns(connection)
        if self.do_truncate_table:
            logger.info("Truncating table %s", self.table)
            self.truncate_table(connection)
        if self.do_prune():
            logger.info("Removing %s older than %s from %s", self.prune_column, self.prune_date, self.prune_table)
            self.prune(connection)

    def post_copy(self, cursor: Any) -> None:
        """Run ``queries`` after the copy (takes a cursor, unlike rdbms.CopyToTable)."""
        logger.info("Executing post copy queries")
        for query in self.queries:
            cursor.execute(query)

    def post_copy_metacolums(self, cursor: Any) -> None:
        """Luigi's misspelt alias of ``post_copy_metacolumns``, kept for subclasses that call it."""
        self.post_copy_metacolumns(cursor)


class S3CopyJSONToTable(S3CopyToTable, _CredentialsMixin):
    """Template: ``COPY`` JSON files from S3, mapped by ``jsonpath`` (``'auto'`` or a JSONPaths file)."""

    @property
    @abc.abstractmethod
    def jsonpath(self) -> str:
        return ""

    @property
    @abc.abstractmethod
    def copy_json_options(self) -> str:
        """Text after ``JSON AS '<jsonpath>'`` (``GZIP``...)."""
        return ""

    def copy(self, cursor: Any, f: str) -> None:
        logger.info("Inserting file: %s", f)
        cursor.execute(
            f"\n COPY {self.table} from '{f}'"
            f"\n CREDENTIALS '{self._credentials()}'"
            f"\n JSON AS '{self.jsonpath}' {self.copy_json_options}"
            f"\n {self.copy_options}\n ;"
        )


class RedshiftManifestTask(S3PathTask):  # type: ignore[misc]
    """Write a COPY manifest listing every file under ``folder_paths`` to ``path``."""

    folder_paths = luigi.Parameter()
    # False: write the manifest as bytes (for targets opened in binary mode).
    text_target = True

    def run(self) -> None:
        entries = []
        for folder_path in self.folder_paths:
            folder = S3Target(folder_path)
            for file_name in folder.fs.list(folder.path):
                entries.append({"url": f"{folder_path}/{file_name}", "mandatory": True})
        dump: Any = json.dumps({"entries": entries})
        if not self.text_target:
            dump = dump.encode("utf8")
        target = self.output().open("w")
        target.write(dump)
        target.close()


class KillOpenRedshiftSessions(luigi.Task):
    """Terminate every other session on ``database`` (before dropping or renaming tables).

    Redshift may drop this task's own connection while doing so; then it waits
    ``connection_reset_wait_seconds`` and reconnects to write the marker.
    """

    connection_reset_wait_seconds = luigi.IntParameter(default=60)

    @property
    @abc.abstractmethod
    def host(self) -> Any:
        return None

    @property
    @abc.abstractmethod
    def database(self) -> Any:
        return None

    @property
    @abc.abstractmethod
    def user(self) -> Any:
        return None

    @property
    @abc.abstractmethod
    def password(self) -> Any:
        return None

    @property
    def update_id(self) -> str:
        return self.task_id

    def output(self) -> RedshiftTarget:
        return RedshiftTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.__class__.__name__, update_id=self.update_id,
        )

    def run(self) -> None:
        connection = self.output().connect()
        query = (
            "select pg_terminate_backend(process) from STV_SESSIONS "
            "where db_name=%s and user_name != 'rdsdb' and process != pg_backend_pid()"
        )
        cursor = connection.cursor()
        logger.info("Killing all open Redshift sessions for database: %s", self.database)
        try:
            cursor.execute(query, (self.database,))
            cursor.close()
            connection.commit()
        except postgres.dbapi.DatabaseError as error:
            if "EOF" not in str(error):
                raise
            connection.close()
            logger.info("Pausing %s seconds for Redshift to reset connection", self.connection_reset_wait_seconds)
            time.sleep(self.connection_reset_wait_seconds)
            logger.info("Reconnecting to Redshift")
            connection = self.output().connect()
        try:
            self.output().touch(connection)
            connection.commit()
        finally:
            connection.close()
        logger.info("Done killing all open Redshift sessions for database: %s", self.database)


class RedshiftQuery(postgres.PostgresQuery):
    """``PostgresQuery`` against Redshift."""

    def output(self) -> RedshiftTarget:
        return RedshiftTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id,
        )


class RedshiftUnloadTask(postgres.PostgresQuery, _CredentialsMixin):
    """Template: ``UNLOAD`` the result of ``query()`` to ``s3_unload_path``.

    ``query`` is a *method* here (as in Luigi); quotes in it are escaped for UNLOAD.
    """

    @property
    def s3_unload_path(self) -> str:
        return ""

    @property
    def unload_options(self) -> str:
        return "DELIMITER '|' ADDQUOTES GZIP ALLOWOVERWRITE PARALLEL ON"

    @property
    def unload_query(self) -> str:
        """The UNLOAD template, with ``{query}``, ``{s3_unload_path}``, ``{credentials}``, ``{unload_options}``."""
        return "UNLOAD ( '{query}' ) TO '{s3_unload_path}' credentials '{credentials}' {unload_options};"

    def run(self) -> None:
        connection = self.output().connect()
        unload_query = self.unload_query.format(
            query=self.query().replace("'", r"\'"),
            s3_unload_path=self.s3_unload_path,
            unload_options=self.unload_options,
            credentials=self._credentials(),
        )
        logger.info("Executing unload query from task: %s", self.__class__)
        cursor = connection.cursor()
        cursor.execute(unload_query)
        logger.info(getattr(cursor, "statusmessage", ""))
        self.output().touch(connection)
        connection.commit()
        connection.close()

    def output(self) -> RedshiftTarget:
        return RedshiftTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id,
        )
