"""Every global flag and configuration path, run as real processes.

Each test writes a tiny workflow module into a fresh directory and runs it the
three ways a user can: the installed ``trunkline`` command, ``python -m
trunkline``, and ``python flow.py Task ...`` (a module calling
``trunkline.run()``). The environment is built from scratch (no LUIGI_* or
TRUNKLINE_* variables, HOME in the temporary directory) so no configuration of
the person running the tests leaks in.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TRUNKLINE = Path(sys.executable).with_name("trunkline")

FLOW = textwrap.dedent(
    """
    import json
    import logging
    import os
    import sys
    import time

    import trunkline as luigi

    logger = logging.getLogger("luigi-interface")


    def wait_for(path, seconds=20):
        deadline = time.monotonic() + seconds
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"gave up waiting for {path}")
            time.sleep(0.02)


    class Hello(luigi.Task):
        name = luigi.Parameter(default="world", description="who to greet")
        ids = luigi.ListParameter(default=[])
        conf = luigi.DictParameter(default={})
        count = luigi.IntParameter(default=1)

        def output(self):
            return luigi.LocalTarget(f"out/hello-{self.name}.json")

        def run(self):
            logger.debug("hello-debug-line")
            logger.info("hello-info-line")
            logger.warning("hello-warning-line")
            with self.output().open("w") as f:
                json.dump({"ids": list(self.ids), "conf": dict(self.conf), "count": self.count}, f)


    class Report(luigi.Task):
        size = luigi.IntParameter(description="how many lines")

        def requires(self):
            return Hello()

        def output(self):
            return luigi.LocalTarget(f"out/report-{self.size}.txt")

        def run(self):
            with self.input().open() as source, self.output().open("w") as f:
                f.write(source.read())


    class Waiter(luigi.Task):
        # Finishes only once the other Waiter has started: needs two processes at once.
        me = luigi.Parameter()
        other = luigi.Parameter()

        def output(self):
            return luigi.LocalTarget(f"out/waiter-{self.me}.json")

        def run(self):
            open(f"started-{self.me}", "w").close()
            wait_for(f"started-{self.other}", seconds=10)
            with self.output().open("w") as f:
                json.dump({"pid": os.getpid(), "parent": os.getppid()}, f)


    class Pair(luigi.WrapperTask):
        def requires(self):
            return [Waiter(me="a", other="b"), Waiter(me="b", other="a")]


    class Gate(luigi.Task):
        # Holds its process (and so the process lock) until the test writes 'release'.
        priority = 10

        def output(self):
            return luigi.LocalTarget("out/gate")

        def run(self):
            open(f"started-{os.getpid()}", "w").close()
            wait_for("release", seconds=25)
            with self.output().open("w") as f:
                f.write(str(os.getpid()))


    class After(luigi.Task):
        def output(self):
            return luigi.LocalTarget("out/after")

        def run(self):
            with self.output().open("w") as f:
                f.write(str(os.getpid()))


    class GateThenAfter(luigi.WrapperTask):
        def requires(self):
            return [Gate(), After()]


    class Broken(luigi.Task):
        def output(self):
            return luigi.LocalTarget("out/broken")

        def run(self):
            raise RuntimeError("broken on purpose")


    class Dump(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("out/dump-that-never-arrives")


    class NeedsDump(luigi.Task):
        def requires(self):
            return Dump()

        def output(self):
            return luigi.LocalTarget("out/needs-dump")


    class CannotCheck(luigi.Task):
        def complete(self):
            raise OSError("storage unreachable")


    class Unbuildable(luigi.Task):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            raise RuntimeError("bug in the constructor")


    if __name__ == "__main__":
        if os.environ.get("DETAILED_SUMMARY"):
            result = luigi.run(detailed_summary=True)
            print(f"RESULT {type(result).__name__} {result.status.name}")
            print(f"ONE LINE {result.one_line_summary}")
        else:
            print(f"RESULT {luigi.run()}")
    """
)

ENTRY_POINTS = ["command", "python -m", "script"]


def cli_command(
    workdir: Path, args: tuple[str, ...], how: str, env: dict[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment for ``args`` on the workflow in ``workdir``.

    The environment is built from scratch, so the user's set-up never leaks in.
    Unless the test chooses its own, the process lock lives in ``workdir``, so
    runs of other tests (or people) with the same command line never collide.
    """
    (workdir / "flow.py").write_text(FLOW)
    if how == "script":
        command = [sys.executable, "flow.py"]
    elif how == "python -m":
        command = [sys.executable, "-m", "trunkline", "--module", "flow"]
    else:
        command = [str(TRUNKLINE), "--module", "flow"]
    command += args
    if "--lock-pid-dir" not in args and "--no-lock" not in args:
        command += ["--lock-pid-dir", str(workdir / "locks")]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        # The trunkline command does not search the working directory (nor does luigi's).
        "PYTHONPATH": str(workdir),
        **(env or {}),
    }
    return command, environment


