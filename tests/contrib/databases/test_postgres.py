"""trunkline.contrib.postgres against a live PostgreSQL server, with both drivers."""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

import trunkline as luigi
from trunkline.contrib import postgres
from trunkline.contrib._dbdeps import MissingLibrary

ROWS_FOR_THE_BIG_LOAD = 100_000


@pytest.fixture(params=["psycopg2", "psycopg"])
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with each driver the module supports here."""
    module = pytest.importorskip(request.param, reason=f"{request.param} is in the test extra")
    monkeypatch.setattr(postgres, "dbapi", module)
    return request.param


def _count(db: Any, sql: str, *params: Any) -> Any:
    import psycopg

    with psycopg.connect(host=db.host, port=db.port, user=db.user, dbname=db.name) as connection:
        return connection.execute(sql, params).fetchone()[0]


def _copy_task(db: Any, table_: str, rows: list[tuple[Any, ...]] | None = None, fail_after_copy: bool = False) -> type:
    class Load(postgres.CopyToTable):
        n = luigi.IntParameter()
        # Tests share the marker table: the table name keeps their task ids apart.
        into = luigi.Parameter(default=table_)
        host = db.hostport
        database = db.name
        user = db.user
        password = None
        table = table_
        columns = [("id", "INT"), ("name", "TEXT")]

        def rows(self) -> Iterator[tuple[Any, ...]]:
            if rows is not None:
                yield from rows
                return
            for i in range(self.n):
                yield (i, f"name {i}")

        def post_copy(self, connection: Any) -> None:
            if fail_after_copy:
                raise RuntimeError("crash between the copy and the marker")

    return Load


def test_copy_of_100k_rows_then_rerun_inserts_nothing(driver: str, postgres_db: Any, table_name: str) -> None:
    Load = _copy_task(postgres_db, table_name)
    task = Load(n=ROWS_FOR_THE_BIG_LOAD)
    assert not task.complete()

    started = time.perf_counter()
    assert luigi.build([task], local_scheduler=True)
    print(f"{driver}: {ROWS_FOR_THE_BIG_LOAD} rows copied in {time.perf_counter() - started:.2f} s")

    assert _count(postgres_db, f"SELECT count(*) FROM {table_name}") == ROWS_FOR_THE_BIG_LOAD
    assert Load(n=ROWS_FOR_THE_BIG_LOAD).complete()
    assert luigi.build([Load(n=ROWS_FOR_THE_BIG_LOAD)], local_scheduler=True)
    # A direct second run() is what a worker racing the first would do: the
    # marker's primary key makes it fail instead of loading the rows again.
    with pytest.raises(Exception):
        Load(n=ROWS_FOR_THE_BIG_LOAD).run()
    assert _count(postgres_db, f"SELECT count(*) FROM {table_name}") == ROWS_FOR_THE_BIG_LOAD


def test_crash_before_the_marker_leaves_no_rows_and_the_rerun_loads_once(driver: str, postgres_db: Any, table_name: str) -> None:
    Broken = _copy_task(postgres_db, table_name, fail_after_copy=True)
    assert not luigi.build([Broken(n=50)], local_scheduler=True)
    assert not Broken(n=50).complete()

    Fixed = _copy_task(postgres_db, table_name)
    assert luigi.build([Fixed(n=50)], local_scheduler=True)
    assert _count(postgres_db, f"SELECT count(*) FROM {table_name}") == 50


def test_nulls_and_special_characters_survive_the_copy(driver: str, postgres_db: Any, table_name: str) -> None:
    # (Not the text "\N": escaped, it equals the NULL marker and loads as NULL, as in Luigi.)
    tricky = ["tab\there", "new\nline", "back\\slash", "carriage\rreturn", "ünïcödé", "N\\"]
    rows = [(i, value) for i, value in enumerate(tricky)] + [(99, None)]
    Load = _copy_task(postgres_db, table_name, rows=rows)
    assert luigi.build([Load(n=0)], local_scheduler=True)

    for i, value in enumerate(tricky):
        assert _count(postgres_db, f"SELECT name FROM {table_name} WHERE id = %s", i) == value
    assert _count(postgres_db, f"SELECT count(*) FROM {table_name} WHERE name IS NULL") == 1


def test_existing_table_is_appended_to_and_init_copy_runs_in_the_transaction(driver: str, postgres_db: Any, table_name: str) -> None:
    import psycopg

    with psycopg.connect(host=postgres_db.host, port=postgres_db.port, user=postgres_db.user, dbname=postgres_db.name) as c:
        c.execute(f"CREATE TABLE {table_name} (id INT, name TEXT)")
        c.execute(f"INSERT INTO {table_name} VALUES (-1, 'old')")

    Base = _copy_task(postgres_db, table_name)

    class Replace(Base):  # type: ignore[misc,valid-type]
        def init_copy(self, connection: Any) -> None:
            super().init_copy(connection)
            connection.cursor().execute(f"DELETE FROM {self.table}")

    assert luigi.build([Replace(n=3)], local_scheduler=True)
    assert _count(postgres_db, f"SELECT count(*) FROM {table_name}") == 3
    assert _count(postgres_db, f"SELECT min(id) FROM {table_name}") == 0


def test_postgres_query_runs_once_and_records_itself(driver: str, postgres_db: Any, table_name: str) -> None:
    import psycopg

    with psycopg.connect(host=postgres_db.host, port=postgres_db.port, user=postgres_db.user, dbname=postgres_db.name) as c:
        c.execute(f"CREATE TABLE {table_name} (hits INT)")
        c.execute(f"INSERT INTO {table_name} VALUES (0)")

    class Bump(postgres.PostgresQuery):
        day = luigi.DateParameter()
        into = luigi.Parameter(default=table_name)
        host = postgres_db.host
        port = postgres_db.port
        database = postgres_db.name
        user = postgres_db.user
        password = None
        table = table_name
        query = f"UPDATE {table_name} SET hits = hits + 1"

    import datetime

    task = Bump(day=datetime.date(2026, 1, 1))
    assert luigi.build([task], local_scheduler=True)
    assert luigi.build([Bump(day=datetime.date(2026, 1, 1))], local_scheduler=True)
    assert _count(postgres_db, f"SELECT hits FROM {table_name}") == 1
    assert _count(
        postgres_db, "SELECT target_table FROM table_updates WHERE update_id = %s", task.task_id
    ) == table_name


def test_target_does_not_exist_before_any_marker_table(driver: str, postgres_db: Any, table_name: str) -> None:
    target = postgres.PostgresTarget(
        host=postgres_db.hostport, database=postgres_db.name, user=postgres_db.user,
        password=None, table=table_name, update_id="never-written",
    )
    target.marker_table = f"markers_{table_name}"
    assert not target.exists()
    target.touch()
    assert target.exists()


def test_host_may_carry_the_port() -> None:
    target = postgres.PostgresTarget("db.example:6543", "d", "u", "p", "t", "id")
    assert (target.host, target.port) == ("db.example", "6543")
    assert postgres.PostgresTarget("db", "d", "u", "p", "t", "id").port == 5432
    assert str(target) == "t"


def test_using_the_target_without_a_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "dbapi", MissingLibrary("psycopg", "postgres"))
    target = postgres.PostgresTarget("localhost", "d", "u", "p", "t", "id")
    with pytest.raises(ImportError, match=r'pip install "trunkline\[postgres\]"'):
        target.exists()


def test_multi_replacer_replaces_in_one_pass() -> None:
    assert postgres.MultiReplacer([("a", "b"), ("b", "c")])("abcd") == "bccd"
    assert postgres.MultiReplacer([("ab", "x"), ("a", "x")])("ab") == "x"
    assert postgres.default_escape("a\tb\\") == "a\\tb\\\\"
