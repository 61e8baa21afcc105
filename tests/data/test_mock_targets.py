from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import luigi
import pytest

from trunkline.format import Gzip, Nop
from trunkline.mock import MockFileSystem, MockTarget


@pytest.fixture(autouse=True)
def empty_mock_store() -> Iterator[None]:
    MockFileSystem().clear()
    yield
    MockFileSystem().clear()


def _write(path: str, text: str) -> None:
    with MockTarget(path).open("w") as out:
        out.write(text)


def test_written_text_reads_back_and_the_target_exists() -> None:
    target = MockTarget("/data/report.txt")
    assert not target.exists()
    with target.open("w") as out:
        out.write("line 1\nline 2\n")
    assert target.exists()
    with target.open("r") as source:
        assert list(source) == ["line 1\n", "line 2\n"]


def test_write_is_stored_only_when_closed() -> None:
    target = MockTarget("/data/slow")
    out = target.open("w")
    out.write("pending")
    out.flush()
    assert not target.exists()
    out.close()
    assert MockFileSystem().get_data("/data/slow") == b"pending"


def test_exception_inside_with_stores_nothing() -> None:
    with pytest.raises(ArithmeticError), MockTarget("/data/broken").open("w") as out:
        out.write("half")
        raise ArithmeticError("bad input")
    assert not MockTarget("/data/broken").exists()


def test_all_mock_file_systems_share_one_store() -> None:
    _write("/shared", "x")
    assert MockFileSystem().get_all_data()["/shared"] == b"x"
    assert MockTarget("/shared").fs.exists("/shared")


def test_clear_empties_the_store() -> None:
    _write("/a", "a")
    MockFileSystem().clear()
    assert dict(MockFileSystem().get_all_data()) == {}


def test_listdir_isdir_and_remove_work_by_path_prefix() -> None:
    for path in ("/dir/a", "/dir/sub/b", "/other/c"):
        _write(path, "x")
    fs = MockFileSystem()
    assert sorted(fs.listdir("/dir")) == ["/dir/a", "/dir/sub/b"]
    assert fs.isdir("/dir") and not fs.isdir("/nothing")
    fs.remove("/dir")
    assert sorted(fs.get_all_data().keys()) == ["/other/c"]


def test_non_recursive_remove_removes_only_the_exact_path() -> None:
    _write("/f", "1")
    _write("/f2", "2")
    MockFileSystem().remove("/f", recursive=False)
    assert sorted(MockFileSystem().get_all_data().keys()) == ["/f2"]


def test_copy_and_move_carry_the_content_and_can_refuse_an_existing_destination() -> None:
    _write("/src", "content")
    _write("/taken", "old")
    fs = MockFileSystem()
    fs.copy("/src", "/copy")
    with pytest.raises(RuntimeError, match="Destination exists: /taken"):
        fs.move("/src", "/taken", raise_if_exists=True)
    MockTarget("/src").move("/moved")
    assert fs.get_data("/copy") == fs.get_data("/moved") == b"content"
    assert not fs.exists("/src")


def test_mkdir_is_accepted_and_changes_nothing() -> None:
    MockFileSystem().mkdir("/some/dir")
    assert dict(MockFileSystem().get_all_data()) == {}


def test_reading_a_missing_mock_file_names_the_path_and_is_also_a_key_error() -> None:
    with pytest.raises(FileNotFoundError, match="/missing"):
        MockTarget("/missing").open("r")
    with pytest.raises(KeyError):
        MockTarget("/missing").open("r")


def test_formats_apply_to_mock_targets() -> None:
    target = MockTarget("/blob.gz", format=Gzip)
    with target.open("w") as out:
        out.write(b"compressed")
    assert MockFileSystem().get_data("/blob.gz")[:2] == b"\x1f\x8b"
    with target.open("r") as source:
        assert source.read() == b"compressed"


def test_nop_format_stores_bytes_unchanged() -> None:
    with MockTarget("/raw", format=Nop).open("w") as out:
        out.write(b"\x00\x01")
    assert MockFileSystem().get_data("/raw") == b"\x00\x01"


def test_mirror_on_stderr_prefixes_each_line_with_the_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with MockTarget("/log", mirror_on_stderr=True, format=Nop).open("w") as out:
        out.write(b"one\ntw")
        out.write(b"o\n")
        out.write(b"three\n")
    assert capsys.readouterr().err == "/log: one\ntwo\n/log: three\n"


def _child_writes(path: str) -> None:
    _write(path, f"written by {os.getpid()}")


def _child_checks_it_sees(path: str, expected: str) -> None:
    with MockTarget(path).open("r") as source:
        sys.exit(0 if source.read() == expected else 3)


def test_data_written_in_a_forked_child_is_visible_to_the_parent() -> None:
    _write("/parent-was-here", "yes")  # the store is in use before the fork, as in a worker
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child_writes, args=("/from-child",))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert MockFileSystem().get_data("/from-child") == f"written by {child.pid}".encode()


def test_data_written_by_the_parent_is_visible_in_a_forked_child() -> None:
    _write("/from-parent", "hello child")
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child_checks_it_sees, args=("/from-parent", "hello child"))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0


def test_forked_children_see_each_others_writes() -> None:
    _write("/start", "go")
    context = multiprocessing.get_context("fork")
    writer = context.Process(target=_child_writes, args=("/sibling",))
    writer.start()
    writer.join(timeout=60)
    reader = context.Process(
        target=_child_checks_it_sees, args=("/sibling", f"written by {writer.pid}")
    )
    reader.start()
    reader.join(timeout=60)
    assert (writer.exitcode, reader.exitcode) == (0, 0)


class _WritesItsPid(luigi.Task):
    n = luigi.IntParameter()

    def output(self) -> MockTarget:
        return MockTarget(f"/pids/{self.n}")

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write(str(os.getpid()))


def test_a_multi_process_luigi_worker_sees_mock_outputs_its_children_wrote() -> None:
    ok = luigi.build(
        [_WritesItsPid(n=i) for i in range(3)], workers=2, local_scheduler=True, log_level="WARNING"
    )
    assert ok
    stored = {path: MockFileSystem().get_data(path) for path in MockFileSystem().listdir("/pids/")}
    assert sorted(stored) == ["/pids/0", "/pids/1", "/pids/2"]
    assert all(int(pid) != os.getpid() for pid in stored.values()), "tasks ran in child processes"


def test_importing_the_mock_module_starts_no_process_and_first_use_starts_one() -> None:
    script = textwrap.dedent(
        """
        import multiprocessing
        from trunkline.mock import MockTarget, MockFileSystem
        before = len(multiprocessing.active_children())
        with MockTarget("/f").open("w") as out:
            out.write("x")
        MockTarget("/g").exists()
        print(before, len(multiprocessing.active_children()))
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["0", "1"]


def test_threads_using_the_store_for_the_first_time_together_share_one_manager() -> None:
    script = textwrap.dedent(
        """
        import multiprocessing, threading
        from trunkline.mock import MockTarget, MockFileSystem
        start = threading.Barrier(8)
        def use(i):
            start.wait()
            with MockTarget(f"/t{i}").open("w") as out:
                out.write("x")
        threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(len(MockFileSystem().get_all_data()), len(multiprocessing.active_children()))
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["8", "1"]
