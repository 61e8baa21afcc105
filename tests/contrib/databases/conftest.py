"""Live database servers for the contrib tests.

PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB (127.0.0.1:3306, root with
an empty password) are expected to be running, as on the project's machines
and in CI. Each test session works in a database of its own, created here and
dropped at the end, so runs never see each other's tables. When a server is
not reachable the tests that need it are skipped, saying which server.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

PG_HOST = os.environ.get("TRUNKLINE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TRUNKLINE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TRUNKLINE_TEST_PG_USER", "postgres")
MYSQL_HOST = os.environ.get("TRUNKLINE_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("TRUNKLINE_TEST_MYSQL_PORT", "3306"))


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    name: str

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database]:
    """A fresh PostgreSQL database for this test session."""
    if not _listening(PG_HOST, PG_PORT):
        pytest.skip(f"no PostgreSQL server on {PG_HOST}:{PG_PORT}")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is in trunkline's test extra")
    name = f"trunkline_test_{uuid.uuid4().hex[:10]}"
    admin = dict(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="test", autocommit=True)
    with psycopg.connect(**admin) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield Database(PG_HOST, PG_PORT, PG_USER, name)
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def mysql_db() -> Iterator[Database]:
    """A fresh MariaDB/MySQL database for this test session."""
    if not _listening(MYSQL_HOST, MYSQL_PORT):
        pytest.skip(f"no MySQL/MariaDB server on {MYSQL_HOST}:{MYSQL_PORT}")
    connector = pytest.importorskip("mysql.connector", reason="mysql-connector-python is in the test extra")
    name = f"trunkline_test_{uuid.uuid4().hex[:10]}"
    admin = connector.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield Database(MYSQL_HOST, MYSQL_PORT, "root", name)
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture
def table_name() -> str:
    """A table name no other test uses."""
    return f"t_{uuid.uuid4().hex[:12]}"
