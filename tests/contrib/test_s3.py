"""S3Target and S3Client against moto's standalone S3 server, reached over HTTP with boto3."""

from __future__ import annotations

import datetime
import gzip

import boto3
import pytest

import trunkline as luigi
from trunkline.contrib.s3 import (
    FileNotFoundException,
    InvalidDeleteException,
    S3Client,
    S3FlagTarget,
    S3FlagTask,
    S3Target,
)
from trunkline.format import Gzip, Nop
from trunkline.target import FileAlreadyExists, MissingParentDirectory

from .conftest import S3_CREDENTIALS


@pytest.fixture
def client(moto_endpoint: str) -> S3Client:
    return S3Client(endpoint_url=moto_endpoint, **S3_CREDENTIALS)


@pytest.fixture
def raw(moto_endpoint: str):  # type: ignore[no-untyped-def]
    """boto3's own client, to check what S3 really holds."""
    return boto3.client("s3", endpoint_url=moto_endpoint, **S3_CREDENTIALS)


def test_written_text_is_read_back_line_by_line(client: S3Client, bucket: str) -> None:
    target = S3Target(f"s3://{bucket}/out/data.txt", client=client)
    with target.open("w") as out:
        out.write("first\nsecond\n")
    assert target.exists()
    with target.open("r") as lines:
        assert list(lines) == ["first\n", "second\n"]


def test_nothing_is_uploaded_while_writing_or_when_the_block_raises(
    client: S3Client, bucket: str, raw
) -> None:  # type: ignore[no-untyped-def]
    target = S3Target(f"s3://{bucket}/partial.txt", client=client)
    out = target.open("w")
    out.write("half")
    assert not target.exists()
    with pytest.raises(RuntimeError):
        with out:
            raise RuntimeError("task failed")
    assert not target.exists()
    assert raw.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_binary_and_gzip_formats_round_trip(client: S3Client, bucket: str, raw) -> None:  # type: ignore[no-untyped-def]
    blob = S3Target(f"s3://{bucket}/blob.bin", client=client, format=Nop)
    with blob.open("w") as out:
        out.write(bytes(range(256)) * 100)
    with blob.open("r") as data:
        assert data.read() == bytes(range(256)) * 100

    zipped = S3Target(f"s3://{bucket}/lines.gz", client=client, format=Gzip)
    with zipped.open("w") as out:
        out.write(b"compressed\n")
    stored = raw.get_object(Bucket=bucket, Key="lines.gz")["Body"].read()
    assert gzip.decompress(stored) == b"compressed\n"
    with zipped.open("r") as data:
        assert data.read() == b"compressed\n"


def test_lines_spanning_many_network_chunks_are_whole(client: S3Client, bucket: str) -> None:
    lines = [f"{i:06d}" + "x" * (i % 3000) + "\n" for i in range(400)]
    client.put_string("".join(lines), f"s3://{bucket}/long.txt")
    with S3Target(f"s3://{bucket}/long.txt", client=client).open("r") as data:
        assert list(data) == lines


def test_extra_args_reach_the_upload(client: S3Client, bucket: str, raw) -> None:  # type: ignore[no-untyped-def]
    target = S3Target(f"s3://{bucket}/page.html", client=client, ContentType="text/html")
    with target.open("w") as out:
        out.write("<p>hi</p>")
    assert raw.head_object(Bucket=bucket, Key="page.html")["ContentType"] == "text/html"


def test_reading_a_missing_object_raises(client: S3Client, bucket: str) -> None:
    with pytest.raises(FileNotFoundException):
        S3Target(f"s3://{bucket}/absent", client=client).open("r")
    with pytest.raises(ValueError):
        S3Target(f"s3://{bucket}/absent", client=client).open("a")


def test_directories_are_prefixes_or_markers(client: S3Client, bucket: str, raw) -> None:  # type: ignore[no-untyped-def]
    client.put_string("x", f"s3://{bucket}/logs/2024/a.log")
    raw.put_object(Bucket=bucket, Key="hadoop_$folder$", Body=b"")
    client.mkdir(f"s3://{bucket}/made")
    assert client.isdir(f"s3://{bucket}/logs")
    assert client.isdir(f"s3://{bucket}/logs/2024/")
    assert client.isdir(f"s3://{bucket}/hadoop")
    assert client.isdir(f"s3://{bucket}/made")
    assert client.isdir(f"s3://{bucket}")
    assert not client.isdir(f"s3://{bucket}/logs/2024/a.log")
    assert client.exists(f"s3://{bucket}/logs")
    assert not client.exists(f"s3://{bucket}/log")
    with pytest.raises(FileAlreadyExists):
        client.mkdir(f"s3://{bucket}/made", raise_if_exists=True)
    with pytest.raises(MissingParentDirectory):
        client.mkdir(f"s3://{bucket}/no/such/parent", parents=False)


