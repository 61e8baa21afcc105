"""Every database module imports without its client library, and using it
then fails with an ImportError that names the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Client libraries hidden from the child interpreter (None in sys.modules
# makes ``import x`` raise ImportError, as if it were not installed).
HIDDEN = [
    "psycopg2", "psycopg", "pg8000", "sqlalchemy", "mysql", "mysql.connector", "pymssql",
    "pyhive", "pyhive.presto", "pyhive.exc", "googleapiclient", "httplib2", "google.auth",
    "thrift", "hive_metastore", "requests", "avro",
]

# module → (a statement that uses it, the extra its error must name)
USES = {
    "postgres": ("postgres.PostgresTarget('h', 'd', 'u', 'p', 't', 'i').exists()", "postgres"),
    "redshift": ("redshift.RedshiftTarget('h', 'd', 'u', 'p', 't', 'i').exists()", "postgres"),
    "sqla": ("sqla.SQLAlchemyTarget('sqlite://', 't', 'i')", "sqlalchemy"),
    "mysqldb": ("mysqldb.MySqlTarget('h', 'd', 'u', 'p', 't', 'i').connect()", "mysql"),
    "mssqldb": ("mssqldb.MSSqlTarget('h', 'd', 'u', 'p', 't', 'i').connect()", "mssql"),
    "presto": ("presto.PrestoClient(None) and presto.Connection(host='h')", "presto"),
    "bigquery": ("bigquery.BigQueryClient()", "bigquery"),
    "bigquery_avro": ("bigquery_avro.avro.datafile", "bigquery"),
    "salesforce": ("salesforce.SalesforceAPI('u', 'p', 't').start_session()", "salesforce"),
}


@pytest.mark.parametrize("module", sorted(USES))
def test_module_imports_without_its_library_and_use_names_the_extra(module: str) -> None:
    statement, extra = USES[module]
    program = f"""
import sys
for name in {HIDDEN!r}:
    sys.modules[name] = None
from trunkline.contrib import rdbms, {module}
try:
    {statement}
except ImportError as error:
    print("IMPORT-ERROR:", error)
else:
    print("NO ERROR")
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f'IMPORT-ERROR: ' in result.stdout
    assert f'pip install "trunkline[{extra}]"' in result.stdout


def test_hive_imports_without_thrift_and_the_metastore_client_says_what_to_install() -> None:
    program = f"""
import sys
for name in {HIDDEN!r}:
    sys.modules[name] = None
from trunkline.contrib import hive
try:
    hive.MetastoreClient().table_exists("t")
except Exception as error:
    print("ERROR:", error)
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'pip install "trunkline[hive]"' in result.stdout
