"""trunkline.contrib.sqla against SQLite and a live PostgreSQL server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

import trunkline as luigi
from trunkline.contrib import sqla
from trunkline.contrib._dbdeps import MissingLibrary

sqlalchemy = pytest.importorskip("sqlalchemy", reason="SQLAlchemy is in trunkline's test extra")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    db = request.getfixturevalue("postgres_db")
    # SQLAlchemy 1.4 (which Luigi's own tests need) has no psycopg 3 dialect.
    driver = "psycopg" if int(sqlalchemy.__version__.split(".")[0]) >= 2 else "psycopg2"
    return f"postgresql+{driver}://{db.user}@{db.host}:{db.port}/{db.name}"


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(sql))]
    finally:
        engine.dispose()


def _task(url_: str, table_: str, n_rows: int, fail_at_row: int | None = None) -> type:
    class Load(sqla.CopyToTable):
        into = luigi.Parameter(default=table_)  # keeps task ids apart across tests
        connection_string = url_
        table = table_
        columns = [
            (["id", sqlalchemy.Integer], {"primary_key": True}),
            (["name", sqlalchemy.String(64)], {}),
        ]
        chunk_size = 7

        def rows(self) -> Iterator[tuple[Any, ...]]:
            for i in range(n_rows):
                if i == fail_at_row:
                    raise RuntimeError("the source broke mid-way")
                yield (i, f"n{i}")

    return Load


def test_copy_creates_the_table_loads_in_chunks_and_reruns_as_a_no_op(url: str, table_name: str) -> None:
    Load = _task(url, table_name, n_rows=30)
    assert not Load().complete()
    assert luigi.build([Load()], local_scheduler=True)
    assert Load().complete()
    assert luigi.build([Load()], local_scheduler=True)
    assert _rows(url, f"SELECT count(*), min(id), max(id) FROM {table_name}") == [(30, 0, 29)]
    assert _rows(url, f"SELECT target_table FROM table_updates WHERE update_id = '{Load().task_id}'") == [(table_name,)]


def test_a_failure_after_some_chunks_leaves_neither_rows_nor_marker(url: str, table_name: str) -> None:
    Broken = _task(url, table_name, n_rows=30, fail_at_row=20)
    assert not luigi.build([Broken()], local_scheduler=True)
    assert not Broken().complete()
    assert _rows(url, f"SELECT count(*) FROM {table_name}") == [(0,)]


def test_reflect_loads_into_an_existing_table_without_column_types(url: str, table_name: str) -> None:
    assert luigi.build([_task(url, table_name, n_rows=3)()], local_scheduler=True)

    class More(sqla.CopyToTable):
        connection_string = url
        table = table_name
        reflect = True

        def rows(self) -> Iterator[tuple[Any, ...]]:
            yield (100, "hundred")

    assert luigi.build([More()], local_scheduler=True)
    assert _rows(url, f"SELECT name FROM {table_name} WHERE id = 100") == [("hundred",)]


def test_create_table_needs_column_types(tmp_path: Path) -> None:
    class NoTypes(sqla.CopyToTable):
        connection_string = f"sqlite:///{tmp_path / 'x.db'}"
        table = "t"
        columns = [(["id"],)]

    with pytest.raises(NotImplementedError, match="columns types not specified"):
        NoTypes().create_table(sqlalchemy.create_engine(NoTypes.connection_string))


def test_target_touch_and_exists(url: str, table_name: str) -> None:
    target = sqla.SQLAlchemyTarget(url, table_name, "update-1")
    assert not target.exists()
    target.touch()
    target.touch()  # touching twice refreshes the row instead of failing
    assert target.exists()
    assert not sqla.SQLAlchemyTarget(url, "other_table", "update-1").exists()


def test_rows_default_reads_separated_lines_from_the_input(tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    source.write_text("1\ta\n2\tb\n")

    class Load(sqla.CopyToTable):
        connection_string = f"sqlite:///{tmp_path / 'y.db'}"
        table = "t"

        def requires(self) -> Any:
            return luigi.task.externalize(Source())

    class Source(luigi.ExternalTask):
        def output(self) -> Any:
            return luigi.LocalTarget(str(source))

    assert list(Load().rows()) == [["1", "a"], ["2", "b"]]


def test_without_sqlalchemy_the_target_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqla, "sqlalchemy", MissingLibrary("sqlalchemy", "sqlalchemy"))
    with pytest.raises(ImportError, match=r'pip install "trunkline\[sqlalchemy\]"'):
        sqla.SQLAlchemyTarget("sqlite://", "t", "id")
