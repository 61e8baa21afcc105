"""Extracting a tar archive without letting its member names escape the target directory.

A member called ``../../etc/cron.d/x`` (or an absolute path) would otherwise be written outside
the directory the caller chose; ``SafeExtractor`` refuses the whole archive before writing
anything if one member would land outside it.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable


class SafeExtractor:
    """Extracts tar archives into ``path``, refusing any that would write outside it."""

    def __init__(self, path: str = ".") -> None:
        self.path = path

    @staticmethod
    def _is_within_directory(directory: str, target: str) -> bool:
        # commonpath, not a string prefix: "/data/out-evil" is not inside "/data/out".
        directory = os.path.abspath(directory)
        return os.path.commonpath([directory, os.path.abspath(target)]) == directory

    def safe_extract(
        self,
        tar_path: str,
        members: Iterable[tarfile.TarInfo] | None = None,
        *,
        numeric_owner: bool = False,
    ) -> None:
        """Extract ``tar_path`` (all of it, or ``members``) into this extractor's directory.

        Raises RuntimeError, having written nothing, if a member's path leaves the directory.
        """
        with tarfile.open(tar_path, "r") as tar:
            for member in tar.getmembers():
                if not self._is_within_directory(self.path, os.path.join(self.path, member.name)):
                    raise RuntimeError(
                        f"Attempted Path Traversal in Tar File: member {member.name!r} of "
                        f"{tar_path} would be written outside {self.path}"
                    )
            tar.extractall(self.path, members, numeric_owner=numeric_owner)
