"""What a person watching a run sees while it runs.

In a terminal, one live line (rich) shows tasks done / running / pending /
failed and redraws as they change. Anywhere else (cron, CI, a log file) the same
counts go to the log as a plain line, at most every ``interval`` seconds and once
at the end, so logs stay readable.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

logger = logging.getLogger("luigi-interface")


@dataclass(slots=True)
class Counts:
    done: int = 0
    running: int = 0
    pending: int = 0
    failed: int = 0

    def describe(self) -> str:
        return (
            f"{self.done} done, {self.running} running, {self.pending} pending, {self.failed} failed"
        )


class Progress:
    """Receives the worker's counts; shows them live in a terminal, else logs them."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._live: Any = None
        self._last_logged = 0.0
        self._last_drawn = 0.0
        self._last_text = ""
        self.counts = Counts()

    @property
    def interactive(self) -> bool:
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty and isatty())

    def start(self) -> None:
        if self.interactive:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self._stream)
            self._live = Live(self._render(), console=console, transient=True, auto_refresh=False)
            self._live.start()
        self._last_logged = time.monotonic()

    def update(self, counts: Counts) -> None:
        self.counts = counts
        now = time.monotonic()
        if self._live is not None:
            # Redraw at most ten times a second: a fast run finishes thousands
            # of tasks a second and drawing each would cost more than the tasks.
            if now - self._last_drawn >= 0.1:
                self._live.update(self._render(), refresh=True)
                self._last_drawn = now
            return
        if now - self._last_logged >= self._interval:
            self._log()
            self._last_logged = now

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self.counts.done or self.counts.failed:
            self._log()

    def _log(self) -> None:
        text = self.counts.describe()
        if text != self._last_text:
            logger.info("Progress: %s", text)
            self._last_text = text

    def _render(self) -> Any:
        from rich.text import Text

        c = self.counts
        line = Text()
        line.append(f"{c.done} done", style="green")
        line.append("  ")
        line.append(f"{c.running} running", style="cyan")
        line.append("  ")
        line.append(f"{c.pending} pending", style="yellow")
        line.append("  ")
        line.append(f"{c.failed} failed", style="red" if c.failed else "dim")
        return line