def test_listdir_and_list(client: S3Client, bucket: str) -> None:
    for name in ("a", "b/c"):
        client.put_string(name, f"s3://{bucket}/dir/{name}")
    assert sorted(client.listdir(f"s3://{bucket}/dir")) == [f"s3://{bucket}/dir/a", f"s3://{bucket}/dir/b/c"]
    assert sorted(client.list(f"s3://{bucket}/dir/")) == ["a", "b/c"]
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert list(client.listdir(f"s3://{bucket}/dir", start_time=future)) == []
    assert len(list(client.listdir(f"s3://{bucket}/dir", end_time=future))) == 2
    summaries = list(client.listdir(f"s3://{bucket}/dir", return_key=True))
    assert sorted(s.key for s in summaries) == ["dir/a", "dir/b/c"]


def test_remove_file_directory_and_root(client: S3Client, bucket: str) -> None:
    client.put_string("1", f"s3://{bucket}/d/one")
    client.put_string("2", f"s3://{bucket}/d/two")
    assert client.remove(f"s3://{bucket}/absent") is False
    with pytest.raises(InvalidDeleteException):
        client.remove(f"s3://{bucket}/d", recursive=False)
    with pytest.raises(InvalidDeleteException):
        client.remove(f"s3://{bucket}/")
    assert client.remove(f"s3://{bucket}/d/one") is True
    assert client.exists(f"s3://{bucket}/d/two")
    assert client.remove(f"s3://{bucket}/d") is True
    assert not client.exists(f"s3://{bucket}/d")


def test_copy_and_move_files_and_prefixes(client: S3Client, bucket: str) -> None:
    for i in range(5):
        client.put_string("x" * i, f"s3://{bucket}/src/f{i}")
    assert client.copy(f"s3://{bucket}/src", f"s3://{bucket}/dst") == (5, 0 + 1 + 2 + 3 + 4)
    assert sorted(client.list(f"s3://{bucket}/dst")) == [f"f{i}" for i in range(5)]
    assert client.copy(f"s3://{bucket}/src/f3", f"s3://{bucket}/single") == (1, 3)
    client.move(f"s3://{bucket}/single", f"s3://{bucket}/moved")
    assert not client.exists(f"s3://{bucket}/single")
    assert client.get_as_string(f"s3://{bucket}/moved") == "xxx"


def test_put_get_and_bytes(client: S3Client, bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local = tmp_path / "local.bin"
    local.write_bytes(b"\x00payload")
    client.put(str(local), f"s3://{bucket}/up.bin")
    assert client.get_as_bytes(f"s3://{bucket}/up.bin") == b"\x00payload"
    client.get(f"s3://{bucket}/up.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == b"\x00payload"
    assert client.get_key(f"s3://{bucket}/up.bin").size == 8
    assert client.get_key(f"s3://{bucket}/nothing") is None


def test_flag_target_waits_for_its_flag(client: S3Client, bucket: str) -> None:
    with pytest.raises(ValueError):
        S3FlagTarget(f"s3://{bucket}/job", client=client)
    flagged = S3FlagTarget(f"s3://{bucket}/job/", client=client)
    client.put_string("part", f"s3://{bucket}/job/part-00000")
    assert not flagged.exists()
    client.put_string("", f"s3://{bucket}/job/_SUCCESS")
    assert flagged.exists()
    assert S3FlagTarget(f"s3://{bucket}/job/", client=client, flag="_DONE").exists() is False


def test_client_options_come_from_the_s3_section(s3_config: dict[str, str], bucket: str) -> None:
    # S3Client() with no arguments is what targets in users' tasks create.
    S3Client().put_string("configured", f"s3://{bucket}/cfg")
    assert S3Target(f"s3://{bucket}/cfg").open("r").read() == "configured"


def test_flag_task_is_complete_once_flagged(s3_config: dict[str, str], bucket: str) -> None:
    S3Client().put_string("", f"s3://{bucket}/emr/_SUCCESS")
    assert S3FlagTask(path=f"s3://{bucket}/emr/").complete()
    assert not S3FlagTask(path=f"s3://{bucket}/other/").complete()


def test_a_task_writing_to_s3_runs_once(s3_config: dict[str, str], bucket: str) -> None:
    runs = []

    class Produce(luigi.Task):
        def output(self) -> S3Target:
            return S3Target(f"s3://{bucket}/produced.txt")

        def run(self) -> None:
            runs.append(1)
            with self.output().open("w") as out:
                out.write("done\n")

    assert luigi.build([Produce()], local_scheduler=True)
    assert luigi.build([Produce()], local_scheduler=True)
    assert runs == [1]