def run_cli(
    workdir: Path, *args: str, how: str = "command", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command line to its end (30 s at most)."""
    command, environment = cli_command(workdir, args, how, env)
    return subprocess.run(
        command,
        check=False,
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def start_cli(workdir: Path, *args: str, how: str = "command") -> subprocess.Popen[str]:
    """Start a command line in the background; ``finish`` collects it."""
    command, environment = cli_command(workdir, args, how, None)
    return subprocess.Popen(
        command,
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, errors = process.communicate(timeout=30)
    return process.returncode, output + errors


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def hello_output(workdir: Path, name: str = "world") -> dict[str, object]:
    return json.loads((workdir / "out" / f"hello-{name}.json").read_text())  # type: ignore[no-any-return]


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for text in expected:
        assert text in lines[0]


@contextmanager
def gate_holder(workdir: Path, *args: str, how: str = "command") -> Iterator[subprocess.Popen[str]]:
    """A run of ``args`` that is inside its Gate task (holding the lock) until released."""
    holder = start_cli(workdir, *args, how=how)
    try:
        wait_for(workdir / f"started-{holder.pid}")
        yield holder
    finally:
        (workdir / "release").touch()
        if holder.returncode is None:  # the test did not finish it itself
            holder.communicate(timeout=30)


# -- task parameters -------------------------------------------------------------------


@pytest.mark.parametrize("how", ENTRY_POINTS)
def test_root_parameters_with_list_and_dict_values_as_luigi_parses_them(
    tmp_path: Path, how: str
) -> None:
    done = run_cli(
        tmp_path,
        "Hello",
        "--name",
        "ada",
        "--ids",
        "[1,2]",
        "--conf",
        '{"a": 1}',
        "--local-scheduler",
        how=how,
    )
    assert done.returncode == 0, done.stderr
    assert hello_output(tmp_path, "ada") == {"ids": [1, 2], "conf": {"a": 1}, "count": 1}


@pytest.mark.parametrize("how", ENTRY_POINTS)
def test_family_flag_sets_a_parameter_of_a_task_that_is_not_the_root(
    tmp_path: Path, how: str
) -> None:
    done = run_cli(
        tmp_path, "Report", "--size", "3", "--Hello-count", "5", "--local-scheduler", how=how
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out" / "report-3.txt").read_text())["count"] == 5


def test_unparsable_list_value_is_one_line_naming_the_parameter(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--ids", "[1,", "--local-scheduler")
    assert_one_clear_line(done, "--ids", "Hello.ids", "ListParameter")


# -- scheduler, workers ----------------------------------------------------------------


@pytest.mark.parametrize("how", ENTRY_POINTS)
def test_two_workers_run_two_tasks_at_once_in_child_processes(tmp_path: Path, how: str) -> None:
    done = run_cli(tmp_path, "Pair", "--workers", "2", "--local-scheduler", how=how)
    assert done.returncode == 0, done.stderr
    a, b = (json.loads((tmp_path / "out" / f"waiter-{me}.json").read_text()) for me in "ab")
    assert a["pid"] != b["pid"]
    assert a["parent"] == b["parent"] and a["pid"] != a["parent"]  # children of one worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "where",
    ["host and port flags", "url flag", "config file"],
)
def test_no_scheduler_listening_is_one_message_saying_what_to_do(
    tmp_path: Path, where: str
) -> None:
    port = free_port()
    args = ["Hello"]
    # The first contact is retried as Luigi does (rpc_retry_attempts tries, rpc_retry_wait
    # apart, each logged with its traceback): short and quiet here, the message is the point.
    retries = "rpc_retry_wait = 0.1\nrpc_log_retries = false\n"
    if where == "host and port flags":
        args += ["--scheduler-host", "127.0.0.1", "--scheduler-port", str(port)]
        (tmp_path / "luigi.cfg").write_text("[core]\n" + retries)
    elif where == "url flag":
        args += ["--scheduler-url", f"http://127.0.0.1:{port}/"]
        (tmp_path / "luigi.cfg").write_text("[core]\n" + retries)
    else:
        (tmp_path / "luigi.cfg").write_text(
            f"[core]\nscheduler_host = 127.0.0.1\nscheduler-port = {port}\n" + retries
        )
    done = run_cli(tmp_path, *args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert "trunkline scheduler" in done.stderr and "--local-scheduler" in done.stderr
    assert not (tmp_path / "out").exists()


def test_script_without_a_scheduler_fails_with_the_same_message(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[core]\nrpc_retry_wait = 0.1\nrpc_log_retries = false\n")
    done = run_cli(
        tmp_path, "Hello", "--scheduler-url", f"http://127.0.0.1:{free_port()}/", how="script"
    )
    assert done.returncode != 0
    assert "--local-scheduler" in done.stderr.strip().splitlines()[-1]


# -- the process lock ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["command", "python -m"])
def test_second_identical_run_exits_with_the_lock_code_naming_the_holder(
    tmp_path: Path, how: str
) -> None:
    pid_dir = tmp_path / "run" / "pids"  # made, parents and all, on first use
    args = (
        "Gate",
        "--local-scheduler",
        "--retcode-already-running",
        "3",
        "--lock-pid-dir",
        str(pid_dir),
    )
    with gate_holder(tmp_path, *args, how=how) as holder:
        second = run_cli(tmp_path, *args, how=how)
        assert second.returncode == 3, second.stdout + second.stderr
        assert str(holder.pid) in second.stdout + second.stderr
        assert not (tmp_path / "out" / "gate").exists()
    assert holder.returncode == 0
    assert list(pid_dir.glob("*.pid"))  # the lock lives where --lock-pid-dir says


def test_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path: Path) -> None:
    args = ("Gate", "--local-scheduler", "--retcode-already-running", "3")
    holder = start_cli(tmp_path, *args)
    wait_for(tmp_path / f"started-{holder.pid}")
    holder.kill()  # as the OOM killer or a reboot would: the pid file stays behind
    holder.communicate(timeout=30)
    assert list((tmp_path / "locks").glob("*.pid"))
    (tmp_path / "release").touch()
    again = run_cli(tmp_path, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (tmp_path / "out" / "gate").exists()


def test_unusable_lock_pid_dir_is_one_line_suggesting_what_to_pass(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = run_cli(
        tmp_path, "Hello", "--local-scheduler", "--lock-pid-dir", str(tmp_path / "a-file" / "pids")
    )
    assert_one_clear_line(done, str(tmp_path / "a-file"), "--lock-pid-dir", "--no-lock")
    assert not (tmp_path / "out").exists()


def test_lock_is_per_command_line_so_python_m_and_the_command_do_not_share(tmp_path: Path) -> None:
    args = ("Gate", "--local-scheduler", "--retcode-already-running", "3")
    with gate_holder(tmp_path, *args):
        # Same flags, but `python -m trunkline` is a different command line: not blocked.
        other = run_cli(
            tmp_path,
            "Hello",
            "--local-scheduler",
            "--retcode-already-running",
            "3",
            how="python -m",
        )
        assert other.returncode == 0, other.stderr


@pytest.mark.parametrize("flag", [("--lock-size", "2"), ("--no-lock",)])
def test_lock_size_two_or_no_lock_lets_a_second_identical_run_go(
    tmp_path: Path, flag: tuple[str, ...]
) -> None:
    args = ("Gate", "--local-scheduler", "--retcode-already-running", "3", *flag)
    with gate_holder(tmp_path, *args) as holder:
        second = start_cli(tmp_path, *args)
        wait_for(tmp_path / f"started-{second.pid}")  # both are inside Gate at the same time
        (tmp_path / "release").touch()
        code, output = finish(second)
        assert code == 0, output
    assert holder.returncode == 0


def test_take_lock_stops_the_running_copy_asking_for_work_and_runs_instead(tmp_path: Path) -> None:
    args = ("GateThenAfter", "--local-scheduler", "--take-lock", "--retcode-already-running", "3")
    with gate_holder(tmp_path, *args) as holder:
        taker = start_cli(tmp_path, *args)
        wait_for(tmp_path / f"started-{taker.pid}")
        (tmp_path / "release").touch()
        code, output = finish(taker)
        assert code == 0, output
        assert str(holder.pid) in output  # it says whom it signalled
        # The holder finished Gate but, signalled, asked for no more work: After ran in the taker.
        code, held = finish(holder)
        assert code == 0
        assert "1 ran successfully:\n    - 1 Gate()\n" in held
    assert (tmp_path / "out" / "after").read_text() == str(taker.pid)


# -- logging ---------------------------------------------------------------------------


def test_log_level_warning_hides_info_lines(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--local-scheduler", "--log-level", "WARNING")
    assert done.returncode == 0
    assert "hello-warning-line" in done.stderr
    assert "INFO" not in done.stderr and "hello-info-line" not in done.stderr
    assert "hello-debug-line" not in done.stderr


def test_log_level_debug_shows_debug_lines(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--local-scheduler", "--log-level", "DEBUG")
    assert "DEBUG: hello-debug-line" in done.stderr
    assert "INFO: hello-info-line" in done.stderr


def test_logging_conf_file_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "logging.ini").write_text(
        textwrap.dedent(
            """
            [loggers]
            keys = root, interface

            [handlers]
            keys = file

            [formatters]
            keys = tagged

            [logger_root]
            handlers =

            [logger_interface]
            level = INFO
            handlers = file
            qualname = luigi-interface
            propagate = 0

            [handler_file]
            class = FileHandler
            formatter = tagged
            args = ('run.log', 'w')

            [formatter_tagged]
            format = TAGGED %(levelname)s %(message)s
            """
        )
    )
    done = run_cli(tmp_path, "Hello", "--local-scheduler", "--logging-conf-file", "logging.ini")
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "run.log").read_text()
    assert "TAGGED INFO hello-info-line" in log
    assert "hello-debug-line" not in log
    assert "hello-info-line" not in done.stderr  # the file replaced the default handler


def test_missing_logging_conf_file_is_one_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--local-scheduler", "--logging-conf-file", "nowhere.ini")
    assert_one_clear_line(done, str(tmp_path / "nowhere.ini"))
    assert not (tmp_path / "out").exists()


# -- help ------------------------------------------------------------------------------


def test_help_lists_the_global_flags(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--help")
    assert done.returncode == 0
    for flag in (
        "--local-scheduler",
        "--module",
        "--workers",
        "--scheduler-host",
        "--scheduler-port",
        "--scheduler-url",
        "--no-lock",
        "--take-lock",
        "--lock-pid-dir",
        "--lock-size",
        "--log-level",
        "--logging-conf-file",
        "--help-all",
    ):
        assert flag in done.stdout, flag
    assert "--retcode-task-failed" not in done.stdout  # the rarer ones wait for --help-all


def test_help_all_lists_every_section_and_every_task(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--help-all")
    assert done.returncode == 0
    for flag in (
        "--retcode-task-failed",
        "--retcode-already-running",
        "--worker-keep-alive",
        "--Hello-name",
    ):
        assert flag in done.stdout, flag


@pytest.mark.parametrize("how", ENTRY_POINTS)
def test_task_help_lists_its_parameters_with_types_and_defaults(tmp_path: Path, how: str) -> None:
    done = run_cli(tmp_path, "Report", "--help", how=how)
    assert done.returncode == 0
    assert (
        "--size" in done.stdout
        and "how many lines" in done.stdout
        and "[Int, required]" in done.stdout
    )
    hello = run_cli(tmp_path, "Hello", "--help", how=how)
    flat = " ".join(hello.stdout.split())  # argparse wraps long help lines
    assert "who to greet [Str, default: world]" in flat
    assert (
        "[List, default: []]" in flat
        and "[Dict, default: {}]" in flat
        and "[Int, default: 1]" in flat
    )
    assert not (tmp_path / "out").exists()  # --help runs nothing


# -- exit codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "flag", "code"),
    [
        ("Broken", "--retcode-task-failed", 7),
        ("NeedsDump", "--retcode-missing-data", 5),
        ("CannotCheck", "--retcode-scheduling-error", 8),
        ("Unbuildable", "--retcode-unhandled-exception", 6),
    ],
)
def test_retcode_flags_choose_the_exit_code(
    tmp_path: Path, task: str, flag: str, code: int
) -> None:
    done = run_cli(tmp_path, task, "--local-scheduler", flag, str(code))
    assert done.returncode == code, done.stderr


def test_success_exits_zero_whatever_the_retcode_flags(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path,
        "Hello",
        "--local-scheduler",
        "--retcode-task-failed",
        "7",
        "--retcode-not-run",
        "9",
    )
    assert done.returncode == 0, done.stderr


def test_detailed_summary_is_not_a_flag_as_in_luigi(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--local-scheduler", "--detailed-summary")
    assert_one_clear_line(done, "unrecognized arguments: --detailed-summary")


def test_detailed_summary_is_the_run_keyword_returning_the_result(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path, "NeedsDump", "--local-scheduler", how="script", env={"DETAILED_SUMMARY": "1"}
    )
    assert done.returncode == 0, done.stderr
    assert "RESULT LuigiRunResult MISSING_EXT" in done.stdout
    assert "ONE LINE" in done.stdout and "missing external dependencies" in done.stdout


def test_script_run_returns_a_bool_and_reports_a_bad_flag(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "Hello", "--local-scheduler", how="script")
    assert "RESULT True" in done.stdout
    bad = run_cli(tmp_path, "Hello", "--local-scheduler", "--wrokers", "2", how="script")
    assert_one_clear_line(bad, "--wrokers", "--workers")


# -- configuration files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        ({"luigi.cfg": "[Hello]\nname = from-luigi-cfg\n"}, {}, "from-luigi-cfg"),
        ({"trunkline.cfg": "[Hello]\nname = from-trunkline-cfg\n"}, {}, "from-trunkline-cfg"),
        (
            {"luigi.toml": '[Hello]\nname = "from-toml"\n'},
            {"LUIGI_CONFIG_PARSER": "toml"},
            "from-toml",
        ),
        (
            {"trunkline.toml": '[Hello]\nname = "from-t-toml"\n'},
            {"LUIGI_CONFIG_PARSER": "toml"},
            "from-t-toml",
        ),
        # As in Luigi, toml files are read only when the toml parser is selected.
        ({"luigi.toml": '[Hello]\nname = "from-toml"\n'}, {}, "world"),
        (
            {"elsewhere.cfg": "[Hello]\nname = from-path\n"},
            {"LUIGI_CONFIG_PATH": "elsewhere.cfg"},
            "from-path",
        ),
        (
            {"mine.cfg": "[Hello]\nname = from-tpath\n"},
            {"TRUNKLINE_CONFIG_PATH": "mine.cfg"},
            "from-tpath",
        ),
        ({"luigi.cfg": "[Hello]\nname = ${WHO}-env\n"}, {"WHO": "ada"}, "ada-env"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else str(value),
)
def test_each_configuration_location_gives_task_family_defaults(
    tmp_path: Path, files: dict[str, str], env: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = run_cli(tmp_path, "Hello", "--local-scheduler", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / f"hello-{expected}.json").exists(), sorted(
        os.listdir(tmp_path / "out")
    )


def test_precedence_command_line_then_trunkline_path_then_luigi_path_then_working_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "luigi.cfg").write_text(
        '[Hello]\nname = cwd-luigi\ncount = 1\nids = [1]\nconf = {"from": "cwd"}\n'
    )
    (tmp_path / "trunkline.cfg").write_text("[Hello]\nname = cwd-trunkline\ncount = 2\nids = [2]\n")
    (tmp_path / "luigi-path.cfg").write_text("[Hello]\nname = luigi-path\ncount = 3\n")
    (tmp_path / "trunkline-path.cfg").write_text("[Hello]\nname = trunkline-path\n")
    env = {"LUIGI_CONFIG_PATH": "luigi-path.cfg", "TRUNKLINE_CONFIG_PATH": "trunkline-path.cfg"}
    done = run_cli(tmp_path, "Hello", "--local-scheduler", env=env)
    assert done.returncode == 0, done.stderr
    assert hello_output(tmp_path, "trunkline-path") == {
        "ids": [2],
        "conf": {"from": "cwd"},
        "count": 3,
    }
    flag = run_cli(tmp_path, "Hello", "--local-scheduler", "--name", "flag", env=env)
    assert flag.returncode == 0, flag.stderr
    assert hello_output(tmp_path, "flag")["count"] == 3


@pytest.mark.parametrize(
    "spelling",
    ["local_scheduler = true\nlog_level = WARNING", "local-scheduler = true\nlog-level = WARNING"],
)
def test_core_keys_with_underscores_or_dashes(tmp_path: Path, spelling: str) -> None:
    (tmp_path / "luigi.cfg").write_text(f"[core]\n{spelling}\n")
    done = run_cli(tmp_path, "Hello")  # no --local-scheduler flag: the file gives it
    assert done.returncode == 0, done.stderr
    assert hello_output(tmp_path)["count"] == 1
    assert "hello-warning-line" in done.stderr and "hello-info-line" not in done.stderr


def test_retcode_section_with_either_spelling(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[retcode]\ntask-failed = 9\nmissing_data = 5\n")
    assert run_cli(tmp_path, "Broken", "--local-scheduler").returncode == 9
    assert run_cli(tmp_path, "NeedsDump", "--local-scheduler").returncode == 5
    assert (
        run_cli(tmp_path, "Broken", "--local-scheduler", "--retcode-task-failed", "11").returncode
        == 11
    )


def test_config_file_selects_the_number_of_workers(tmp_path: Path) -> None:
    (tmp_path / "trunkline.cfg").write_text("[core]\nworkers = 2\n")
    done = run_cli(tmp_path, "Pair", "--local-scheduler")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "waiter-a.json").exists()


@pytest.mark.parametrize(
    ("name", "text", "env", "line"),
    [
        ("luigi.cfg", "[core]\nworkers = 2\nthis is not an option\n", {}, "line 3"),
        ("trunkline.cfg", "[core\nworkers = 2\n", {}, "line 1"),
        ("luigi.cfg", "[core]\nworkers = 1\nworkers = 2\n", {}, "line 3"),
        (
            "luigi.toml",
            '[core]\nworkers = 2\nname = "unclosed\n',
            {"LUIGI_CONFIG_PARSER": "toml"},
            "line 3",
        ),
        ("from-env.cfg", "[Hello]\nname\n", {"LUIGI_CONFIG_PATH": "from-env.cfg"}, "line 2"),
    ],
)
def test_malformed_file_is_one_line_naming_the_file_and_line(
    tmp_path: Path, name: str, text: str, env: dict[str, str], line: str
) -> None:
    (tmp_path / name).write_text(text)
    done = run_cli(tmp_path, "Hello", "--local-scheduler", env=env)
    assert_one_clear_line(done, str(tmp_path / name), line)
    assert not (tmp_path / "out").exists()


def test_bad_values_in_files_or_flags_name_where_they_came_from(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[retcode]\ntask_failed = seven\n")
    assert_one_clear_line(
        run_cli(tmp_path, "Hello", "--local-scheduler"), "[retcode] task_failed", "seven"
    )
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = ${NOT_SET_FOR_THIS_TEST}\n")
    assert_one_clear_line(run_cli(tmp_path, "Hello", "--local-scheduler"), "NOT_SET_FOR_THIS_TEST")
    (tmp_path / "luigi.cfg").unlink()
    assert_one_clear_line(
        run_cli(tmp_path, "Hello", "--local-scheduler", "--workers", "two"), "--workers 'two'"
    )


@pytest.mark.parametrize("command", [["trunkline", "scheduler"], ["trunklined"]])
def test_malformed_file_stops_the_scheduler_commands_too(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "luigi.cfg").write_text("[scheduler\nretry_delay = 1\n")
    done = subprocess.run(
        [str(TRUNKLINE.parent / command[0]), *command[1:], "--address", "127.0.0.1", "--port", str(free_port())],
        check=False,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert_one_clear_line(done, str(tmp_path / "luigi.cfg"), "line 1")
