"""Stop a remote job when the task's process is told to stop.

The worker ends a task process with SIGTERM (a timeout, Ctrl-C, a stopped
worker). A task that started work elsewhere (a container, a cluster job) must
not leave it running: inside ``cancel_on_sigterm(cancel, what)`` a SIGTERM
first calls ``cancel()``, then exits the process with ``128 + signal``.
Signal handlers can only be set from the main thread; elsewhere (a task run
in a thread by a test) the block runs without one.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

logger = logging.getLogger("luigi-interface")


@contextmanager
def cancel_on_sigterm(cancel: Callable[[], object], what: str) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        logger.info("Task stopped, %s", what)
        try:
            cancel()
        finally:
            raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
