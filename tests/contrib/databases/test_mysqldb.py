"""trunkline.contrib.mysqldb against a live MariaDB/MySQL server."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

import trunkline as luigi
from trunkline.contrib import mysqldb
from trunkline.contrib._dbdeps import MissingLibrary

connector = pytest.importorskip("mysql.connector", reason="mysql-connector-python is in the test extra")


def _query(db: Any, sql: str) -> list[tuple[Any, ...]]:
    connection = connector.connect(host=db.host, port=db.port, user=db.user, password="", database=db.name)
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()


def _task(db: Any, table_: str, n_rows: int, fail_after_copy: bool = False) -> type:
    class Load(mysqldb.CopyToTable):
        into = luigi.Parameter(default=table_)  # keeps task ids apart across tests
        host = db.hostport
        database = db.name
        user = db.user
        password = ""
        table = table_
        columns = [("id", "INT"), ("name", "VARCHAR(64)")]
        bulk_size = 1000  # type: ignore[assignment]

        def rows(self) -> Iterator[tuple[Any, ...]]:
            for i in range(n_rows):
                yield (i, None if i == 0 else f"n{i}")

        def post_copy(self, connection: Any) -> None:
            if fail_after_copy:
                raise RuntimeError("crash between the copy and the marker")

    return Load


def test_copy_creates_the_table_and_a_rerun_inserts_nothing(mysql_db: Any, table_name: str) -> None:
    Load = _task(mysql_db, table_name, n_rows=2500)
    assert not Load().complete()
    assert luigi.build([Load()], local_scheduler=True)
    assert Load().complete()
    assert luigi.build([Load()], local_scheduler=True)
    assert _query(mysql_db, f"SELECT count(*), count(name) FROM {table_name}") == [(2500, 2499)]
    assert _query(mysql_db, f"SELECT target_table FROM table_updates WHERE update_id = '{Load().task_id}'") == [(table_name,)]


def test_a_crash_before_the_marker_commits_no_rows(mysql_db: Any, table_name: str) -> None:
    # The first load creates the table (DDL commits on its own in MySQL); the
    # second one fails after its rows went in and must leave none behind.
    assert luigi.build([_task(mysql_db, table_name, n_rows=1)()], local_scheduler=True)

    class Broken(_task(mysql_db, table_name, n_rows=100, fail_after_copy=True)):  # type: ignore[misc]
        pass

    assert not luigi.build([Broken()], local_scheduler=True)
    assert not Broken().complete()
    assert _query(mysql_db, f"SELECT count(*) FROM {table_name}") == [(1,)]


def test_target_touch_and_exists(mysql_db: Any, table_name: str) -> None:
    target = mysqldb.MySqlTarget(mysql_db.hostport, mysql_db.name, mysql_db.user, "", table_name, f"u-{table_name}")
    assert not target.exists()
    target.touch()
    target.touch()  # a second touch refreshes the row
    assert target.exists()


def test_host_may_carry_the_port() -> None:
    target = mysqldb.MySqlTarget("db.example:3307", "d", "u", "p", "t", "id", ssl_disabled=True)
    assert (target.host, target.port, target.cnx_kwargs) == ("db.example", 3307, {"ssl_disabled": True})
    assert mysqldb.MySqlTarget("db", "d", "u", "p", "t", "id").port == 3306


def test_without_the_connector_using_the_target_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mysqldb, "mysql", MissingLibrary("mysql-connector-python", "mysql"))
    with pytest.raises(ImportError, match=r'pip install "trunkline\[mysql\]"'):
        mysqldb.MySqlTarget("localhost", "d", "u", "p", "t", "id").connect()
