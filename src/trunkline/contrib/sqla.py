"""Any database SQLAlchemy reaches: ``SQLAlchemyTarget`` and ``CopyToTable``.

``columns`` describe the table in SQLAlchemy's own terms, each entry
``([name, type, ...], {column keyword arguments})``, for example
``(["id", sqlalchemy.Integer], {"primary_key": True})``; with ``reflect =
True`` the table is read from the database instead.

Completion is a row in the marker table (``[sqlalchemy] marker-table``,
default ``table_updates``) keyed by ``update_id`` and ``target_table``.
Unlike Luigi, which writes the marker after the data's transaction commits,
``CopyToTable.run`` writes it inside that transaction: a crash between the two
cannot leave rows that a re-run would load again.
"""

from __future__ import annotations

import abc
import collections
import datetime
import itertools
import logging
import os
from typing import Any, Iterator

import trunkline as luigi
from trunkline.contrib._dbdeps import optional_import, require

sqlalchemy: Any = optional_import("sqlalchemy", "sqlalchemy")


class SQLAlchemyTarget(luigi.Target):
    """A marker-table row recording that ``update_id`` was loaded into ``target_table``.

    Engines are shared per connection string within a process (and made anew
    in a forked worker process, whose inherited pool must not be reused).
    """

    marker_table: str | None = None
    _engine_dict: dict[str, Any] = {}
    Connection = collections.namedtuple("Connection", "engine pid")

    def __init__(
        self,
        connection_string: str,
        target_table: str,
        update_id: str,
        echo: bool = False,
        connect_args: dict[str, Any] | None = None,
    ) -> None:
        require(sqlalchemy)
        self.target_table = target_table
        self.update_id = update_id
        self.connection_string = connection_string
        self.echo = echo
        self.connect_args = connect_args if connect_args is not None else {}
        self.marker_table_bound: Any = None

    def __str__(self) -> str:
        return self.target_table

    @property
    def engine(self) -> Any:
        """The process's engine for ``connection_string``."""
        pid = os.getpid()
        cached = SQLAlchemyTarget._engine_dict.get(self.connection_string)
        if cached is None or cached.pid != pid:
            engine = sqlalchemy.create_engine(
                self.connection_string, connect_args=self.connect_args, echo=self.echo
            )
            cached = self.Connection(engine, pid)
            SQLAlchemyTarget._engine_dict[self.connection_string] = cached
        return cached.engine

    def _marker_row_clause(self) -> Any:
        table = self.marker_table_bound
        return sqlalchemy.and_(
            table.c.update_id == self.update_id, table.c.target_table == self.target_table
        )

    def touch(self, connection: Any = None) -> None:
        """Record the update. Given a connection, the row joins its transaction
        (the caller commits); without one it commits at once."""
        if self.marker_table_bound is None:
            self.create_marker_table()
        if connection is None:
            with self.engine.begin() as own:
                self._write_marker(own)
            return
        self._write_marker(connection)

    def _write_marker(self, connection: Any) -> None:
        table = self.marker_table_bound
        values = {
            "update_id": self.update_id,
            "target_table": self.target_table,
            "inserted": datetime.datetime.now(),
        }
        found = connection.execute(
            sqlalchemy.select(table.c.update_id).where(self._marker_row_clause()).limit(1)
        ).fetchone()
        if found is None:
            connection.execute(table.insert().values(**values))
        else:
            connection.execute(table.update().where(self._marker_row_clause()).values(**values))

    def exists(self) -> bool:
        if self.marker_table_bound is None:
            self.create_marker_table()
        with self.engine.begin() as connection:
            row = connection.execute(
                sqlalchemy.select(self.marker_table_bound).where(self._marker_row_clause()).limit(1)
            ).fetchone()
        return row is not None

    def create_marker_table(self) -> None:
        """Create the marker table if it is missing, else read its definition."""
        if self.marker_table is None:
            self.marker_table = luigi.configuration.get_config().get(
                "sqlalchemy", "marker-table", "table_updates"
            )
        metadata = sqlalchemy.MetaData()
        table = sqlalchemy.Table(
            self.marker_table,
            metadata,
            sqlalchemy.Column("update_id", sqlalchemy.String(128), primary_key=True),
            sqlalchemy.Column("target_table", sqlalchemy.String(128)),
            sqlalchemy.Column("inserted", sqlalchemy.DateTime, default=datetime.datetime.now),
        )
        # checkfirst: a table made earlier (by Luigi, or another worker) is kept.
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except sqlalchemy.exc.DatabaseError:
            # Lost a race with another worker creating it: fine if it now exists.
            with self.engine.begin() as connection:
                if not sqlalchemy.inspect(connection).has_table(self.marker_table):
                    raise
        self.marker_table_bound = table

    def open(self, mode: str) -> Any:
        raise NotImplementedError("Cannot open() SQLAlchemyTarget")


