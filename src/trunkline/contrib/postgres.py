"""PostgreSQL: ``PostgresTarget`` (a marker-table row), ``CopyToTable`` and ``PostgresQuery``.

The driver is chosen at import, as Luigi chooses it: ``LUIGI_PGSQL_DRIVER``
names ``psycopg2`` (the default), ``psycopg`` (version 3, what
``pip install "trunkline[postgres]"`` installs) or ``pg8000``; when the named
one is missing the others are tried in that order. What a task reaches through
``connect()`` is a DB-API connection either way: ``cursor()``, ``commit()``,
``autocommit``. The few places the drivers differ (bulk COPY, resetting an
aborted transaction, error codes) are handled here.

``CopyToTable.run`` writes the rows with ``COPY ... FROM STDIN`` and inserts the
marker row on the same connection before one ``commit()``: a crash before the
commit leaves neither the rows nor the marker, so a re-run never loads twice.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import tempfile
from typing import IO, Any, Iterator

import trunkline as luigi
from trunkline.contrib import rdbms
from trunkline.contrib._dbdeps import MissingLibrary

logger = logging.getLogger("luigi-interface")

DB_DRIVER = os.environ.get("LUIGI_PGSQL_DRIVER", "psycopg2")

# SQLSTATE → the two conditions this module reacts to.
ERROR_DUPLICATE_TABLE = "duplicate_table"
ERROR_UNDEFINED_TABLE = "undefined_table"
DB_ERROR_CODES: dict[str, str] = {"42P07": ERROR_DUPLICATE_TABLE, "42P01": ERROR_UNDEFINED_TABLE}


def update_error_codes() -> None:
    """Kept for code that calls Luigi's: the SQLSTATEs above serve every driver."""


_DRIVERS = {"psycopg2": "psycopg2", "psycopg": "psycopg", "psycopg3": "psycopg", "pg8000": "pg8000.dbapi"}


def _load_driver() -> Any:
    preferred = _DRIVERS.get(DB_DRIVER, "psycopg2")
    for name in dict.fromkeys([preferred, "psycopg2", "psycopg", "pg8000.dbapi"]):
        try:
            return __import__(name, fromlist=["connect"])
        except ImportError:
            continue
    return MissingLibrary("psycopg", "postgres")


dbapi: Any = _load_driver()
if isinstance(dbapi, MissingLibrary):
    logger.debug("No PostgreSQL driver installed; PostgresTarget will fail when used")


def _driver_name() -> str:
    return getattr(dbapi, "__name__", "").split(".")[0]


def db_error_code(exception: BaseException) -> str | None:
    """``ERROR_DUPLICATE_TABLE``/``ERROR_UNDEFINED_TABLE`` for those errors, else None."""
    code = getattr(exception, "pgcode", None) or getattr(exception, "sqlstate", None)
    if code is None and _is_pg8000_error(exception):
        code = exception.args[0].get("C")  # pg8000 carries the server's fields in a dict
    return DB_ERROR_CODES.get(code) if isinstance(code, str) else None


def _is_pg8000_error(exception: BaseException) -> bool:
    return _driver_name() == "pg8000" and bool(exception.args) and isinstance(exception.args[0], dict)


def _pg8000_connection_reset(connection: Any) -> None:
    cursor = connection.cursor()
    if connection.autocommit:
        cursor.execute("DISCARD ALL")
    else:
        cursor.execute("ABORT")
        cursor.execute("BEGIN TRANSACTION")
    cursor.close()


def _reset(connection: Any) -> None:
    """Leave an aborted transaction so the connection can be used again."""
    if _driver_name() == "psycopg2":
        connection.reset()
    elif _driver_name() == "pg8000":
        _pg8000_connection_reset(connection)
    else:
        connection.rollback()


class MultiReplacer:
    """Replace several substrings in one pass; earlier pairs win on overlap.

    Replaced text is never matched again, so ``[("a", "b"), ("b", "c")]`` maps
    ``"abcd"`` to ``"bccd"``.
    """

    def __init__(self, replace_pairs: Any) -> None:
        pairs = list(replace_pairs)
        self._replace_dict = dict(pairs)
        self._search_re = re.compile("|".join(re.escape(old) for old, _ in pairs))

    def _replacer(self, match_object: re.Match[str]) -> str:
        replacement: str = self._replace_dict[match_object.group()]
        return replacement

    def __call__(self, search_string: str) -> str:
        return self._search_re.sub(self._replacer, search_string)


