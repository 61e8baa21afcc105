"""Extract a tar archive without letting a member escape the target folder (Luigi's ``luigi.safe_extractor``).

The cluster runners (``contrib.lsf_runner``, ``contrib.sge_runner``) unpack the
job's packages on a shared drive; an archive member named ``../../x`` or an
absolute path must not write outside it.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable


class SafeExtractor:
    """Extracts archives into ``path``; refuses any member that would land outside it."""

    def __init__(self, path: str = ".") -> None:
        self.path = path

    @staticmethod
    def _is_within_directory(directory: str, target: str) -> bool:
        directory = os.path.abspath(directory)
        target = os.path.abspath(target)
        return os.path.commonpath([directory, target]) == directory

    def safe_extract(
        self, tar_path: str, members: Iterable[tarfile.TarInfo] | None = None, *, numeric_owner: bool = False
    ) -> None:
        with tarfile.open(tar_path, "r") as tar:
            for member in tar.getmembers():
                if not self._is_within_directory(self.path, os.path.join(self.path, member.name)):
                    raise RuntimeError(f"Attempted Path Traversal in Tar File: {member.name}")
            tar.extractall(self.path, members, numeric_owner=numeric_owner, filter="fully_trusted")
