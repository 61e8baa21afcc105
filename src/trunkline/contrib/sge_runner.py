"""The program an SGE job runs on a compute node (Luigi's ``luigi.contrib.sge_runner``).

    python sge_runner.py <shared tmp dir> <project dir> [--no-tarball]

It unpacks ``packages.tar`` from the shared folder (unless ``--no-tarball``:
the project is reachable from the node already), unpickles the
``SGEJobTask`` in ``job-instance.pickle`` there and calls its ``work()``.
The submitting worker sees the job leave the queue and reads ``job.err``.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys

from trunkline.safe_extractor import SafeExtractor  # noqa: F401 - a name Luigi's module has

# The same unpacking as LSF's runner (Luigi's name for it here is private).
from trunkline.contrib.lsf_runner import extract_packages_archive as _extract_packages_archive


def _do_work_on_compute_node(work_dir: str, tarball: bool = True) -> None:
    if tarball:
        # optional: unpacking for every job costs I/O on a busy shared drive
        _extract_packages_archive(work_dir)
    os.chdir(work_dir)
    with open("job-instance.pickle", "rb") as f:
        job = pickle.load(f)
    job.work()


def main(args: list[str] = sys.argv) -> None:
    try:
        tarball = "--no-tarball" not in args
        logging.basicConfig(level=logging.WARN)
        work_dir = args[1]
        if not os.path.exists(work_dir):
            raise FileNotFoundError(f"First argument to sge_runner.py must be a directory that exists: {work_dir}")
        sys.path.append(args[2])  # the project folder on the submitting machine
        _do_work_on_compute_node(work_dir, tarball)
    except Exception as exc:
        print(exc)  # lands in job.err, which the submitting worker reads
        raise


if __name__ == "__main__":
    # run as a script: our folder must not shadow top-level packages
    sys.path.append(sys.path.pop(0))
    main()
