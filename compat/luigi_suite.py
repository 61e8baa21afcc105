"""Run Luigi 3.8.1's own test suite against real Luigi and against trunkline.

    .venv/bin/python compat/luigi_suite.py                 # every file, both engines
    .venv/bin/python compat/luigi_suite.py worker_test.py  # chosen files
    .venv/bin/python compat/luigi_suite.py --contrib       # test/contrib/ files too
    .venv/bin/python compat/luigi_suite.py --json out.json # also write the results

Luigi's tests are not part of this repository. Each run downloads Luigi's
source distribution from PyPI with pip, extracts its ``test/`` and
``examples/`` folders into a temporary folder, and runs the chosen files
there, one pytest process per file and engine:

- **luigi**: the environment's real ``luigi==3.8.1`` (trunkline's test extra
  installs it);
- **trunkline**: the same files with ``trunkline.install_as_luigi()`` in force
  (the alias's ``luigi`` package is put first on ``PYTHONPATH``), so every
  ``import luigi`` in the tests, their subprocesses included, gets trunkline.

It prints a table per file and one closing line: how many of the tests that
pass on Luigi in this run also pass on trunkline. Files that need services
that cannot run on this machine are listed in ``EXCLUDED`` with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

LUIGI_VERSION = "3.8.1"
REPO = Path(__file__).resolve().parent.parent

# What Luigi's tests import beyond trunkline's test extra.
TEST_REQUIREMENTS = [
    "mock", "jsonschema", "psutil", "hypothesis", "pytest-timeout", "toml", "mypy", "sqlalchemy",
    "prometheus-client", "datadog",
    "boto",  # contrib/s3_test.py imports boto.s3.key on Python <= 3.11
]

# Test files left out, with the reason. Anything not listed here runs.
EXCLUDED: dict[str, str] = {
    "test/visualiser/visualiser_test.py": "drives Luigi's visualiser with selenium and PhantomJS, which cannot be installed here",
    "test/_mysqldb_test.py": "not collected by Luigi's own runner (leading underscore); covered by contrib/mysqldb_test.py",
    "test/_test_ftp.py": "not collected by Luigi's own runner (leading underscore)",
}
EXCLUDED_CONTRIB: dict[str, str] = {
    "test/contrib/bigquery_gcloud_test.py": "needs a Google Cloud project and credentials",
    "test/contrib/_webhdfs_test.py": "needs a running WebHDFS (not collected by Luigi's runner either)",
    "test/contrib/hdfs/": "needs a Hadoop cluster (minicluster)",
    "test/contrib/docker_runner_test.py": "needs a Docker daemon, which cannot run on this machine",
}

_RESULT_LINE = re.compile(r"^(?P<id>\S.*?::.+?) (?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_OUTCOMES_THAT_PASS = {"PASSED", "XFAIL"}


@dataclass
class FileRun:
    """One engine's run of one test file."""

    outcomes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    timed_out: bool = False
    collection_error: bool = False
    tail: str = ""

    def passed(self) -> set[str]:
        return {test for test, outcome in self.outcomes.items() if outcome in _OUTCOMES_THAT_PASS}


def fetch_luigi_tests(into: Path) -> Path:
    """Download Luigi's sdist and extract test/ and examples/; returns the root."""
    download = into / "sdist"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         f"luigi=={LUIGI_VERSION}", "-d", str(download)],
        check=True,
    )
    (archive,) = download.glob("luigi-*.tar.gz")
    root = into / "luigi-tests"
    prefix = f"luigi-{LUIGI_VERSION}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith((prefix + "test/", prefix + "examples/"))]
        for member in members:
            member.name = member.name[len(prefix):]
        tar.extractall(root, members=members, filter="data")
    return root


def ensure_requirements() -> None:
    missing = []
    for requirement in TEST_REQUIREMENTS:
        module = {"pytest-timeout": "pytest_timeout", "prometheus-client": "prometheus_client"}.get(requirement, requirement)
        try:
            __import__(module)
        except ImportError:
            missing.append(requirement)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)


