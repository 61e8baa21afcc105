#!/usr/bin/env python3
"""A stand-in for the ``hadoop`` command, enough for ``hadoop jar <streaming jar> ...``.

No Hadoop distribution can be installed here, so the tests put this script on
PATH as ``hadoop``. It does what Hadoop Streaming does with the command line
it is given, on local files: copies each ``-file`` into a fresh working
directory and links each ``-files src#name``, pipes the ``-input`` files
through the ``-mapper`` command, sorts by key, runs ``-combiner`` and
``-reducer`` the same way (each in that working directory, through the shell),
and writes ``part-00000`` and ``_SUCCESS`` into the ``-output`` directory.
It prints a job id, a tracking URL and the counters the steps reported as
Hadoop does, and appends its argv as one JSON line to ``$STANDIN_HADOOP_LOG``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

_COUNTER = re.compile(r"^reporter:counter:(?P<group>[^,]*),(?:(?P<name>[^,]*),)?(?P<count>-?\d+)$")


def parse(argv: list[str]) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        option, value = argv[i], argv[i + 1]
        options.setdefault(option.lstrip("-"), []).append(value)
        i += 2
    return options


def run_step(command: str, lines: list[str], workdir: str, counters: Counter[tuple[str, ...]]) -> list[str]:
    step = subprocess.run(command, shell=True, cwd=workdir, input="".join(lines), capture_output=True, text=True)
    for line in step.stderr.splitlines():
        found = _COUNTER.match(line)
        if found:
            key = (found["group"], found["name"]) if found["name"] is not None else (found["group"],)
            counters[key] += int(found["count"])
        else:
            print(line, file=sys.stderr)
    if step.returncode != 0:
        print(f"ERROR streaming.StreamJob: step {command!r} failed with code {step.returncode}", file=sys.stderr)
        sys.exit(1)
    return step.stdout.splitlines(keepends=True)


def by_key(lines: list[str]) -> list[str]:
    # Hadoop Streaming's default key: the text up to the first tab
    return sorted(lines, key=lambda line: line.split("\t", 1)[0])


def read_inputs(paths: list[str]) -> list[str]:
    lines: list[str] = []
    for path in paths:
        files = [path] if os.path.isfile(path) else sorted(
            os.path.join(path, name) for name in os.listdir(path) if not name.startswith(("_", "."))
        )
        for name in files:
            with open(name) as f:
                lines.extend(f.readlines())
    return lines


def main(argv: list[str]) -> int:
    log = os.environ.get("STANDIN_HADOOP_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(argv) + "\n")
    if argv[:1] != ["jar"]:
        print(f"stand-in hadoop only runs 'jar', not {argv[:1]}", file=sys.stderr)
        return 2
    options = parse(argv[2:])
    workdir = tempfile.mkdtemp(prefix="standin-hadoop-")
    try:
        for shipped in options.get("file", []):
            shutil.copy(shipped, workdir)
        for group in options.get("files", []):
            for item in group.split(","):
                src, _, name = item.partition("#")
                os.symlink(os.path.abspath(src), os.path.join(workdir, name or os.path.basename(src)))
        print("INFO mapreduce.Job: Running job: job_standin_0001", file=sys.stderr)
        print("INFO mapreduce.Job: The url to track the job: http://127.0.0.1:8088/proxy/job_standin_0001/",
              file=sys.stderr)
        counters: Counter[tuple[str, ...]] = Counter()
        records = run_step(options["mapper"][0], read_inputs(options["input"]), workdir, counters)
        if "reducer" in options:
            records = by_key(records)
            if "combiner" in options:
                records = by_key(run_step(options["combiner"][0], records, workdir, counters))
            records = run_step(options["reducer"][0], records, workdir, counters)
        output = options["output"][0]
        os.makedirs(output)
        with open(os.path.join(output, "part-00000"), "w") as f:
            f.writelines(records)
        open(os.path.join(output, "_SUCCESS"), "w").close()
        print(f"INFO mapreduce.Job: Counters: {len(counters)}", file=sys.stderr)
        for key, count in sorted(counters.items()):
            print("\t\t" + ",".join(key) + f"={count}", file=sys.stderr)
        print("INFO mapreduce.Job: Job job_standin_0001 completed successfully", file=sys.stderr)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
