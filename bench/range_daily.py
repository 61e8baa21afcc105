"""How long RangeDaily takes to decide what to run: 3 years of daily tasks,
1,000 days already done. trunkline's RangeDaily (one listing) and
RangeDailyBase (one complete() per day) beside Luigi's RangeDaily.

    python bench/range_daily.py
"""

from __future__ import annotations

import datetime
import os
import statistics
import tempfile
import time
from typing import Any

START = datetime.date(2021, 4, 1)
NOW = int(datetime.datetime(2024, 3, 31, 12, tzinfo=datetime.timezone.utc).timestamp())


def make_outputs(root: str) -> None:
    for i in range(1000):
        open(os.path.join(root, f"{START + datetime.timedelta(days=i):%Y-%m-%d}.txt"), "w").close()


def timed(make_range: Any, reset: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        reset()  # a fresh range object each time (not one from the instance cache)
        started = time.perf_counter()
        make_range().requires()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    import luigi
    import luigi.tools.range as luigi_range

    import trunkline
    from trunkline.tools import range as tl_range

    root = tempfile.mkdtemp(prefix="range-bench-")
    make_outputs(root)

    def task_class(engine: Any) -> Any:
        class Daily(engine.Task):
            date = engine.DateParameter()

            def output(self):
                return engine.LocalTarget(os.path.join(root, f"{self.date:%Y-%m-%d}.txt"))

        return Daily

    tl_daily, luigi_daily = task_class(trunkline), task_class(luigi)
    common = {"start": START, "days_back": 4000, "now": NOW, "task_limit": 10_000}
    tl_reset = trunkline.task_register.Register.clear_instance_cache
    luigi_reset = luigi.task_register.Register.clear_instance_cache
    rows = [
        ("trunkline RangeDaily (one listing)", lambda: tl_range.RangeDaily(of=tl_daily, **common), tl_reset),
        ("trunkline RangeDailyBase (per day)", lambda: tl_range.RangeDailyBase(of=tl_daily, **common), tl_reset),
        ("luigi RangeDaily", lambda: luigi_range.RangeDaily(of=luigi_daily, **common), luigi_reset),
    ]
    print("3 years of daily tasks, 1,000 complete; median of 5 requires() calls")
    for label, make, reset in rows:
        print(f"  {label:38} {timed(make, reset) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
