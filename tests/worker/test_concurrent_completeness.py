"""complete() checks that are slow (remote storage) run concurrently; fast ones don't need to."""

from __future__ import annotations

import threading
import time

import trunkline as luigi


def test_slow_complete_checks_overlap_while_the_graph_is_walked() -> None:
    lock = threading.Lock()
    in_flight = 0
    most_at_once = 0

    class Remote(luigi.ExternalTask):
        n = luigi.IntParameter()

        def complete(self):
            nonlocal in_flight, most_at_once
            with lock:
                in_flight += 1
                most_at_once = max(most_at_once, in_flight)
            time.sleep(0.02)  # a round trip to remote storage
            with lock:
                in_flight -= 1
            return False  # not arrived yet: the walk has to check every one

    class Everything(luigi.WrapperTask):
        def requires(self):
            return [Remote(n) for n in range(60)]

    # only data is missing, so scheduling succeeded
    assert luigi.build([Everything()], local_scheduler=True) is True
    assert most_at_once > 1


def test_fast_checks_stay_on_one_thread() -> None:
    threads: set[int] = set()

    class Local(luigi.ExternalTask):
        n = luigi.IntParameter()

        def complete(self):
            threads.add(threading.get_ident())
            return True

    class Everything(luigi.WrapperTask):
        def requires(self):
            return [Local(n) for n in range(200)]

    luigi.build([Everything()], local_scheduler=True)
    assert threads == {threading.get_ident()}
