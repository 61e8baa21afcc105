"""``trunkline.worker.signal`` is the module the worker uses: patching it changes what it does."""

from __future__ import annotations

import signal as real_signal
from unittest import mock

import trunkline as luigi
from trunkline import worker


class Quick(luigi.Task):
    ran = False

    def run(self) -> None:
        Quick.ran = True

    def complete(self) -> bool:
        return Quick.ran


def test_a_worker_runs_where_the_signal_module_has_no_sigusr1() -> None:
    Quick.ran = False
    with mock.patch("trunkline.worker.signal", spec=["signal"]) as patched:
        with worker.Worker() as w:
            w.add(Quick())
            assert w.run()
    assert Quick.ran
    # The worker looked signals up through the patched name, not a saved reference.
    assert all(call.args[0] != real_signal.SIGUSR1 for call in patched.signal.call_args_list)
