"""trunkline.contrib.redshift.

No Redshift can run here. Two kinds of test instead:
- at the boundary: a recording connection captures the SQL each task sends
  (COPY, UNLOAD, CREATE TABLE...) and the order of execute/commit;
- on live PostgreSQL (whose protocol Redshift speaks): everything but the S3
  COPY itself, which is swapped for an INSERT, so schema and table creation,
  truncation, post-copy queries and the marker row run against a real server.
"""

from __future__ import annotations

from typing import Any

import pytest

import trunkline as luigi
from trunkline.contrib import redshift


class RecordingCursor:
    def __init__(self, log: list[Any], answers: dict[str, Any]) -> None:
        self.log = log
        self.answers = answers
        self._last: Any = None
        self.statusmessage = "UNLOAD"

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append(("execute", " ".join(sql.split()), params))
        self._last = next((answer for key, answer in self.answers.items() if key in sql), None)

    def fetchone(self) -> Any:
        return self._last

    def close(self) -> None:
        pass


class RecordingConnection:
    """Stands in for a Redshift connection: records statements and commits."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.log: list[Any] = []
        self.answers = answers or {}
        self.autocommit = False

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self.log, self.answers)

    def commit(self) -> None:
        self.log.append(("commit",))

    def close(self) -> None:
        self.log.append(("close",))


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> RecordingConnection:
    recording = RecordingConnection({"schema_exists": (1,), "table_exists": None})
    monkeypatch.setattr(redshift.RedshiftTarget, "connect", lambda self: recording)
    # The marker table's CREATE goes through its own connection; keep it out of the log.
    monkeypatch.setattr(redshift.RedshiftTarget, "create_marker_table", lambda self: None)
    return recording


class Load(redshift.S3CopyToTable):
    day = luigi.Parameter(default="2026-01-01")
    host = "cluster.example:5439"
    database = "dw"
    user = "loader"
    password = "secret"
    table = "analytics.events"
    columns = [("id", "INT", "az64"), ("name", "VARCHAR(64)", "lzo")]
    copy_options = "CSV GZIP"
    table_attributes = "DISTKEY(id)"
    aws_account_id = "123456789012"
    aws_arn_role_name = "loader-role"
    queries = ["ANALYZE analytics.events"]

    def s3_load_path(self) -> str:
        return f"s3://bucket/events/{self.day}/"


def test_copy_sends_create_copy_queries_and_marker_then_one_commit(connection: RecordingConnection) -> None:
    Load().run()
    statements = [entry[1] for entry in connection.log if entry[0] == "execute"]
    assert statements[0].startswith("select 1 as schema_exists")
    assert statements[1].startswith("select 1 as table_exists from information_schema.tables")
    assert statements[2] == (
        "CREATE TABLE analytics.events (id INT ENCODE az64,name VARCHAR(64) ENCODE lzo ) DISTKEY(id)"
    )
    assert statements[3] == (
        "COPY analytics.events (id,name) from 's3://bucket/events/2026-01-01/' "
        "CREDENTIALS 'aws_iam_role=arn:aws:iam::123456789012:role/loader-role' CSV GZIP ;"
    )
    assert statements[4] == "ANALYZE analytics.events"
    assert statements[5].startswith("INSERT INTO table_updates (update_id, target_table, inserted)")
    # The marker is written before the single commit: rows and marker land together.
    assert [entry[0] for entry in connection.log[-2:]] == ["commit", "close"]
    assert sum(1 for entry in connection.log if entry[0] == "commit") == 1


def test_key_credentials_with_a_session_token_come_from_config(connection: RecordingConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "tok")

    class KeyLoad(Load):
        aws_account_id = None
        aws_arn_role_name = None
        aws_access_key_id = property(lambda self: self._get_configuration_attribute("aws_access_key_id"))  # type: ignore[assignment]
        aws_secret_access_key = property(lambda self: self._get_configuration_attribute("aws_secret_access_key"))  # type: ignore[assignment]
        aws_session_token = property(lambda self: self._get_configuration_attribute("aws_session_token"))  # type: ignore[assignment]

    assert KeyLoad()._credentials() == "aws_access_key_id=AKIA;aws_secret_access_key=s3cr3t;token=tok"


def test_missing_credentials_say_which_settings_are_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCOUNT_ID", "AWS_ARN_ROLE_NAME"):
        monkeypatch.delenv(name, raising=False)

    class NoCreds(Load):
        aws_account_id = None
        aws_arn_role_name = None

    with pytest.raises(NotImplementedError, match="aws_access_key_id"):
        NoCreds()._credentials()


def test_json_copy_truncate_and_prune(connection: RecordingConnection) -> None:
    class JsonLoad(redshift.S3CopyJSONToTable):
        host = "h"
        database = "dw"
        user = "u"
        password = "p"
        table = "events"
        columns = [("id", "INT")]
        copy_options = "TIMEFORMAT 'auto'"
        jsonpath = "auto"
        copy_json_options = "GZIP"
        do_truncate_table = True
        prune_table = "events"
        prune_column = "day"
        prune_date = "'2026-01-01'"
        aws_account_id = "1"
        aws_arn_role_name = "r"

        def s3_load_path(self) -> str:
            return "s3://b/k.json"

    connection.answers["table_exists"] = (1,)
    JsonLoad().run()
    statements = [entry[1] for entry in connection.log if entry[0] == "execute"]
    assert statements[0].startswith("select 1 as table_exists from pg_table_def")
    assert statements[1:4] == [
        "truncate events",
        "delete from events where day >= '2026-01-01'",
        "COPY events from 's3://b/k.json' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' "
        "JSON AS 'auto' GZIP TIMEFORMAT 'auto' ;",
    ]


def test_some_prune_settings_but_not_all_is_an_error() -> None:
    class HalfPrune(Load):
        prune_table = "events"

    with pytest.raises(Exception, match="override zero or all prune variables"):
        HalfPrune().do_prune()


def test_unload_escapes_quotes_and_records_the_marker(connection: RecordingConnection) -> None:
    class Unload(redshift.RedshiftUnloadTask):
        host = "h"
        database = "dw"
        user = "u"
        password = "p"
        table = "events"
        s3_unload_path = "s3://b/out/"
        aws_account_id = "1"
        aws_arn_role_name = "r"

        def query(self) -> str:  # type: ignore[override]
            return "select * from events where name = 'x'"

    Unload().run()
    statements = [entry[1] for entry in connection.log if entry[0] == "execute"]
    assert statements[0] == (
        "UNLOAD ( 'select * from events where name = \\'x\\'' ) TO 's3://b/out/' "
        "credentials 'aws_iam_role=arn:aws:iam::1:role/r' DELIMITER '|' ADDQUOTES GZIP ALLOWOVERWRITE PARALLEL ON;"
    )
    assert statements[1].startswith("INSERT INTO table_updates")


def test_redshift_target_defaults() -> None:
    target = redshift.RedshiftTarget("cluster.example", "dw", "u", "p", "t", "id")
    assert target.port == 5439
    assert target.use_db_timestamps is False


def test_s3_copy_on_live_postgres_creates_schema_and_table_and_marker(postgres_db: Any, table_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    class LiveLoad(redshift.S3CopyToTable):
        host = postgres_db.hostport
        database = postgres_db.name
        user = postgres_db.user
        password = None
        table = f"s_{table_name}.events"
        columns = [("id", "INT"), ("name", "TEXT")]
        copy_options = ""
        table_constraints = "PRIMARY KEY (id)"
        queries = [f"UPDATE s_{table_name}.events SET name = upper(name)"]

        def s3_load_path(self) -> str:
            return "s3://bucket/events/"

        def copy(self, cursor: Any, f: str) -> None:
            # PostgreSQL cannot read S3: load two rows where COPY would have.
            cursor.execute(f"INSERT INTO {self.table} VALUES (1, 'a'), (2, 'b')")

    assert luigi.build([LiveLoad()], local_scheduler=True)
    assert LiveLoad().complete()
    import psycopg

    with psycopg.connect(host=postgres_db.host, port=postgres_db.port, user=postgres_db.user, dbname=postgres_db.name) as c:
        assert c.execute(f"SELECT name FROM s_{table_name}.events ORDER BY id").fetchall() == [("A",), ("B",)]
        inserted = c.execute("SELECT inserted FROM table_updates WHERE update_id = %s", (LiveLoad().task_id,)).fetchone()
        assert inserted is not None and inserted[0] is not None  # the client's timestamp
