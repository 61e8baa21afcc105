"""trunkline.contrib.mssqldb at the boundary: no SQL Server runs here, so a
stand-in for pymssql's ``_mssql`` module keeps the marker table in memory and
answers with SQL Server's error numbers (208: no such object, 2714: exists)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from trunkline.contrib import mssqldb
from trunkline.contrib._dbdeps import MissingLibrary


class MssqlDatabaseException(Exception):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class StandInServer:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, str]] = {}
        self.sql: list[str] = []
        self.connects: list[dict[str, Any]] = []

    def connect(self, **kwargs: Any) -> "StandInConnection":
        self.connects.append(kwargs)
        return StandInConnection(self)


class StandInConnection:
    def __init__(self, server: StandInServer) -> None:
        self.server = server

    def execute_non_query(self, sql: str, params: Any = None) -> None:
        self.server.sql.append(" ".join(sql.split()))
        if sql.startswith("CREATE TABLE"):
            name = sql.split()[2]
            if name in self.server.tables:
                raise MssqlDatabaseException(2714)
            self.server.tables[name] = {}
        elif "INSERT INTO" in sql:
            name = re.search(r"INSERT INTO (\w+)", sql).group(1)  # type: ignore[union-attr]
            self.server.tables[name][params["update_id"]] = params["table"]

    def execute_row(self, sql: str, params: Any = None) -> Any:
        name = re.search(r"FROM (\w+)", sql).group(1)  # type: ignore[union-attr]
        if name not in self.server.tables:
            raise MssqlDatabaseException(208)
        return (1,) if params[0] in self.server.tables[name] else None

    def close(self) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> StandInServer:
    stand_in = StandInServer()
    monkeypatch.setattr(
        mssqldb, "_mssql", SimpleNamespace(connect=stand_in.connect, MssqlDatabaseException=MssqlDatabaseException)
    )
    return stand_in


def test_marker_is_absent_before_the_table_exists_then_touched(server: StandInServer) -> None:
    target = mssqldb.MSSqlTarget("sql.example:1444", "dw", "etl", "pw", "facts", "load-1")
    assert not target.exists()
    target.touch()
    assert target.exists()
    target.touch()  # the second CREATE TABLE fails with 2714, which is fine
    assert server.connects[0] == {"user": "etl", "password": "pw", "server": "sql.example", "port": 1444, "database": "dw"}
    assert server.sql[0].startswith("CREATE TABLE table_updates ( id BIGINT NOT NULL IDENTITY(1,1)")
    assert server.sql[1].startswith("IF NOT EXISTS(SELECT 1 FROM table_updates WHERE update_id = %(update_id)s) INSERT INTO")


def test_other_database_errors_surface(server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, sql: str, params: Any = None) -> Any:
        raise MssqlDatabaseException(18456)  # login failed

    monkeypatch.setattr(StandInConnection, "execute_row", refuse)
    with pytest.raises(MssqlDatabaseException):
        mssqldb.MSSqlTarget("sql.example", "dw", "etl", "pw", "facts", "load-1").exists()


def test_default_port_and_str() -> None:
    target = mssqldb.MSSqlTarget("sql.example", "dw", "etl", "pw", "facts", "load-1")
    assert (target.port, str(target)) == (1433, "facts")


def test_without_pymssql_connecting_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mssqldb, "_mssql", MissingLibrary("pymssql", "mssql"))
    with pytest.raises(ImportError, match=r'pip install "trunkline\[mssql\]"'):
        mssqldb.MSSqlTarget("h", "d", "u", "p", "t", "id").connect()
