"""The scheduler's core: the rooms of the state machine, put together.

:class:`SchedulerCore` holds the state and the rules and nothing else: it reads
no clock (the shell sets ``State.now`` once per call), opens no file and sends
nothing (it appends effects to ``State.effects``; the shell saves the state
and carries the effects out). Each room is a mixin in its own module:

- :mod:`.tasks` - ``add_task``: registering tasks and their outcomes;
- :mod:`.work` - ``get_work``: the best ready task, batches, resources;
- :mod:`.leasing` - ``work_cycle``: trunkline's one-round-trip leases;
- :mod:`.deadlines` - ``prune``: disconnects, retries, re-enables, removals;
- :mod:`.queries` - read-only views for the visualiser and tools.

Luigi's public method names live on :class:`trunkline.scheduler.Scheduler`,
the shell, where Luigi's tests patch them.
"""

from __future__ import annotations

from typing import Any

from trunkline._scheduler.deadlines import DeadlinesMixin
from trunkline._scheduler.leasing import LeasingMixin
from trunkline._scheduler.queries import QueriesMixin
from trunkline._scheduler.records import RetryPolicy
from trunkline._scheduler.state import State
from trunkline._scheduler.tasks import TasksMixin


class SchedulerCore(TasksMixin, DeadlinesMixin, LeasingMixin, QueriesMixin):
    """The state and the rules; see the module docstring."""

    def __init__(self, config: Any, resources: dict[str, int], history: Any = None) -> None:
        self._config = config
        self._state = State(config, history=history)
        self._resources = resources
        self._paused = False
        self._message_seq = 0
        self._retry_policies: dict[Any, RetryPolicy] = {}
        # Running tasks another worker found complete (its DONE was not applied:
        # only the running worker reports on a run). Should the running worker
        # vanish, the task is DONE rather than FAILED: its outputs are there. Kept
        # in memory only; a restart forgets them and such a task fails as usual.
        self._done_elsewhere: set[str] = set()
