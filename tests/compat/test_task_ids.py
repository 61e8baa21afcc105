"""trunkline computes the same task ids, families and reprs as Luigi 3.8.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import trunkline
import trunkline.date_interval

HERE = Path(__file__).parent
VECTORS = json.loads((HERE / "task_id_vectors.json").read_text())["cases"]
sys.path.insert(0, str(HERE))
from task_id_cases import define  # noqa: E402


@pytest.fixture(scope="module")
def tasks() -> dict:
    return define(trunkline)


@pytest.mark.parametrize("case", sorted(VECTORS))
def test_task_id_matches_luigi(tasks: dict, case: str) -> None:
    expected = VECTORS[case]
    task = tasks[case]
    assert task.task_family == expected["family"]
    assert task.to_str_params(only_significant=True, only_public=True) == expected["params"]
    assert task.task_id == expected["task_id"]


@pytest.mark.parametrize("case", sorted(VECTORS))
def test_repr_matches_luigi(tasks: dict, case: str) -> None:
    assert repr(tasks[case]) == VECTORS[case]["repr"]


def test_the_table_covers_many_cases() -> None:
    assert len(VECTORS) >= 20
