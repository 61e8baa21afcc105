"""The error the ``hadoop`` command line clients raise."""

from __future__ import annotations

from typing import Any


class HDFSCliError(Exception):
    """A ``hadoop fs`` command exited non-zero; carries its exit code and both outputs."""

    def __init__(self, command: Any, returncode: int, stdout: Any, stderr: Any) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"Command {command!r} failed [exit code {returncode}]\n"
            f"---stdout---\n{stdout}\n---stderr---\n{stderr}------------"
        )
