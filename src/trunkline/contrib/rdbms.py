"""Shared templates for tasks that write into a relational database.

``CopyToTable`` loads rows into a table; ``Query`` runs one statement. Both
record completion in a *marker table* through their target (``PostgresTarget``,
``MySqlTarget``, ``RedshiftTarget``...). The database-specific modules fill in
how to connect and copy; the contract they keep is that the data and its marker
row commit in one transaction, so a crash leaves either both or neither.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

import trunkline as luigi
import trunkline.task

logger = logging.getLogger("luigi-interface")


class _MetadataColumnsMixin:
    """Adds extra columns (and queries that fill them) to every table a task loads.

    Override ``metadata_columns`` with ``(name, type)`` or ``(name, type,
    encoding)`` tuples, ``metadata_queries`` with SQL to run after the copy, and
    return True from ``enable_metadata_columns``. Missing columns are added
    before the copy, in the copy's transaction.
    """

    table: Any

    @property
    def metadata_columns(self) -> list[Any]:
        return []

    @property
    def metadata_queries(self) -> list[str]:
        return []

    @property
    def enable_metadata_columns(self) -> bool:
        return False

    def _add_metadata_columns(self, connection: Any) -> None:
        cursor = connection.cursor()
        for column in self.metadata_columns:
            if len(column) == 0:
                raise ValueError(
                    f"_add_metadata_columns cannot tell the column from {column!r} for {self.table}"
                )
            if not self._column_exists(cursor, column[0]):
                logger.info("Adding missing metadata column %s to %s", column, self.table)
                self._add_column_to_table(cursor, column)

    def _column_exists(self, cursor: Any, column_name: str) -> bool:
        # information_schema stores unquoted identifiers folded to lower case.
        if "." in self.table:
            schema, table = self.table.split(".")
            where = f"table_schema = LOWER('{schema}') AND table_name = LOWER('{table}')"
        else:
            where = f"table_name = LOWER('{self.table}')"
        cursor.execute(
            "SELECT 1 AS column_exists FROM information_schema.columns "
            f"WHERE {where} AND column_name = LOWER('{column_name}') LIMIT 1;"
        )
        return bool(cursor.fetchone())

    def _add_column_to_table(self, cursor: Any, column: Any) -> None:
        if len(column) == 1:
            raise ValueError(f"_add_column_to_table() has no column type for {column[0]}")
        if len(column) == 2:
            query = f"ALTER TABLE {self.table} ADD COLUMN {column[0]} {column[1]};"
        elif len(column) == 3:
            # The third element is a Redshift compression encoding.
            query = f"ALTER TABLE {self.table} ADD COLUMN {column[0]} {column[1]} ENCODE {column[2]};"
        else:
            raise ValueError(f"_add_column_to_table() cannot read the column {column!r}")
        cursor.execute(query)

    def post_copy_metacolumns(self, cursor: Any) -> None:
        logger.info("Executing post copy metadata queries")
        for query in self.metadata_queries:
            cursor.execute(query)


class CopyToTable(trunkline.task.MixinNaiveBulkComplete, _MetadataColumnsMixin, luigi.Task):
    """Template: insert a data set into a database table.

    Subclasses set ``host``, ``database``, ``user``, ``password``, ``table``,
    ``columns`` (names, or ``(name, type)`` pairs so the table can be created)
    and optionally ``port``; the database module supplies ``output`` and ``copy``.
    """

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
    @abc.abstractmethod
    def table(self) -> Any:
        return None

    @property
    def port(self) -> Any:
        return None

    columns: list[Any] = []

    # Values written as SQL NULL.
    null_values: tuple[Any, ...] = (None,)

    # Separates columns in the file handed to the database's bulk loader.
    column_separator = "\t"

    def create_table(self, connection: Any) -> None:
        """Create ``table`` from the ``(name, type)`` pairs in ``columns``.

        Called on the copy's own connection, so the table, the rows and the
        marker commit together. Override for anything fancier.
        """
        if len(self.columns[0]) == 1:
            raise NotImplementedError(
                f"create_table() not implemented for {self.table!r} and columns types not specified"
            )
        if len(self.columns[0]) == 2:
            coldefs = ",".join(f"{name} {type_}" for name, type_ in self.columns)
            connection.cursor().execute(f"CREATE TABLE {self.table} ({coldefs})")

    @property
    def update_id(self) -> str:
        """Identifies this load in the marker table; the task id by default."""
        return self.task_id

    @abc.abstractmethod
    def output(self) -> Any:
        raise NotImplementedError("This method must be overridden")

    def init_copy(self, connection: Any) -> None:
        """Runs in the copy's transaction just before the data goes in
        (truncate the table, drop old partitions...). Call super() when overriding."""
        if hasattr(self, "clear_table"):
            raise Exception("The clear_table attribute has been removed. Override init_copy instead!")
        if self.enable_metadata_columns:
            self._add_metadata_columns(connection)

    def post_copy(self, connection: Any) -> None:
        """Runs in the copy's transaction just after the data went in."""

    @abc.abstractmethod
    def copy(self, cursor: Any, file: Any) -> None:
        raise NotImplementedError("This method must be overridden")


class Query(trunkline.task.MixinNaiveBulkComplete, luigi.Task):
    """Template: run one SQL statement and record that it ran.

    Subclasses set ``host`` (``host:port`` allowed), ``database``, ``user``,
    ``password``, ``table`` and ``query``; optionally ``port``, ``autocommit``
    and ``update_id`` (give each instance its own, or the query runs once ever).
    """

    @property
    @abc.abstractmethod
    def host(self) -> Any:
        return None

    @property
    def port(self) -> Any:
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
    @abc.abstractmethod
    def table(self) -> Any:
        return None

    @property
    @abc.abstractmethod
    def query(self) -> Any:
        return None

    @property
    def autocommit(self) -> bool:
        return False

    @property
    def update_id(self) -> str:
        return self.task_id

    @abc.abstractmethod
    def run(self) -> None:
        raise NotImplementedError("This method must be overridden")

    @abc.abstractmethod
    def output(self) -> Any:
        """A database target (``PostgresTarget``...) whose marker row records the run."""
        raise NotImplementedError("This method must be overridden")
