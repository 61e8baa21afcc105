"""``luigi-grep``: find tasks in a running scheduler's graph by name prefix or by status."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen


class LuigiGrep:
    """Searches the dependency graph a scheduler at ``host:port`` serves on ``/api/graph``."""

    def __init__(self, host: str, port: int | str) -> None:
        self._host = host
        self._port = port

    @property
    def graph_url(self) -> str:
        return f"http://{self._host}:{self._port}/api/graph"

    def _fetch_json(self) -> Any:
        print("Fetching from url: " + self.graph_url)
        with urlopen(self.graph_url) as response:
            return json.loads(response.read().decode("utf-8"))

    def _build_results(self, jobs: dict[str, Any], job: str) -> dict[str, Any]:
        # A dependency the graph does not hold (not yet added) counts as UNKNOWN.
        by_status: defaultdict[str, list[str]] = defaultdict(list)
        for dep in jobs[job]["deps"]:
            by_status[jobs[dep]["status"] if dep in jobs else "UNKNOWN"].append(dep)
        return {"name": job, "status": jobs[job]["status"], "deps_by_status": by_status}

    def prefix_search(self, job_name_prefix: str) -> Iterator[dict[str, Any]]:
        """The tasks whose id starts with ``job_name_prefix``."""
        jobs = self._fetch_json()["response"]
        for job in jobs:
            if job.startswith(job_name_prefix):
                yield self._build_results(jobs, job)

    def status_search(self, status: str) -> Iterator[dict[str, Any]]:
        """The tasks in ``status`` (any letter case)."""
        jobs = self._fetch_json()["response"]
        for job in jobs:
            if jobs[job]["status"].lower() == status.lower():
                yield self._build_results(jobs, job)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        "luigi-grep", description="Search the tasks of a running scheduler through its JSON API."
    )
    parser.add_argument("--scheduler-host", default="localhost", help="the scheduler's host name")
    parser.add_argument("--scheduler-port", default="8082", help="the scheduler's port")
    parser.add_argument("--prefix", default=None, help="show tasks whose id starts with this")
    parser.add_argument("--status", default=None, help="show tasks in this status")
    args = parser.parse_args(argv)
    grep = LuigiGrep(args.scheduler_host, args.scheduler_port)
    results: Iterator[dict[str, Any]] = iter(())
    if args.prefix:
        results = grep.prefix_search(args.prefix)
    elif args.status:
        results = grep.status_search(args.status)
    for job in results:
        print(f"{job['name']}: {job['status']}, Dependencies:")
        for status, deps in job["deps_by_status"].items():
            print(f"  status={status}")
            for dep in deps:
                print(f"    {dep}")


if __name__ == "__main__":
    main()
