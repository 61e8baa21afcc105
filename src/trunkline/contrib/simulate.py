""":class:`RunAnywayTarget`: an output that makes its task run on every invocation.

The target "exists" once ``done()`` is called, and only for the current
execution of the pipeline: state files live under
``<temp_dir>/<pid of the first process that made such a target>/``, so a new
run (a new pid) starts with none done, while worker child processes of the
same run share the parent's directory (the pid is kept in shared memory).
Directories older than ``temp_time`` seconds are swept away as targets are made.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from multiprocessing import Value
from typing import Any

import trunkline as luigi

logger = logging.getLogger("luigi-interface")


class RunAnywayTarget(luigi.Target):
    """Pass the task itself (``RunAnywayTarget(self)``) and call ``done()`` at the end of ``run()``."""

    # Where state files go; subclass to move them.
    temp_dir = os.path.join(tempfile.gettempdir(), "luigi-simulate")
    temp_time = 24 * 3600  # seconds a run's directory is kept
    # The pid of the first process of this run to make such a target; shared with
    # forked worker processes so they find the parent's state files.
    unique = Value("i", 0)

    def __init__(self, task_obj: Any) -> None:
        self.task_id: str = task_obj.task_id
        if self.unique.value == 0:
            with self.unique.get_lock():
                if self.unique.value == 0:
                    self.unique.value = os.getpid()
        self._sweep_old_runs()

    def _sweep_old_runs(self) -> None:
        if not os.path.isdir(self.temp_dir):
            return
        limit = time.time() - self.temp_time
        for name in os.listdir(self.temp_dir):
            path = os.path.join(self.temp_dir, name)
            try:
                if os.path.isdir(path) and os.stat(path).st_mtime < limit:
                    shutil.rmtree(path)
                    logger.debug("Deleted temporary directory %s", path)
            except FileNotFoundError:
                pass  # another process swept it first

    def __str__(self) -> str:
        return self.task_id

    def get_path(self) -> str:
        """The state file of this task in this run: named by the md5 of the task id."""
        digest = hashlib.md5(self.task_id.encode(), usedforsecurity=False).hexdigest()
        logger.debug("Hash %s corresponds to task %s", digest, self.task_id)
        return os.path.join(self.temp_dir, str(self.unique.value), digest)

    def exists(self) -> bool:
        return os.path.isfile(self.get_path())

    def done(self) -> None:
        """Mark the task done for the rest of this run."""
        logger.info("Marking %s as done", self)
        path = self.get_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
