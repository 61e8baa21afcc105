"""MySQL and MariaDB: ``MySqlTarget`` (a marker-table row) and ``CopyToTable``.

Through mysql-connector-python, as Luigi (``pip install "trunkline[mysql]"``).
``CopyToTable.run`` inserts the rows with ``executemany`` in batches of
``bulk_size`` and the marker row on the same connection, then commits once, so
the data and its marker land together (InnoDB tables; MyISAM has no
transactions at all).
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import trunkline as luigi
from trunkline.contrib import rdbms
from trunkline.contrib._dbdeps import MissingLibrary, optional_exception, optional_import

logger = logging.getLogger("luigi-interface")

# Bound as Luigi binds them: ``mysql`` (the package, whose ``connector`` is
# looked up at call time, so patching ``mysql.connector.connect`` works),
# ``Error`` and ``errorcode``.
_connector: Any = optional_import("mysql.connector", "mysql")
mysql: Any = (
    MissingLibrary("mysql-connector-python", "mysql")
    if isinstance(_connector, MissingLibrary)
    else optional_import("mysql", "mysql")
)
errorcode: Any = optional_import("mysql.connector.errorcode", "mysql")
Error: Any = optional_exception("mysql.connector", "Error")


class MySqlTarget(luigi.Target):
    """A row in the marker table saying that ``update_id`` was loaded into ``table``."""

    marker_table = luigi.configuration.get_config().get("mysql", "marker-table", "table_updates")

    def __init__(
        self, host: str, database: str, user: str, password: str | None, table: str, update_id: str, **cnx_kwargs: Any
    ) -> None:
        """``host`` may be ``host:port`` (default port 3306); ``cnx_kwargs`` go to
        ``mysql.connector.connect``."""
        if ":" in host:
            self.host, port = host.split(":")
            self.port = int(port)
        else:
            self.host = host
            self.port = 3306
        self.database = database
        self.user = user
        self.password = password
        self.table = table
        self.update_id = update_id
        self.cnx_kwargs = cnx_kwargs

    def __str__(self) -> str:
        return self.table

    def touch(self, connection: Any = None) -> None:
        """Insert (or refresh) the marker row; given a connection, inside its transaction."""
        self.create_marker_table()
        if connection is None:
            own = self.connect(autocommit=True)
            try:
                self._touch_on(own)
            finally:
                own.close()
        else:
            self._touch_on(connection)

    def _touch_on(self, connection: Any) -> None:
        """Insert (or refresh) the marker row on ``connection``, the table existing."""
        connection.cursor().execute(
            f"INSERT INTO {self.marker_table} (update_id, target_table) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE update_id = VALUES(update_id)",
            (self.update_id, self.table),
        )
        assert self.exists(connection)

    def exists(self, connection: Any = None) -> bool:
        if connection is not None:
            return self._marker_found(connection)
        own = self.connect(autocommit=True)
        try:
            return self._marker_found(own)
        finally:
            own.close()

    def _marker_found(self, connection: Any) -> bool:
        cursor = connection.cursor()
        try:
            cursor.execute(
                f"SELECT 1 FROM {self.marker_table} WHERE update_id = %s LIMIT 1", (self.update_id,)
            )
            row = cursor.fetchone()
        except mysql.connector.Error as error:
            if error.errno != errorcode.ER_NO_SUCH_TABLE:
                raise
            row = None
        return row is not None

    def connect(self, autocommit: bool = False) -> Any:
        return mysql.connector.connect(
            user=self.user, password=self.password, host=self.host, port=self.port,
            database=self.database, autocommit=autocommit, **self.cnx_kwargs,
        )

    def create_marker_table(self) -> None:
        """Create the marker table unless it exists (on its own connection: DDL
        commits implicitly in MySQL, which must not end the caller's transaction)."""
        connection = self.connect(autocommit=True)
        try:
            connection.cursor().execute(
                f"CREATE TABLE {self.marker_table} ("
                " id BIGINT(20) NOT NULL AUTO_INCREMENT,"
                " update_id VARCHAR(128) NOT NULL,"
                " target_table VARCHAR(128),"
                " inserted TIMESTAMP DEFAULT NOW(),"
                " PRIMARY KEY (update_id),"
                " KEY id (id))"
            )
        except mysql.connector.Error as error:
            if error.errno != errorcode.ER_TABLE_EXISTS_ERROR:
                raise
        finally:
            connection.close()


class CopyToTable(rdbms.CopyToTable):
    """Template: insert ``rows()`` into a MySQL table.

    Set ``host``, ``database``, ``user``, ``password``, ``table`` and
    ``columns`` as ``(name, type)`` pairs; ``rows()`` reads tab-separated lines
    from ``self.input()`` unless overridden.
    """

    def rows(self) -> Iterator[Any]:
        with self.input().open("r") as fobj:
            for line in fobj:
                yield line.strip("\n").split("\t")

    def output(self) -> MySqlTarget:
        return MySqlTarget(
            host=self.host, database=self.database, user=self.user, password=self.password,
            table=self.table, update_id=self.update_id,
        )

    def copy(self, cursor: Any, file: Any = None) -> None:
        placeholders = ",".join(["%s"] * len(self.columns))
        names = ",".join(column[0] for column in self.columns)
        query = f"INSERT INTO {self.table} ({names}) VALUES ({placeholders})"
        batch: list[Any] = []
        for row in self.rows():
            batch.append(row)
            if len(batch) == self.bulk_size:
                cursor.executemany(query, batch)
                batch = []
        cursor.executemany(query, batch)

    def run(self) -> None:
        """Insert the rows, creating the table when MySQL says it is missing,
        then the marker row, then commit both at once."""
        if not (self.table and self.columns):
            raise Exception("table and columns need to be specified")
        connection = self.output().connect()
        for attempt in range(2):
            try:
                cursor = connection.cursor()
                self.init_copy(connection)
                self.copy(cursor)
                self.post_copy(connection)
                if self.enable_metadata_columns:
                    self.post_copy_metacolumns(cursor)
            except Error as error:
                if error.errno == errorcode.ER_NO_SUCH_TABLE and attempt == 0:
                    connection.reconnect()
                    self.create_table(connection)
                else:
                    raise
            else:
                break
        self.output().touch(connection)
        connection.commit()
        connection.close()

    @property
    def bulk_size(self) -> int:
        """Rows per ``executemany`` call."""
        return 10000
