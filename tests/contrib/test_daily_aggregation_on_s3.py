"""The seed example, examples/daily_aggregation.py, with its data on S3 (moto's server).

The only change to the example is the target class: ``luigi.LocalTarget``
becomes ``S3Target`` (and its import). ``--paths-root`` then names a bucket.
This is what docs/integrations/storage.md shows.
"""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path
from types import ModuleType

import trunkline as luigi
from trunkline.contrib.s3 import S3Client

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "daily_aggregation.py"


def load_example_on_s3(tmp_path: Path) -> ModuleType:
    source = EXAMPLE.read_text()
    assert source.count("luigi.LocalTarget") >= 2  # the example's outputs and inputs
    changed = source.replace("luigi.LocalTarget", "S3Target").replace(
        "import trunkline as luigi\n", "import trunkline as luigi\nfrom trunkline.contrib.s3 import S3Target\n", 1
    )
    path = tmp_path / "daily_aggregation_s3.py"
    path.write_text(changed)
    spec = importlib.util.spec_from_file_location("daily_aggregation_s3", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_with_outputs_on_s3(tmp_path: Path, s3_config: dict[str, str], bucket: str) -> None:
    example = load_example_on_s3(tmp_path)
    client = S3Client()
    today = datetime.date(2024, 5, 20)
    root = f"s3://{bucket}/data"
    # Dumps for every day the aggregations read except the oldest, which has not "arrived".
    for back in range(15):
        day = today - datetime.timedelta(days=back)
        if back < 14:
            client.put_string(f"{back}\n1\n", f"{root}/dumps/{day:%Y-%m-%d}.txt")
    args = ["--paths-root", root, "--date", f"{today:%Y-%m-%d}", "--days", "2", "--local-scheduler", "--no-lock"]

    # The 14-day window ending yesterday needs the missing dump: it waits, the rest run.
    luigi.run(args, main_task_cls=example.RunAll)
    done = sorted(p.rsplit("/", 1)[-1] for p in client.listdir(f"{root}/aggregated"))
    assert done == [
        "2024-05-19-3.txt", "2024-05-19-7.txt",
        "2024-05-20-14.txt", "2024-05-20-3.txt", "2024-05-20-7.txt",
    ]
    # Window of 3 ending today: dumps 0, 1, 2 days back, each "<back>\n1\n".
    assert client.get_as_string(f"{root}/aggregated/2024-05-20-3.txt") == f"{0 + 1 + 2 + 3}\n"

    # The dump arrives; the next run computes only what is missing.
    client.put_string("14\n1\n", f"{root}/dumps/{today - datetime.timedelta(days=14):%Y-%m-%d}.txt")
    before = {s.key: s.last_modified for s in client.listdir(f"{root}/aggregated", return_key=True)}
    assert luigi.run(args, main_task_cls=example.RunAll) is True
    after = {s.key: s.last_modified for s in client.listdir(f"{root}/aggregated", return_key=True)}
    assert len(after) == 6
    assert {k: after[k] for k in before} == before  # finished outputs were not recomputed
    assert client.get_as_string(f"{root}/aggregated/2024-05-19-14.txt") == f"{sum(range(1, 15)) + 14}\n"
