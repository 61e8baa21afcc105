"""trunkline.mypy (Luigi's mypy plugin) type-checks task parameters and task construction."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy comes with the test extra")


def _check(tmp_path: Path, code: str) -> str:
    (tmp_path / "pyproject.toml").write_text('[tool.mypy]\nplugins = ["trunkline.mypy"]\n')
    (tmp_path / "flow.py").write_text(textwrap.dedent(code))
    # mypy raises the interpreter's recursion limit for itself; put it back for the other tests.
    recursion_limit = sys.getrecursionlimit()
    try:
        stdout, stderr, _ = api.run(
            ["--no-incremental", "--cache-dir=/dev/null", "--config-file", str(tmp_path / "pyproject.toml"),
             str(tmp_path / "flow.py")]
        )
    finally:
        sys.setrecursionlimit(recursion_limit)
    return stdout + stderr


def test_wrong_argument_types_unknown_arguments_and_bad_defaults_are_reported(tmp_path: Path) -> None:
    out = _check(
        tmp_path,
        """
        import trunkline as luigi

        class Load(luigi.Task):
            day: int = luigi.IntParameter()
            name: str = luigi.Parameter()
            label: str = luigi.Parameter(default=1)

        Load(day="1", name="x", colour="red")
        """,
    )
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in out
    assert 'Argument "day" to "Load" has incompatible type "str"; expected "int"' in out
    assert 'Unexpected keyword argument "colour" for "Load"' in out
    assert "Found 3 errors" in out


def test_parameter_type_annotations_inheritance_and_custom_parameters_check(tmp_path: Path) -> None:
    out = _check(
        tmp_path,
        """
        import trunkline as luigi

        class Where(luigi.PathParameter):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)

        class Base(luigi.Task):
            where = Where()
            day: luigi.IntParameter = luigi.IntParameter()

        class Child(Base):
            loud = luigi.BoolParameter(default=False)

        Base(day=1)
        Child(day=2, loud=True)
        Child(day="3")
        """,
    )
    assert out.count("error:") == 1
    assert 'Argument "day" to "Child" has incompatible type "str"; expected "int"' in out