class CopyToTable(luigi.Task):
    """Template: insert ``rows()`` into ``table`` through SQLAlchemy, ``chunk_size`` rows per INSERT.

    Set ``connection_string``, ``table`` and ``columns`` (or ``reflect = True``);
    optionally ``schema``, ``echo``, ``connect_args``. ``rows()`` reads
    ``column_separator``-separated lines from ``self.input()`` by default.
    """

    _logger = logging.getLogger("luigi-interface")

    echo = False
    connect_args: dict[str, Any] = {}

    @property
    @abc.abstractmethod
    def connection_string(self) -> Any:
        return None

    @property
    @abc.abstractmethod
    def table(self) -> Any:
        return None

    columns: list[Any] = []
    schema = ""
    column_separator = "\t"
    chunk_size = 5000
    reflect = False

    def create_table(self, engine: Any) -> None:
        """Bind ``self.table_bound``: create the table from ``columns`` when it
        does not exist, else reflect it from the database."""
        if not self.reflect and (not self.columns or any(len(c) != 2 for c in self.columns)):
            raise NotImplementedError(
                f"create_table() not implemented for {self.table!r} and columns types not specified"
            )
        metadata = sqlalchemy.MetaData(schema=self.schema) if self.schema else sqlalchemy.MetaData()
        with engine.begin() as connection:
            exists = sqlalchemy.inspect(connection).has_table(self.table, schema=self.schema or None)
        if not exists and not self.reflect:
            columns = [sqlalchemy.Column(*args, **kwargs) for args, kwargs in self.columns]
            self.table_bound = sqlalchemy.Table(self.table, metadata, *columns)
            try:
                metadata.create_all(engine)
            except sqlalchemy.exc.DatabaseError:
                # Another worker may have created it between our check and
                # our CREATE (tasks loading one table run side by side).
                with engine.begin() as connection:
                    if not sqlalchemy.inspect(connection).has_table(self.table, schema=self.schema or None):
                        raise
                self._logger.info("Table %s was created concurrently; using it", self.table)
        else:
            metadata.reflect(only=[self.table], bind=engine)
            full_name = f"{self.schema}.{self.table}" if self.schema else self.table
            self.table_bound = metadata.tables[full_name]

    def update_id(self) -> str:
        """Identifies this load in the marker table; the task id by default."""
        return self.task_id

    def output(self) -> SQLAlchemyTarget:
        return SQLAlchemyTarget(
            connection_string=self.connection_string,
            target_table=self.table,
            update_id=self.update_id(),
            connect_args=self.connect_args,
            echo=self.echo,
        )

    def rows(self) -> Iterator[Any]:
        with self.input().open("r") as fobj:
            for line in fobj:
                yield line.strip("\n").split(self.column_separator)

    def _chunks(self) -> Iterator[list[dict[str, Any]]]:
        # Bind names get a "_" prefix: SQLAlchemy reserves a column's own name
        # for the values() clause.
        keys = ["_" + column.key for column in self.table_bound.c]
        rows = iter(self.rows())
        while chunk := [dict(zip(keys, row)) for row in itertools.islice(rows, self.chunk_size)]:
            yield chunk

    def run(self) -> None:
        self._logger.info("Copying update id %s into table %s", self.update_id(), self.table)
        output = self.output()
        engine = output.engine
        self.create_table(engine)
        output.create_marker_table()
        with engine.begin() as connection:
            inserted = 0
            for chunk in self._chunks():
                self.copy(connection, chunk, self.table_bound)
                inserted += len(chunk)
                self._logger.info("Inserted %d rows into %s", inserted, self.table)
            output.touch(connection)
        self._logger.info("Finished inserting rows into SQLAlchemy target")

    def copy(self, conn: Any, ins_rows: list[dict[str, Any]], table_bound: Any) -> None:
        """Insert one chunk; override for a faster bulk path."""
        bound_cols = {column: sqlalchemy.bindparam("_" + column.key) for column in table_bound.columns}
        conn.execute(table_bound.insert().values(bound_cols), ins_rows)
