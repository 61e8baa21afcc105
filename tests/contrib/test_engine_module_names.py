"""Every module-level name of Luigi 3.8.1's engine modules exists in trunkline's twin.

Luigi's sources come from the installed luigi package (the test extra); names
are read with ast, so Luigi's modules are never imported (luigi.contrib.hadoop
cannot be: the PyPI wheel lacks mrrunner).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ENGINE_MODULES = [
    "external_program", "spark", "pyspark_runner", "hadoop", "hadoop_jar", "pig", "scalding",
    "docker_runner", "kubernetes", "ecs", "batch", "dataproc", "beam_dataflow", "pai",
    "lsf", "lsf_runner", "sge", "sge_runner",
]
# Names Luigi's module binds that trunkline leaves out on purpose, with the reason.
LEFT_OUT: dict[tuple[str, str], str] = {}


def _luigi_source(module: str) -> Path:
    spec = importlib.util.find_spec("luigi")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("luigi 3.8.1 is not installed (it comes with trunkline's test extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "contrib" / f"{module}.py"


def _top_level_names(source: str) -> set[str]:
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.Try):
                # `try: import x except ImportError: ...` binds x when it can
                visit(node.body)
            elif isinstance(node, ast.If):
                visit(node.body)

    visit(ast.parse(source).body)
    return {name for name in names if name != "__future__" and not name.startswith("__")}


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_trunkline_module_has_every_name_luigis_has(module: str) -> None:
    path = _luigi_source(module)
    if not path.exists():
        pytest.skip(f"Luigi's wheel has no contrib/{module}.py")
    ours = importlib.import_module(f"trunkline.contrib.{module}")
    # Optional client libraries (bound only when installed) and the storage/database modules
    # Luigi imports at the top: trunkline imports those when used, so a local job needs none.
    optional_clients = {"boto3", "docker", "APIError", "ContainerError", "ImageNotFound", "KubeConfig",
                        "HTTPClient", "Job", "Pod", "google", "discovery", "DEFAULT_CREDENTIALS",
                        "authenticate_kwargs", "rs", "HTTPError", "ujson", "dill", "mechanize", "gcp",
                        "bigquery", "gcs", "hdfs", "s3"}
    missing = sorted(
        name for name in _top_level_names(path.read_text())
        if not hasattr(ours, name) and name not in optional_clients and (module, name) not in LEFT_OUT
    )
    assert missing == []


@pytest.mark.parametrize("module", ENGINE_MODULES + ["mrrunner"])
def test_each_engine_module_imports_and_is_reachable_through_the_luigi_alias(module: str) -> None:
    ours = importlib.import_module(f"trunkline.contrib.{module}")
    assert ours.__name__ == f"trunkline.contrib.{module}"
