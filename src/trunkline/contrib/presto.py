"""Presto (and Trino through Presto's protocol): ``PrestoTask``, ``PrestoTarget``, ``PrestoClient``.

Queries go through PyHive's Presto DB-API (``pip install "trunkline[presto]"``),
which speaks Presto's HTTP protocol. ``PrestoTask.run`` polls the running query
and reports its progress and the Presto UI link on the task (visible in the
visualiser). ``PrestoTarget`` exists when its table (or partition) has rows.

The ``[presto]`` section configures the defaults: ``host``, ``port``,
``user``, ``catalog``, ``password``, ``protocol``, ``poll_interval``.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections import OrderedDict
from contextlib import closing
from enum import Enum
from time import sleep
from typing import Any, Iterator

import trunkline as luigi
from trunkline.contrib import rdbms
from trunkline.contrib._dbdeps import optional_attribute, optional_exception
from trunkline.task_register import Register

logger = logging.getLogger("luigi-interface")

Connection: Any = optional_attribute("pyhive.presto", "Connection", "presto")
Cursor: Any = optional_attribute("pyhive.presto", "Cursor", "presto")
DatabaseError: Any = optional_exception("pyhive.exc", "DatabaseError")


class presto(luigi.Config):  # noqa: N801 - the class name is the config section
    host = luigi.Parameter(default="localhost", description="Presto host")
    port = luigi.IntParameter(default=8090, description="Presto port")
    user = luigi.Parameter(default="anonymous", description="Presto user")
    catalog = luigi.Parameter(default="hive", description="Default catalog")
    password = luigi.Parameter(default=None, description="User password")
    protocol = luigi.Parameter(default="https", description="Presto connection protocol")
    poll_interval = luigi.FloatParameter(
        default=1.0, description="how often to ask the Presto REST interface for a progress update, defaults to a second"
    )


class _Mode(Enum):
    watch = "watch"  # yield each status while the query runs
    fetch = "fetch"  # yield the result rows once it finished


class PrestoClient:
    """Runs queries on a PyHive connection and remembers the last status Presto sent."""

    def __init__(self, connection: Any, sleep_time: float = 1) -> None:
        self.sleep_time = sleep_time
        self._connection = connection
        self._status: dict[str, Any] = {"state": "initial"}

    @property
    def percentage_progress(self) -> Any:
        """The running query's progress in percent, as Presto reports it."""
        return self._status.get("stats", {}).get("progressPercentage", 0.1)

    @property
    def info_uri(self) -> Any:
        """The query's page in the Presto UI."""
        return self._status.get("infoUri")

    def execute(self, query: str, parameters: Any = None, mode: str | None = None) -> Iterator[Any]:
        """Run ``query``; in ``"watch"`` mode (the default) yield each status
        while it runs, in ``"fetch"`` mode yield the result rows at the end."""
        mode_ = _Mode(mode) if mode else _Mode.watch
        with closing(self._connection.cursor()) as cursor:
            cursor.execute(query, parameters)
            status: Any = self._status
            while status:
                sleep(self.sleep_time)
                status = cursor.poll()
                if status:
                    # Stored before it is yielded, so a watcher reading
                    # percentage_progress sees this status, not the one before.
                    self._status = status
                    if mode_ is _Mode.watch:
                        yield status
            if mode_ is _Mode.fetch:
                yield from cursor.fetchall()


