"""Microsoft SQL Server: ``MSSqlTarget``, a marker-table row written through pymssql.

``pip install "trunkline[mssql]"``. Pass an open connection to ``touch`` to
write the marker in that connection's transaction, next to the data.
"""

from __future__ import annotations

import logging
from typing import Any

import trunkline as luigi
from trunkline.contrib._dbdeps import optional_import

logger = logging.getLogger("luigi-interface")

_mssql: Any = optional_import("pymssql._mssql", "mssql")

# SQL Server error numbers this module reacts to.
_INVALID_OBJECT_NAME = 208
_OBJECT_ALREADY_EXISTS = 2714


class MSSqlTarget(luigi.Target):
    """A row in the marker table (``[mssql] marker-table``) saying that
    ``update_id`` was loaded into ``table``."""

    marker_table = luigi.configuration.get_config().get("mssql", "marker-table", "table_updates")

    def __init__(self, host: str, database: str, user: str, password: str, table: str, update_id: str) -> None:
        """``host`` may be ``host:port``; the port defaults to 1433."""
        if ":" in host:
            self.host, port = host.split(":")
            self.port = int(port)
        else:
            self.host = host
            self.port = 1433
        self.database = database
        self.user = user
        self.password = password
        self.table = table
        self.update_id = update_id

    def __str__(self) -> str:
        return self.table

    def touch(self, connection: Any = None) -> None:
        """Insert the marker row, or refresh its table and time if it exists."""
        self.create_marker_table()
        if connection is None:
            connection = self.connect()
        connection.execute_non_query(
            f"IF NOT EXISTS(SELECT 1 FROM {self.marker_table} WHERE update_id = %(update_id)s)"
            f" INSERT INTO {self.marker_table} (update_id, target_table) VALUES (%(update_id)s, %(table)s)"
            f" ELSE UPDATE t SET target_table = %(table)s, inserted = GETDATE()"
            f" FROM {self.marker_table} t WHERE update_id = %(update_id)s",
            {"update_id": self.update_id, "table": self.table},
        )
        assert self.exists(connection)

    def exists(self, connection: Any = None) -> bool:
        if connection is None:
            connection = self.connect()
        try:
            row = connection.execute_row(
                f"SELECT 1 FROM {self.marker_table} WHERE update_id = %s", (self.update_id,)
            )
        except _mssql.MssqlDatabaseException as error:
            if error.number != _INVALID_OBJECT_NAME:  # anything but "no marker table yet"
                raise
            row = None
        return row is not None

    def connect(self) -> Any:
        """A new ``_mssql`` connection to the target's database."""
        return _mssql.connect(
            user=self.user, password=self.password, server=self.host, port=self.port, database=self.database
        )

    def create_marker_table(self) -> None:
        """Create the marker table unless it exists, on a connection of its own."""
        connection = self.connect()
        try:
            connection.execute_non_query(
                f"CREATE TABLE {self.marker_table} ("
                " id BIGINT NOT NULL IDENTITY(1,1),"
                " update_id VARCHAR(128) NOT NULL,"
                " target_table VARCHAR(128),"
                " inserted DATETIME DEFAULT(GETDATE()),"
                " PRIMARY KEY (update_id))"
            )
        except _mssql.MssqlDatabaseException as error:
            if error.number != _OBJECT_ALREADY_EXISTS:
                raise
        finally:
            connection.close()
