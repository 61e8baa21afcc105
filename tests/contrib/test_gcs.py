"""GCSClient and GCSTarget through the Google API client, against a stand-in of the GCS JSON API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("googleapiclient", reason='google-api-python-client is in the test extra: pip install -e ".[test]"')

import httplib2  # noqa: E402

import trunkline as luigi  # noqa: E402
from trunkline.contrib import gcs  # noqa: E402
from trunkline.contrib.gcs import GCSClient, GCSFlagTarget, GCSTarget, InvalidDeleteException  # noqa: E402
from trunkline.format import Nop  # noqa: E402
from trunkline.target import FileAlreadyExists  # noqa: E402

from .gcs_standin import GcsStandIn  # noqa: E402


@pytest.fixture
def standin(tmp_path) -> Iterator[GcsStandIn]:  # type: ignore[no-untyped-def]
    with GcsStandIn(str(tmp_path), ("bucket", "other")) as server:
        yield server


@pytest.fixture
def client(standin: GcsStandIn) -> GCSClient:
    http = httplib2.Http(ca_certs=standin.cert_file)
    # As googleapiclient.http.build_http() does: 308 answers resumable uploads, it is no redirect.
    http.redirect_codes = http.redirect_codes - {308}
    # Small chunks so uploads and downloads take several requests each.
    return GCSClient(http_=http, chunksize=256 * 1024, client_options={"api_endpoint": standin.endpoint})


def test_write_read_and_resumable_chunks(client: GCSClient, standin: GcsStandIn) -> None:
    target = GCSTarget("gs://bucket/dir/data.txt", client=client)
    with target.open("w") as out:
        out.write("one\ntwo\n")
    assert standin.objects[("bucket", "dir/data.txt")] == (b"one\ntwo\n", "text/plain")
    with target.open("r") as lines:
        assert list(lines) == ["one\n", "two\n"]
    big = GCSTarget("gs://bucket/big.bin", client=client, format=Nop)
    payload = bytes(range(256)) * 4096  # 1 MiB: four upload chunks, four download chunks
    with big.open("w") as out:
        out.write(payload)
    puts = [p for m, p in standin.requests if m == "PUT" and p.startswith("/upload/resumable/")]
    assert puts.count(puts[-1]) == 4
    with big.open("r") as data:
        assert data.read() == payload


def test_a_failed_write_uploads_nothing(client: GCSClient, standin: GcsStandIn) -> None:
    with pytest.raises(RuntimeError):
        with GCSTarget("gs://bucket/failed", client=client).open("w") as out:
            out.write("partial")
            raise RuntimeError("task failed")
    assert standin.objects == {}
    assert not any(p.startswith("/upload/") for _, p in standin.requests)


def test_directories_listing_copy_move_remove(client: GCSClient, standin: GcsStandIn) -> None:
    for i in range(5):
        client.put_string(f"{i}", f"gs://bucket/d/f{i}.csv")
    client.put_string("", "gs://bucket/d/sub/empty")
    assert client.isdir("gs://bucket/d") and client.isdir("gs://bucket")
    assert not client.isdir("gs://missing-bucket")
    assert client.exists("gs://bucket/d") and not client.exists("gs://bucket/e")
    listing = list(client.listdir("gs://bucket/d"))
    assert listing == [f"gs://bucket/d/f{i}.csv" for i in range(5)] + ["gs://bucket/d/sub/empty"]
    assert sorted(client.list_wildcard("gs://bucket/d/f*.csv")) == listing[:5]
    client.mkdir("gs://bucket/made")
    assert ("bucket", "made/") in standin.objects
    with pytest.raises(FileAlreadyExists):
        client.mkdir("gs://bucket/made", raise_if_exists=True)
    client.copy("gs://bucket/d", "gs://other/copy")
    assert sorted(n for b, n in standin.objects if b == "other") == [f"copy/f{i}.csv" for i in range(5)] + ["copy/sub/empty"]
    client.move("gs://bucket/d/f0.csv", "gs://bucket/moved.csv")
    assert client.exists("gs://bucket/moved.csv") and not client.exists("gs://bucket/d/f0.csv")
    with pytest.raises(InvalidDeleteException):
        client.remove("gs://bucket/d", recursive=False)
    with pytest.raises(InvalidDeleteException):
        client.remove("gs://bucket/")
    assert client.remove("gs://bucket/d") is True
    assert not client.exists("gs://bucket/d")
    assert client.remove("gs://bucket/d") is False


def test_listing_follows_pages(client: GCSClient, standin: GcsStandIn) -> None:
    for i in range(2500):
        standin.objects[("bucket", f"many/{i:05d}")] = (b"", "text/plain")
    assert len(list(client.listdir("gs://bucket/many"))) == 2500
    assert sum("pageToken" in p for _, p in standin.requests) == 2


def test_flag_target(client: GCSClient) -> None:
    with pytest.raises(ValueError):
        GCSFlagTarget("gs://bucket/job", client=client)
    flagged = GCSFlagTarget("gs://bucket/job/", client=client)
    client.put_string("x", "gs://bucket/job/part-0")
    assert not flagged.exists()
    client.put_string("", "gs://bucket/job/_SUCCESS")
    assert flagged.exists()


def test_retries_server_errors_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcs.time, "sleep", lambda seconds: None)
    attempts = []

    @gcs.gcs_retry
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("connection reset")
        return "done"

    assert flaky() == "done" and len(attempts) == 3

    @gcs.gcs_retry
    def broken() -> None:
        attempts.append(1)
        raise OSError("down")

    attempts.clear()
    with pytest.raises(OSError):
        broken()
    assert len(attempts) == 5

    @gcs.gcs_retry
    def refused() -> None:
        attempts.append(1)
        raise ValueError("not retried")

    attempts.clear()
    with pytest.raises(ValueError):
        refused()
    assert len(attempts) == 1


def test_a_task_writing_to_gcs_runs_once(client: GCSClient) -> None:
    runs = []

    class Export(luigi.Task):
        def output(self) -> GCSTarget:
            return GCSTarget("gs://bucket/export.txt", client=client)

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("exported")

    assert luigi.build([Export()], local_scheduler=True)
    assert luigi.build([Export()], local_scheduler=True)
    assert runs == [1]
