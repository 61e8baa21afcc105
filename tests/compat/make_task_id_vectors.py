"""Record Luigi 3.8.1's task ids for the cases in task_id_cases.py.

Run once (needs ``pip install luigi==3.8.1``):
    python tests/compat/make_task_id_vectors.py > tests/compat/task_id_vectors.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import luigi  # noqa: E402
import luigi.date_interval  # noqa: E402,F401

from task_id_cases import define  # noqa: E402


def main() -> None:
    tasks = define(luigi)
    vectors = {
        name: {"family": task.task_family, "params": task.to_str_params(only_significant=True, only_public=True), "task_id": task.task_id, "repr": repr(task)}
        for name, task in tasks.items()
    }
    json.dump({"luigi_version": luigi.__version__, "cases": vectors}, sys.stdout, indent=2, ensure_ascii=False, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
