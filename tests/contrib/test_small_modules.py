"""CascadingClient, RunAnywayTarget, ExternalDailySnapshot and OpenerTarget."""

from __future__ import annotations

import datetime

import pytest

import trunkline as luigi
from trunkline.contrib.external_daily_snapshot import ExternalDailySnapshot
from trunkline.contrib.opener import NoOpenerError, OpenerTarget
from trunkline.contrib.s3 import S3Client, S3Target
from trunkline.contrib.simulate import RunAnywayTarget
from trunkline.contrib.target import CascadingClient
from trunkline.local_target import LocalTarget
from trunkline.mock import MockFileSystem, MockTarget
from trunkline.target import FileAlreadyExists

from .conftest import S3_CREDENTIALS


class Flaky:
    def __init__(self) -> None:
        self.calls = 0

    def exists(self, path: str) -> bool:
        self.calls += 1
        raise ConnectionError("namenode unreachable")

    def mkdir(self, path: str) -> None:
        raise FileAlreadyExists(path)


class Steady:
    def exists(self, path: str) -> bool:
        return path == "/there"

    def mkdir(self, path: str) -> None:
        raise AssertionError("must not be reached")


def test_cascading_client_falls_back_on_client_failures_only() -> None:
    flaky = Flaky()
    client = CascadingClient([flaky, Steady()], method_names=["exists", "mkdir"])
    assert client.exists("/there") is True
    assert flaky.calls == 1
    with pytest.raises(FileAlreadyExists):  # an answer about the data is not retried elsewhere
        client.mkdir("/x")
    with pytest.raises(ConnectionError):
        CascadingClient([Flaky()], method_names=["exists"]).exists("/x")
    assert not hasattr(CascadingClient([Steady()], method_names=["exists"]), "mkdir")


def test_run_anyway_target_runs_every_time(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(RunAnywayTarget, "temp_dir", str(tmp_path))
    runs = []

    class Always(luigi.Task):
        def output(self) -> RunAnywayTarget:
            return RunAnywayTarget(self)

        def run(self) -> None:
            runs.append(1)
            self.output().done()

    assert luigi.build([Always()], local_scheduler=True)
    assert Always().output().exists()  # done for the rest of this run
    # A new run is a new process id: simulate it by pointing at another run's directory.
    monkeypatch.setattr(RunAnywayTarget.unique, "value", RunAnywayTarget.unique.value + 1)
    assert not Always().output().exists()
    assert luigi.build([Always()], local_scheduler=True)
    assert runs == [1, 1]


def test_latest_snapshot_is_the_newest_complete_day() -> None:
    MockFileSystem().clear()
    today = datetime.date(2024, 3, 10)

    class Dump(ExternalDailySnapshot):
        kind = luigi.Parameter()

        def output(self) -> MockTarget:
            return MockTarget(f"/dumps/{self.kind}/{self.date}")

    MockTarget("/dumps/a/2024-03-07").open("w").close()
    MockTarget("/dumps/a/2024-03-01").open("w").close()
    latest = Dump.latest(kind="a", date=today)
    assert latest.date == datetime.date(2024, 3, 7)
    assert Dump.latest(kind="a", date=today) is latest  # same answer each time requires() asks
    # None complete within the lookback: the oldest day tried, to wait for.
    assert Dump.latest(kind="b", date=today, lookback=3).date == datetime.date(2024, 3, 8)


def test_opener_picks_the_target_class_from_the_uri(tmp_path, moto_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    local = OpenerTarget(str(tmp_path / "x.txt"))
    assert isinstance(local, LocalTarget) and local.path == str(tmp_path / "x.txt")
    assert isinstance(OpenerTarget(f"file://{tmp_path}/y.txt"), LocalTarget)
    mock = OpenerTarget("mock://bucket/file.txt?is_tmp&unknown=1")
    assert isinstance(mock, MockTarget) and mock.path == "bucket/file.txt"
    assert mock.opener_path == "mock://bucket/file.txt?is_tmp&unknown=1"
    client = S3Client(endpoint_url=moto_endpoint, **S3_CREDENTIALS)
    remote = OpenerTarget("s3://b/k.txt", client=client)
    assert isinstance(remote, S3Target) and remote.path == "s3://b/k.txt" and remote.fs is client
    with pytest.raises(NoOpenerError):
        OpenerTarget("gopher://x/y")
