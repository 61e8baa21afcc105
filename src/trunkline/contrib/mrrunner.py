"""The program each Hadoop Streaming step runs (Luigi's ``luigi.contrib.mrrunner``).

    python mrrunner.py map|combiner|reduce  < records > records

Hadoop puts the files shipped with ``-file`` in the step's working directory:
this script, ``packages.tar`` (the job's packages, trunkline among them) and
``job-instance.pickle`` (the task). It unpacks the packages, unpickles the
task and runs the step on stdin/stdout. On failure the traceback is printed
hex-encoded after ``luigi-exc-hex=`` on stderr, where
``hadoop.fetch_task_failures`` looks for it, and the step exits non-zero.

Luigi 3.8.1's wheel leaves this module out, so ``luigi.contrib.hadoop``
cannot be imported from PyPI; trunkline ships it.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import tarfile
import traceback
from typing import IO, Any, Callable

# Run as a script, this file's folder comes first on sys.path; move it last so
# the unpacked packages (in the working directory) win over our neighbours.
if __name__ == "__main__":
    sys.path.append(sys.path.pop(0))


class Runner:
    """Unpacks the shipped packages, loads the pickled job and runs one step of it."""

    def __init__(self, job: Any = None) -> None:
        self.extract_packages_archive()
        if job is None:
            with open("job-instance.pickle", "rb") as f:
                job = pickle.load(f)
        self.job = job
        self.job._setup_remote()

    def run(self, kind: str, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        steps = {"map": self.job.run_mapper, "combiner": self.job.run_combiner, "reduce": self.job.run_reducer}
        if kind not in steps:
            raise ValueError(f"unknown step {kind!r}: expected map, combiner or reduce")
        steps[kind](stdin, stdout)

    def extract_packages_archive(self) -> None:
        if not os.path.exists("packages.tar"):
            return
        with tarfile.open("packages.tar") as tar:
            # our own archive, made by hadoop.create_packages_archive
            tar.extractall(filter="fully_trusted")
        if "" not in sys.path:
            sys.path.insert(0, "")


def print_exception(exc: BaseException) -> None:
    """Print the current traceback hex-encoded on stderr, for ``fetch_task_failures``."""
    text = traceback.format_exc()
    print("luigi-exc-hex=%s" % text.encode("utf-8").hex(), file=sys.stderr)


def main(
    args: list[str] | None = None,
    stdin: IO[str] = sys.stdin,
    stdout: IO[str] = sys.stdout,
    print_exception: Callable[[BaseException], None] = print_exception,
) -> None:
    try:
        logging.basicConfig(level=logging.WARN)
        kind = args[1] if args is not None else sys.argv[1]
        Runner().run(kind, stdin=stdin, stdout=stdout)
    except Exception as exc:
        print_exception(exc)
        raise


if __name__ == "__main__":
    main()