# The backslash escapes of COPY's text format.
default_escape = MultiReplacer(
    [("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\v", "\\v"), ("\b", "\\b"), ("\f", "\\f")]
)


class PostgresTarget(luigi.Target):
    """A row in the marker table saying that ``update_id`` was loaded into ``table``."""

    marker_table = luigi.configuration.get_config().get("postgres", "marker-table", "table_updates")

    DEFAULT_DB_PORT = 5432

    # True: the marker's timestamp is the server's NOW(); False: the client's clock.
    use_db_timestamps = True

    def __init__(
        self,
        host: str,
        database: str,
        user: str,
        password: str | None,
        table: str,
        update_id: str,
        port: int | str | None = None,
    ) -> None:
        # The port stays a string when it came with the host, as in Luigi.
        self.port: int | str
        if ":" in host:
            self.host, self.port = host.split(":")
        else:
            self.host = host
            self.port = port or self.DEFAULT_DB_PORT
        self.database = database
        self.user = user
        self.password = password
        self.table = table
        self.update_id = update_id

    def __str__(self) -> str:
        return self.table

    def touch(self, connection: Any = None) -> None:
        """Insert the marker row. Given a connection, it joins that connection's
        transaction (the caller commits); without one it commits at once."""
        self.create_marker_table()
        if connection is None:
            own = self.connect()
            try:
                own.autocommit = True
                self._insert_marker(own)
            finally:
                own.close()
        else:
            self._insert_marker(connection)

    def _insert_marker(self, connection: Any) -> None:
        if self.use_db_timestamps:
            connection.cursor().execute(
                f"INSERT INTO {self.marker_table} (update_id, target_table) VALUES (%s, %s)",
                (self.update_id, self.table),
            )
        else:
            connection.cursor().execute(
                f"INSERT INTO {self.marker_table} (update_id, target_table, inserted) VALUES (%s, %s, %s)",
                (self.update_id, self.table, datetime.datetime.now()),
            )

    def exists(self, connection: Any = None) -> bool:
        close = connection is None
        if connection is None:
            connection = self.connect()
            connection.autocommit = True
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(
                    f"SELECT 1 FROM {self.marker_table} WHERE update_id = %s LIMIT 1", (self.update_id,)
                )
                row = cursor.fetchone()
            except dbapi.DatabaseError as error:
                if db_error_code(error) != ERROR_UNDEFINED_TABLE:
                    raise
                row = None
        finally:
            if close:
                connection.close()
        return row is not None

    def connect(self) -> Any:
        """A new DB-API connection to the target's database, in UTF-8."""
        if _driver_name() == "psycopg":
            # psycopg 3 takes libpq's keyword names and has no set_client_encoding().
            return dbapi.connect(
                host=self.host, port=self.port, dbname=self.database, user=self.user,
                password=self.password, client_encoding="utf-8",
            )
        connection = dbapi.connect(
            host=self.host, port=self.port, database=self.database, user=self.user, password=self.password
        )
        if hasattr(connection, "set_client_encoding"):
            connection.set_client_encoding("utf-8")
        return connection

    def create_marker_table(self) -> None:
        """Create the marker table unless it exists, on a connection of its own
        (a failed CREATE would abort the caller's transaction)."""
        connection = self.connect()
        try:
            connection.autocommit = True
            inserted = "TIMESTAMP DEFAULT NOW()" if self.use_db_timestamps else "TIMESTAMP"
            try:
                connection.cursor().execute(
                    f"CREATE TABLE {self.marker_table} ("
                    f" update_id TEXT PRIMARY KEY, target_table TEXT, inserted {inserted})"
                )
            except dbapi.DatabaseError as error:
                if db_error_code(error) != ERROR_DUPLICATE_TABLE:
                    raise
        finally:
            connection.close()

    def open(self, mode: str) -> Any:
        raise NotImplementedError("Cannot open() PostgresTarget")


