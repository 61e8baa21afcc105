"""trunkline.contrib.hive at the boundary: no Hive runs here, so ``[hive]
command`` points at a stand-in ``hive`` command line (a Python script in
tests/) that records each call and answers ``-e``/``-f`` the way Hive's CLI
prints: table lists, partitions, ``describe formatted`` locations."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import trunkline as luigi
from trunkline.contrib import hive

STAND_IN = '''
import json, pathlib, sys
here = pathlib.Path(__file__).parent
state = json.loads((here / "state.json").read_text())
args = sys.argv[1:]
with open(here / "calls.jsonl", "a") as log:
    query = pathlib.Path(args[args.index("-f") + 1]).read_text() if "-f" in args else None
    log.write(json.dumps({"args": args, "query": query}) + "\\n")
if "-e" in args:
    sql = args[args.index("-e") + 1]
    if "show tables like" in sql:
        print("\\n".join(state["tables"]))
    elif "show partitions" in sql:
        table = sql.split("show partitions ")[1].split()[0]
        if table not in state["tables"]:
            print("FAILED: SemanticException [Error 10001]: Table not found " + table, file=sys.stderr)
            sys.exit(17)
        spec = sql.split("partition (")[1].rstrip(")")
        if spec in state["partitions"].get(table, []):
            print(spec.replace("`", "").replace("'", ""))
    elif "describe formatted" in sql:
        table = sql.split("describe formatted ")[1].split()[0]
        print("# Detailed Table Information")
        print("Location:           \\thdfs://nn:8020/user/hive/warehouse/" + table + "\\t ")
    elif sql.startswith("use") and "describe" in sql:
        table = sql.split("describe ")[1]
        if table in state["tables"]:
            print("id                  \\tint                 \\t\\nname                \\tstring              \\t")
        else:
            print("Table not found " + table)
            sys.exit(1)
'''


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "hive.py").write_text(STAND_IN)
    (tmp_path / "state.json").write_text(json.dumps({
        "tables": ["events"],
        "partitions": {"events": ["`day`='2026-01-01'"]},
    }))
    config = luigi.configuration.get_config()
    had_section = config.has_section("hive")
    if not had_section:
        config.add_section("hive")
    config.set("hive", "command", f"{sys.executable} {tmp_path / 'hive.py'}")
    yield tmp_path
    config.remove_option("hive", "command")
    if not had_section:
        config.remove_section("hive")


def _calls(stand_in: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (stand_in / "calls.jsonl").read_text().splitlines()]


def test_command_client_finds_tables_partitions_and_locations(stand_in: Path) -> None:
    client = hive.HiveCommandClient()
    assert client.table_exists("events")
    assert not client.table_exists("clicks")
    assert client.table_exists("events", partition={"day": "2026-01-01"})
    assert not client.table_exists("events", partition={"day": "2026-01-02"})
    assert client.table_location("events") == "hdfs://nn:8020/user/hive/warehouse/events"
    assert client.table_schema("events") == [("id", "int"), ("name", "string")]
    assert _calls(stand_in)[0]["args"] == ["-e", 'use default; show tables like "events";']


def test_apache_client_reads_a_missing_table_from_a_failing_describe(stand_in: Path) -> None:
    assert hive.ApacheHiveCommandClient().table_schema("clicks") is None
    with pytest.raises(hive.HiveCommandError) as raised:
        hive.HiveCommandClient().table_schema("clicks")
    assert raised.value.out.decode().startswith("Table not found")


def test_partition_target_on_a_missing_table(stand_in: Path) -> None:
    strict = hive.HivePartitionTarget("clicks", {"day": "2026-01-01"})
    with pytest.raises(hive.HiveCommandError):
        strict.exists()
    lenient = hive.HivePartitionTarget("clicks", {"day": "2026-01-01"}, fail_missing_table=False)
    assert not lenient.exists()
    assert hive.HiveTableTarget("events").exists()
    assert str(hive.HiveTableTarget("events")) == "hdfs://nn:8020/user/hive/warehouse/events"


def test_external_hive_task_is_complete_when_its_partition_exists(stand_in: Path) -> None:
    assert hive.ExternalHiveTask(table="events", partition={"day": "2026-01-01"}).complete()
    assert not hive.ExternalHiveTask(table="events", partition={"day": "2026-01-09"}).complete()


class DailyQuery(hive.HiveQueryTask):
    day = luigi.Parameter()
    n_reduce_tasks = 4

    def query(self) -> str:
        return f"INSERT OVERWRITE TABLE daily SELECT * FROM events WHERE day = '{self.day}'"

    def hivevars(self) -> dict[str, Any]:
        return {"day": self.day}

    def hiverc(self) -> list[str]:
        return ["/etc/hive/init.hql"]


def test_query_runner_arguments(stand_in: Path) -> None:
    task = DailyQuery(day="2026-01-01")
    arglist = hive.HiveQueryRunner().get_arglist("/tmp/q.hql", task)
    assert arglist[:2] == [sys.executable, str(stand_in / "hive.py")]
    assert arglist[2:] == [
        "-f", "/tmp/q.hql", "-i", "/etc/hive/init.hql",
        "--hiveconf", f"mapred.job.name='{task.task_id}'",
        "--hiveconf", "mapred.reduce.tasks=4",
        "--hivevar", "day=2026-01-01",
    ]


def test_query_task_runs_hive_on_a_file_holding_the_query(stand_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hadoop = pytest.importorskip(
        "trunkline.contrib.hadoop", reason="contrib.hadoop comes with the execution-engine integrations"
    )
    import subprocess

    def run_tracked(arglist: list[str], tracking_url_callback: Any = None, env: Any = None) -> None:
        subprocess.run(arglist, check=True)

    monkeypatch.setattr(hadoop, "run_and_track_hadoop_job", run_tracked)
    assert luigi.build([DailyQuery(day="2026-01-01")], local_scheduler=True)
    (call,) = _calls(stand_in)
    assert call["query"] == "INSERT OVERWRITE TABLE daily SELECT * FROM events WHERE day = '2026-01-01'"


def test_warehouse_client_looks_for_files_outside_the_ignored_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeHdfs:
        def __init__(self, files: dict[str, list[str]]) -> None:
            self.files = files

        def exists(self, path: str) -> bool:
            return path in self.files

        def listdir(self, path: str) -> list[str]:
            return self.files[path]

    where = "/warehouse/db1.db/events/day=2026-01-01/hour=3"
    client = hive.WarehouseHiveClient(FakeHdfs({where: ["_SUCCESS", ".tmp"]}), "/warehouse")
    partition = {"day": "2026-01-01", "hour": 3}
    assert client.table_location("events", "db1", partition) == where
    assert client.table_exists("events", "db1", partition)  # no masks: the directory suffices
    monkeypatch.setattr(hive, "get_ignored_file_masks", lambda: r"(_SUCCESS|\..*)")
    assert not client.table_exists("events", "db1", partition)
    client.hdfs_client.files[where].append("000000_0")
    assert client.table_exists("events", "db1", partition)


def test_default_client_follows_the_configured_release(monkeypatch: pytest.MonkeyPatch) -> None:
    for release, kind in [("cdh4", hive.HiveCommandClient), ("apache", hive.ApacheHiveCommandClient), ("metastore", hive.MetastoreClient)]:
        monkeypatch.setattr(hive, "get_hive_syntax", lambda release=release: release)
        assert type(hive.get_default_client()) is kind


def test_partition_specs() -> None:
    assert hive.HiveCommandClient().partition_spec({"b": 2, "a": "x"}) == "`a`='x',`b`='2'"
    assert hive.MetastoreClient().partition_spec({"b": 2, "a": "x"}) == "a=x/b=2"