class WithPrestoClient(Register):
    """Metaclass giving a task a ``_client`` property: a ``PrestoClient`` whose
    connection takes every argument of PyHive's ``Cursor`` from the task's
    attribute of the same name (those that are set)."""

    def __new__(cls, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        def _client(self: Any) -> Any:
            # One client per task instance: run() reads the progress and UI link
            # from the client that ran the query (Luigi made a new one per access,
            # so its tracking URL was always None).
            client = self.__dict__.get("_presto_client")
            if client is None:
                names = inspect.getfullargspec(Cursor.__init__)[0][1:]
                kwargs = {name: value for name in names if (value := getattr(self, name, None))}
                client = self.__dict__["_presto_client"] = PrestoClient(connection=Connection(**kwargs))
            return client

        attrs["_client"] = property(_client)
        return super().__new__(cls, name, bases, attrs)


class PrestoTarget(luigi.Target):
    """Exists when ``catalog.database.table`` (within ``partition``, a dict of
    column → value, if given) has at least one row."""

    def __init__(self, client: PrestoClient, catalog: str, database: str, table: str, partition: Any = None) -> None:
        self.catalog = catalog
        self.database = database
        self.table = table
        self.partition = partition
        self._client = client
        self._count: int | None = None

    def __str__(self) -> str:
        return self.table

    @property
    def _count_query(self) -> tuple[str, list[Any]]:
        # Without a partition the WHERE clause is the always-true "1 = 1".
        partition = OrderedDict(self.partition or {1: 1})
        clauses = " AND ".join(f"{column} = %s" for column in partition)
        query = f"SELECT COUNT(*) AS cnt FROM {self.catalog}.{self.database}.{self.table} WHERE {clauses} LIMIT 1"
        return query, list(partition.values())

    def _table_doesnot_exist(self, exception: BaseException) -> bool:
        pattern = re.compile(
            rf"line (\d+):(\d+): Table {self.catalog}.{self.database}.{self.table} does not exist"
        )
        # PyHive raises DatabaseError(<Presto's error object>); its "message" says
        # what failed. Code written for Luigi may set the object as ``.message``.
        error = getattr(exception, "message", None) or (exception.args[0] if exception.args else None)
        message = error.get("message", "") if isinstance(error, dict) else str(error or "")
        return bool(pattern.match(message))

    def count(self) -> Any:
        if not self._count:
            self._count = next(self._client.execute(*self._count_query, mode="fetch"))[0]
        return self._count

    def exists(self) -> bool:
        try:
            return bool(self.count() > 0)
        except DatabaseError as exception:
            if self._table_doesnot_exist(exception):
                return False
            raise


class PrestoTask(rdbms.Query, metaclass=WithPrestoClient):
    """Template: run ``query`` on Presto. Set ``database``, ``table`` and
    ``query``; the connection settings default to the ``[presto]`` section.
    Its output is a ``PrestoTarget`` on ``table`` (and ``partition``)."""

    _tracking_url_set = False
    _client: PrestoClient  # a property added by WithPrestoClient

    @property
    def host(self) -> Any:
        return presto().host

    @property
    def port(self) -> Any:
        return presto().port

    @property
    def user(self) -> Any:
        return presto().user

    @property
    def username(self) -> Any:
        return self.user

    @property
    def schema(self) -> Any:
        return self.database

    @property
    def password(self) -> Any:
        return presto().password

    @property
    def catalog(self) -> Any:
        return presto().catalog

    @property
    def poll_interval(self) -> Any:
        return presto().poll_interval

    @property
    def source(self) -> str:
        return "pyhive"

    @property
    def partition(self) -> Any:
        return None

    @property
    def protocol(self) -> Any:
        # A password is only ever sent over https.
        return "https" if self.password else presto().protocol

    @property
    def session_props(self) -> Any:
        return None

    @property
    def requests_session(self) -> Any:
        return None

    @property
    def requests_kwargs(self) -> dict[str, Any]:
        return {"verify": False}

    query: Any = None

    def _maybe_set_tracking_url(self) -> None:
        if not self._tracking_url_set:
            set_tracking_url: Any = self.set_tracking_url  # installed by the worker
            set_tracking_url(self._client.info_uri)
            self._tracking_url_set = True

    def _set_progress(self) -> None:
        set_progress_percentage: Any = self.set_progress_percentage  # installed by the worker
        set_progress_percentage(self._client.percentage_progress)

    def run(self) -> None:
        for _ in self._client.execute(self.query):
            self._maybe_set_tracking_url()
            self._set_progress()

    def output(self) -> PrestoTarget:
        return PrestoTarget(
            client=self._client, catalog=self.catalog, database=self.database,
            table=self.table, partition=self.partition,
        )