class CopyToTable(rdbms.CopyToTable):
    """Template: load ``rows()`` into a PostgreSQL table with COPY.

    Set ``host``, ``database``, ``user``, ``password``, ``table`` and
    ``columns``; override ``rows()`` to yield tuples in ``columns`` order (by
    default it reads tab-separated lines from ``self.input()``).
    """

    def rows(self) -> Iterator[Any]:
        with self.input().open("r") as fobj:
            for line in fobj:
                yield line.strip("\n").split("\t")

    def map_column(self, value: Any) -> str:
        """Turn one value into COPY text: ``null_values`` become NULL, the rest is escaped."""
        if value in self.null_values:
            return r"\\N"
        return default_escape(str(value))

    def output(self) -> PostgresTarget:
        return PostgresTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id, port=self.port,
        )

    def _column_names(self) -> list[str]:
        if isinstance(self.columns[0], str):
            return list(self.columns)
        if len(self.columns[0]) == 2:
            return [column[0] for column in self.columns]
        raise Exception(
            "columns must consist of column strings or (column string, type string) tuples "
            f"(was {self.columns[0]!r} ...)"
        )

    def copy(self, cursor: Any, file: IO[bytes]) -> None:
        copy_sql = (
            f"COPY {self.table} ({', '.join(self._column_names())}) FROM STDIN "
            f"WITH (FORMAT text, NULL '\\\\N', DELIMITER '{self.column_separator}')"
        )
        if hasattr(cursor, "copy_expert"):  # psycopg2
            cursor.copy_expert(copy_sql, file)
        elif _driver_name() == "psycopg":
            with cursor.copy(copy_sql) as copy:
                while block := file.read(1 << 16):
                    copy.write(block)
        else:  # pg8000
            cursor.execute(copy_sql, stream=file)

    def _spool_rows(self) -> IO[bytes]:
        # Rows go to a local file first: COPY then streams it, and a failing
        # rows() aborts before the database is touched.
        tmp_dir = luigi.configuration.get_config().get("postgres", "local-tmp-dir", None)
        tmp_file = tempfile.TemporaryFile(dir=tmp_dir)
        for n, row in enumerate(self.rows(), 1):
            if n % 100000 == 0:
                logger.info("Wrote %d lines", n)
            line = self.column_separator.join(self.map_column(value) for value in row) + "\n"
            tmp_file.write(line.encode("utf-8"))
        tmp_file.seek(0)
        return tmp_file

    def run(self) -> None:
        """Load the rows, creating the table on the first "undefined table"
        error, then add the marker row, and commit all of it at once."""
        if not (self.table and self.columns):
            raise Exception("table and columns need to be specified")
        tmp_file = self._spool_rows()
        connection = self.output().connect()
        try:
            for attempt in range(2):
                try:
                    cursor = connection.cursor()
                    self.init_copy(connection)
                    self.copy(cursor, tmp_file)
                    self.post_copy(connection)
                    if self.enable_metadata_columns:
                        self.post_copy_metacolumns(cursor)
                except dbapi.DatabaseError as error:
                    if db_error_code(error) == ERROR_UNDEFINED_TABLE and attempt == 0:
                        logger.info("Creating table %s", self.table)
                        _reset(connection)
                        tmp_file.seek(0)
                        self.create_table(connection)
                    else:
                        raise
                else:
                    break
            self.output().touch(connection)
            connection.commit()
        finally:
            connection.close()
            tmp_file.close()


class PostgresQuery(rdbms.Query):
    """Template: run ``query`` against PostgreSQL and record it in the marker table
    in the same transaction (unless ``autocommit`` is True)."""

    def run(self) -> None:
        connection = self.output().connect()
        try:
            connection.autocommit = self.autocommit
            logger.info("Executing query from task: %s", self.__class__)
            connection.cursor().execute(self.query)
            self.output().touch(connection)
            connection.commit()
        finally:
            connection.close()

    def output(self) -> PostgresTarget:
        return PostgresTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id, port=self.port,
        )
