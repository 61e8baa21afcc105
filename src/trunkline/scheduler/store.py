"""Where the scheduler's state goes so that it survives a restart.

The scheduler calls ``save(scheduler)`` after every change it acknowledges and
``load_into(scheduler)`` once at construction. :class:`MemoryStore` keeps
nothing (the local scheduler lives as long as its run).
"""

from __future__ import annotations

from typing import Any, Protocol


class Store(Protocol):
    def load_into(self, scheduler: Any) -> None: ...

    def save(self, scheduler: Any) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Keeps nothing: the state lives and dies with the scheduler object."""

    def load_into(self, scheduler: Any) -> None:
        return None

    def save(self, scheduler: Any) -> None:
        return None

    def close(self) -> None:
        return None
