"""The program an LSF job runs on a compute node (Luigi's ``luigi.contrib.lsf_runner``).

    python lsf_runner.py <shared tmp dir>

It unpacks ``packages.tar`` there, unpickles the ``LSFJobTask`` in
``job-instance.pickle`` and calls its ``work()``.
"""

from __future__ import annotations

import logging
import os
import sys

try:
    # dill copes with more objects, when the submitting and compute nodes differ
    import dill as pickle  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    import pickle

from trunkline.safe_extractor import SafeExtractor


def do_work_on_compute_node(work_dir: str) -> None:
    extract_packages_archive(work_dir)
    os.chdir(work_dir)
    with open("job-instance.pickle", "rb") as pickle_file_handle:
        job = pickle.load(pickle_file_handle)
    job.work()


def extract_packages_archive(work_dir: str) -> None:
    package_file = os.path.join(work_dir, "packages.tar")
    if not os.path.exists(package_file):
        return
    SafeExtractor(work_dir).safe_extract(package_file)
    if work_dir not in sys.path:
        sys.path.insert(0, work_dir)
    if "" not in sys.path:
        sys.path.insert(0, "")


def main(args: list[str] = sys.argv) -> None:
    """Run ``work()`` of the task pickled in the folder given as the first argument."""
    try:
        logging.basicConfig(level=logging.WARN)
        work_dir = args[1]
        if not os.path.exists(work_dir):
            raise FileNotFoundError(f"First argument to lsf_runner.py must be a directory that exists: {work_dir}")
        do_work_on_compute_node(work_dir)
    except Exception as exc:
        print(exc)
        raise


if __name__ == "__main__":
    sys.path.append(sys.path.pop(0))
    main()