def choose_files(root: Path, chosen: list[str], with_contrib: bool) -> list[str]:
    if chosen:
        return [name if name.startswith("test/") else f"test/{name}" for name in chosen]
    excluded = dict(EXCLUDED) | (EXCLUDED_CONTRIB if with_contrib else {})
    files = []
    for path in sorted((root / "test").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not (path.name.endswith("_test.py") or path.name.startswith("test_")):
            continue
        if relative.startswith("test/contrib/") and not with_contrib:
            continue
        if any(relative == item or (item.endswith("/") and relative.startswith(item)) for item in excluded):
            continue
        files.append(relative)
    return files


def engine_environment(engine: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "LUIGI_CONFIG_PATH", "TRUNKLINE_AS_LUIGI"}}
    if engine == "trunkline":
        shim = REPO / "src" / "trunkline" / "_luigi_shim"
        env["PYTHONPATH"] = str(shim)
        env["TRUNKLINE_AS_LUIGI"] = "1"
    return env


def run_file(root: Path, test_file: str, engine: str, test_timeout: int, file_timeout: int) -> FileRun:
    command = [
        sys.executable, "-m", "pytest", test_file, "-v", "-p", "no:cacheprovider",
        "-o", "console_output_style=classic", "-o", "addopts=", f"--timeout={test_timeout}",
        "-W", "ignore::DeprecationWarning",
    ]
    started = time.monotonic()
    result = FileRun()
    with tempfile.TemporaryDirectory() as logdir:
        log_path = Path(logdir) / "pytest.log"
        # The child appends through its own descriptor; we read through ours,
        # so our seeks never move where it writes.
        with open(log_path, "ab") as child_out, open(log_path, errors="replace") as log:
            process = subprocess.Popen(
                command, cwd=root, env=engine_environment(engine), stdout=child_out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
            try:
                result.timed_out = not _wait_for_pytest(process, log, started + file_timeout)
            finally:
                _kill_leftovers(process.pid)
                process.wait()
            log.seek(0)
            output = log.read()
    result.seconds = time.monotonic() - started
    for line in output.splitlines():
        match = _RESULT_LINE.match(line)
        if match:
            # A test that failed in teardown prints PASSED then ERROR: the worst wins.
            test, outcome = match["id"], match["outcome"]
            if result.outcomes.get(test) not in {"FAILED", "ERROR"}:
                result.outcomes[test] = outcome
    result.collection_error = "ERROR collecting" in output or "errors during collection" in output
    result.tail = "\n".join(output.splitlines()[-40:])
    return result


_SUMMARY_LINE = re.compile(r"^=+ .*\bin [0-9.]+s\b.*=+$", re.MULTILINE)


def _wait_for_pytest(process: subprocess.Popen[bytes], log: typing.IO[str], deadline: float) -> bool:
    """Wait until pytest exits, or has printed its summary (a test may leave a
    thread or process that keeps it alive: that is not the file's failure).
    Returns False when the deadline passed first."""
    summary_seen_at: float | None = None
    while process.poll() is None:
        now = time.monotonic()
        if now > deadline:
            return False
        if summary_seen_at is None:
            log.seek(0)
            if _SUMMARY_LINE.search(log.read()):
                summary_seen_at = now
        elif now - summary_seen_at > 10:
            return True
        time.sleep(0.5)
    return True


def _kill_leftovers(session_id: int) -> None:
    """Whatever a test left running in the file's session dies with the file."""
    try:
        os.killpg(session_id, 9)
    except (ProcessLookupError, PermissionError):
        pass


# Luigi's tests that bind a fixed port (luigid's 8082, server_test's 8083) or write fixed
# /tmp paths fail whichever run comes second when two of them overlap, as the same file on
# both engines did with --jobs 2. Files sharing such a resource never run at the same time.
_SHARED_RESOURCE = {
    "test/scheduler_test.py": "port 8082",
    "test/task_running_resources_test.py": "port 8082",
    "test/visualiser/visualiser_test.py": "port 8082",
}


def _exclusive_locks(files: list[str]) -> dict[str, threading.Lock]:
    """One lock per file (its two engines take turns), shared by files using one resource."""
    by_resource: dict[str, threading.Lock] = {}
    return {f: by_resource.setdefault(_SHARED_RESOURCE.get(f, f), threading.Lock()) for f in files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="test files (relative to Luigi's test/); default: all")
    parser.add_argument("--contrib", action="store_true", help="include test/contrib/")
    parser.add_argument("--engines", default="luigi,trunkline", help="comma-separated: luigi,trunkline")
    parser.add_argument("--jobs", type=int, default=2, help="files run at once (default 2)")
    parser.add_argument("--test-timeout", type=int, default=30, help="seconds per test (default 30)")
    parser.add_argument("--file-timeout", type=int, default=600, help="seconds per file (default 600)")
    parser.add_argument("--json", type=Path, help="write per-test outcomes here")
    parser.add_argument("--show-failures", action="store_true", help="print each trunkline failure's id")
    parser.add_argument("--keep", action="store_true", help="keep the extracted tests (path printed)")
    args = parser.parse_args(argv)

    ensure_requirements()
    workdir = Path(tempfile.mkdtemp(prefix="luigi-suite-"))
    try:
        root = fetch_luigi_tests(workdir)
        files = choose_files(root, args.files, args.contrib)
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        # engine by engine, so the two workers mostly run different files (see _SHARED_RESOURCE)
        jobs = [(f, e) for e in engines for f in files]
        locks = _exclusive_locks(files)

        def run_job(job: tuple[str, str]) -> FileRun:
            with locks[job[0]]:
                return run_file(root, job[0], job[1], args.test_timeout, args.file_timeout)

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            runs = dict(zip(jobs, pool.map(run_job, jobs)))
        report(files, engines, runs, args.show_failures)
        if args.json:
            args.json.write_text(json.dumps(
                {f"{f} [{e}]": {"outcomes": r.outcomes, "seconds": round(r.seconds, 1), "timed_out": r.timed_out,
                                "collection_error": r.collection_error} for (f, e), r in runs.items()},
                indent=1, sort_keys=True))
    finally:
        if args.keep:
            print(f"extracted tests kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(files: list[str], engines: list[str], runs: dict[tuple[str, str], FileRun], show_failures: bool) -> None:
    both = engines == ["luigi", "trunkline"] or set(engines) == {"luigi", "trunkline"}
    header = f"{'file':46} {'luigi':>7} {'tl':>7} {'kept':>9} {'s luigi':>8} {'s tl':>7}  note"
    print(header)
    print("-" * len(header))
    total_luigi = total_kept = 0
    for test_file in files:
        luigi = runs.get((test_file, "luigi"))
        trunk = runs.get((test_file, "trunkline"))
        luigi_passed = luigi.passed() if luigi else set()
        trunk_passed = trunk.passed() if trunk else set()
        kept = luigi_passed & trunk_passed
        notes = []
        for name, run in (("luigi", luigi), ("trunkline", trunk)):
            if run and run.timed_out:
                notes.append(f"{name} timed out")
            if run and run.collection_error:
                notes.append(f"{name} collection error")
        total_luigi += len(luigi_passed)
        total_kept += len(kept)
        short = test_file.removeprefix("test/")
        print(f"{short:46} {len(luigi_passed) if luigi else '-':>7} {len(trunk_passed) if trunk else '-':>7} "
              f"{f'{len(kept)}/{len(luigi_passed)}' if both else '-':>9} "
              f"{luigi.seconds if luigi else 0:8.1f} {trunk.seconds if trunk else 0:7.1f}  {'; '.join(notes)}")
        if show_failures and both:
            for test in sorted(luigi_passed - trunk_passed):
                print(f"    not kept: {test} ({trunk.outcomes.get(test, 'not run') if trunk else 'not run'})")
    if both:
        share = 100.0 * total_kept / total_luigi if total_luigi else 0.0
        print(f"\n{total_kept} of {total_luigi} tests that pass on Luigi {LUIGI_VERSION} pass on trunkline ({share:.1f}%)")


if __name__ == "__main__":
    sys.exit(main())
