"""Every module Luigi 3.8.1 ships outside ``luigi.contrib`` has a trunkline twin holding the
same module-level names, each of the same kind (class, function, module or constant).

The list is derived from the installed ``luigi==3.8.1`` (the test extra installs it), never kept
by hand: libraries built on Luigi import deep names and their test suites patch them, so a name
that Luigi grows shows up here as a failure rather than as a user's ``AttributeError``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import types
import typing
from pathlib import Path

import pytest

luigi = pytest.importorskip("luigi", reason="the real luigi==3.8.1 comes with the test extra")

# Names trunkline leaves out on purpose; each reason is mirrored in docs/compatibility.md
# ("Module parity"). Keys are "module:name" in Luigi's spelling.
EXCEPTIONS: dict[str, str] = {
    "luigi:warnings": "set only when Luigi's deprecated `[core] autoload_range` is unset; "
    "trunkline loads the range tools without the deprecation dance",
    "luigi:warning_message": "the text of that same deprecation warning",
    "luigi.notifications:TestNotificationsTask": "a task Luigi defines for its own "
    "`luigi.notifications` test command, not an API",
    "luigi.configuration.toml_parser:toml": "the third-party `toml` package Luigi reads TOML "
    "with; trunkline uses the standard library's tomllib (`toml_enabled` is always true)",
    "luigi.mypy:TaskAttribute": "a helper class inside Luigi's mypy plugin; mypy only calls "
    "`plugin()` and the TaskPlugin it returns, which trunkline.mypy has",
    "luigi.mypy:TaskTransformer": "as TaskAttribute",
    "luigi.tools.range:relativedelta": "python-dateutil's class, imported for month arithmetic; "
    "trunkline steps months itself and does not depend on python-dateutil",
    "luigi.rpc:Retrying": "tenacity's retry loop, imported by Luigi's client; trunkline's client "
    "retries with Luigi's attempts, waits and log lines without depending on tenacity",
    "luigi.rpc:stop_after_attempt": "as Retrying",
    "luigi.rpc:wait_fixed": "as Retrying",
    "luigi.rpc:method": "the loop variable left behind by the loop that adds Luigi's "
    "RemoteScheduler methods; trunkline defines those methods in the class",
    "luigi.rpc:method_name": "as method",
    "luigi.db_task_history:Base": "the SQLAlchemy declarative base of Luigi's ORM tables; "
    "trunkline writes the same tables without the ORM (SQLAlchemy is optional)",
    "luigi.db_task_history:_upgrade_schema": "a private step of Luigi's ORM set-up; trunkline "
    "creates and upgrades the same tables itself",
}
_SUMMARY_HELPERS = (
    "_depth_first_search _get_comments _get_len_of_params _get_number_of_tasks "
    "_get_number_of_tasks_for _get_run_by_other_worker _get_set_of_params _get_str_one_parameter "
    "_get_str_ranging_multiple_parameters _get_unique_param_keys _group_tasks_by_name_and_status "
    "_populate_unknown_statuses _serialize_first_param"
).split()
EXCEPTIONS.update(
    {
        f"luigi.execution_summary:{name}": "a private step of Luigi's summary text; trunkline "
        "builds the same text differently (`_summary_dict`, which tests patch, is kept)"
        for name in _SUMMARY_HELPERS
    }
)

LUIGI_ROOT = Path(luigi.__file__).parent


def _luigi_module_names() -> list[str]:
    # Walked by hand instead of pkgutil.walk_packages, which would import luigi.contrib's
    # subpackages (and their optional dependencies) just to list them.
    found = ["luigi"]

    def walk(path: list[str], prefix: str) -> None:
        for info in pkgutil.iter_modules(path, prefix):
            if info.name == "luigi.contrib":
                continue
            found.append(info.name)
            if info.ispkg:
                spec = importlib.util.find_spec(info.name)
                assert spec is not None and spec.submodule_search_locations is not None
                walk(list(spec.submodule_search_locations), info.name + ".")

    walk([str(LUIGI_ROOT)], "luigi.")
    return sorted(found)


def _kind(value: object) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    return "constant"


def _home(value: object) -> str:
    home = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
    return home if isinstance(home, str) else ""


def _from_contrib(value: object) -> bool:
    return _home(value).startswith("luigi.contrib")


def _from_typing(value: object, name: str) -> bool:
    # `from typing import Dict` in Luigi is there for annotations; nobody reaches
    # `luigi.parameter.Dict`. TypeVars Luigi defines itself (parameter.T) still count.
    for module in (typing, _typing_extensions()):
        if module is not None and getattr(module, name, object()) is value:
            return True
    return False


def _typing_extensions() -> types.ModuleType | None:
    try:
        return importlib.import_module("typing_extensions")
    except ImportError:
        return None


def _names_by_ast(module_name: str) -> dict[str, str | None]:
    # For a Luigi module that cannot be imported here (an optional dependency is missing): its
    # top-level bindings read from the source; the kind is known only for def/class/import.
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    names: dict[str, str | None] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names[node.name] = "function"
            elif isinstance(node, ast.ClassDef):
                names[node.name] = "class"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = "module"
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    names[alias.asname or alias.name] = None
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = None
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return names


def _luigi_names(module_name: str) -> dict[str, str | None]:
    if module_name == "luigi.mypy":
        # luigi.mypy imports mypy's modules in an order that only works once mypy.plugin is
        # loaded (what mypy itself does before it loads a plugin).
        importlib.import_module("mypy.plugin")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return _names_by_ast(module_name)
    names: dict[str, str | None] = {}
    for name, value in vars(module).items():
        if name.startswith("__") and name.endswith("__"):
            continue
        if value is luigi and name == "luigi":
            # `import luigi` inside a Luigi module binds the package itself; reaching the
            # package through one of its modules is not an API.
            continue
        if _from_contrib(value):
            # contrib is the subject of its own issues (tools.deps imports S3Target & co. from
            # it for an isinstance check, which would make trunkline.tools.deps need boto3).
            continue
        if _from_typing(value, name):
            continue
        if module_name == "luigi.mypy" and (
            _home(value).split(".")[0] == "mypy"
            or getattr(importlib.import_module("mypy.nodes"), name, object()) is value
        ):
            continue  # mypy's own classes, constants and aliases the plugin is written with
        names[name] = _kind(value)
    return names


MODULES = _luigi_module_names()


def _twin(module_name: str) -> str:
    return "trunkline" + module_name[len("luigi") :]


def _import_twin(module_name: str) -> types.ModuleType:
    if module_name == "luigi.__version__":
        # trunkline.__version__ is trunkline's own version string; the module answering Luigi's
        # version is the one install_as_luigi() gives `import luigi.__version__`.
        from trunkline._luigi_alias import _make_version_module

        return _make_version_module()
    return importlib.import_module(_twin(module_name))


def test_luigi_here_is_the_real_luigi_not_the_alias() -> None:
    # Under install_as_luigi() every comparison below would compare trunkline with itself.
    import trunkline

    assert Path(luigi.__file__).parent != Path(trunkline.__file__).parent


def test_luigi_has_the_modules_this_test_expects() -> None:
    # Guards the walk itself: a broken walk would make every other test vacuous.
    assert {"luigi.parameter", "luigi.worker", "luigi.tools.range", "luigi.configuration.core"} <= set(
        MODULES
    )


def test_luigi_contrib_is_an_importable_package() -> None:
    contrib = importlib.import_module("trunkline.contrib")
    assert hasattr(contrib, "__path__")


def _cases() -> list[object]:
    cases: list[object] = []
    for name in MODULES:
        cases.append(pytest.param(name, id=name))
    return cases


@pytest.mark.parametrize("module_name", _cases())
def test_module_has_every_name_luigi_has(module_name: str) -> None:
    twin = _import_twin(module_name)
    # Luigi's packages also hold the submodules imported so far; import the twins' the same way.
    for other in MODULES:
        if other.startswith(module_name + ".") and other.count(".") == module_name.count(".") + 1:
            _import_twin(other)
    missing: list[str] = []
    wrong_kind: list[str] = []
    for name, kind in sorted(_luigi_names(module_name).items()):
        key = f"{module_name}:{name}"
        if key in EXCEPTIONS:
            continue
        if not hasattr(twin, name):
            missing.append(name)
        elif kind is not None and _kind(getattr(twin, name)) != kind:
            wrong_kind.append(f"{name} (luigi: {kind}, trunkline: {_kind(getattr(twin, name))})")
    assert not missing and not wrong_kind, (
        f"{_twin(module_name)} lacks {missing}; different kind: {wrong_kind}"
    )


def test_every_exception_names_a_real_luigi_name() -> None:
    # An exception for a name Luigi no longer has would hide nothing and rot silently.
    for key in EXCEPTIONS:
        module_name, name = key.split(":")
        assert name in _luigi_names(module_name) or name in _names_by_ast(module_name), key
