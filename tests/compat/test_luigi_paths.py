"""Every name Luigi users import, at Luigi's module path, exists in trunkline."""

from __future__ import annotations

import importlib

import pytest

import trunkline

PUBLIC_NAMES = {
    "": sorted(set(trunkline.__all__) - {"__version__"}),
    "task": [
        "Task", "ExternalTask", "WrapperTask", "Config", "DynamicRequirements", "MixinNaiveBulkComplete",
        "BulkCompleteNotImplementedError", "namespace", "auto_namespace", "externalize", "flatten",
        "flatten_output", "getpaths", "task_id_str",
    ],
    "task_register": ["Register", "TaskClassException", "TaskClassNotFoundException", "TaskClassAmbigiousException", "load_task"],
    "parameter": [
        "Parameter", "ParameterVisibility", "ParameterException", "MissingParameterException",
        "UnknownParameterException", "DuplicateParameterException", "OptionalParameterTypeWarning",
        "UnconsumedParameterWarning", "OptionalParameterMixin", "FrozenOrderedDict",
    ],
    "target": ["Target", "FileSystem", "FileSystemTarget", "FileSystemException", "FileAlreadyExists",
               "MissingParentDirectory", "NotADirectory", "AtomicLocalFile"],
    "local_target": ["LocalTarget", "LocalFileSystem", "atomic_file"],
    "mock": ["MockTarget", "MockFileSystem"],
    "format": ["Format", "ChainFormat", "Text", "UTF8", "Nop", "Gzip", "Bzip2", "SysNewLine", "MixedUnicodeBytes",
               "TextFormat", "GzipFormat", "Bzip2Format", "NewlineFormat", "get_default_format"],
    "date_interval": ["DateInterval", "Date", "Week", "Month", "Year", "Custom"],
    "event": ["Event"],
    "util": ["inherits", "requires", "copies", "delegates", "common_params", "previous", "get_previous_completed"],
    "interface": ["build", "run", "core", "PidLockAlreadyTakenExit"],
    "worker": ["Worker", "TaskProcess", "TaskException", "worker", "TaskStatusReporter", "SchedulerMessage", "KeepAliveThread"],
    "scheduler": ["Scheduler", "RetryPolicy", "scheduler", "PENDING", "RUNNING", "DONE", "FAILED", "DISABLED", "UNKNOWN",
                  "BATCH_RUNNING", "UPSTREAM_RUNNING", "UPSTREAM_MISSING_INPUT", "UPSTREAM_FAILED", "UPSTREAM_DISABLED"],
    "task_status": ["PENDING", "RUNNING", "DONE", "FAILED", "DISABLED", "UNKNOWN", "BATCH_RUNNING", "SUSPENDED"],
    "rpc": ["RemoteScheduler", "RPCError"],
    "server": ["app", "run"],
    "configuration": ["get_config", "add_config_path", "LuigiConfigParser", "LuigiTomlParser"],
    "execution_summary": ["LuigiStatusCode", "LuigiRunResult", "summary", "execution_summary"],
    "retcodes": ["retcode", "run_with_retcodes"],
    "lock": ["acquire_for", "get_info", "getpcmd"],
    "notifications": ["send_error_email", "send_email", "format_task_error", "email", "smtp"],
    "cmdline_parser": ["CmdlineParser"],
    "setup_logging": ["InterfaceLogging", "DaemonLogging"],
    "freezing": ["FrozenOrderedDict", "recursively_freeze", "recursively_unfreeze"],
    "tools.deps": ["find_deps", "get_task_requires"],
    "tools.deps_tree": ["print_tree"],
}


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in PUBLIC_NAMES.items() for n in names])
def test_name_is_importable_from_the_same_module_path_as_in_luigi(module: str, name: str) -> None:
    path = f"trunkline.{module}" if module else "trunkline"
    assert hasattr(importlib.import_module(path), name), f"{path}.{name} is missing"


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in PUBLIC_NAMES.items() for n in names if m])
def test_luigi_has_the_same_name_there(module: str, name: str) -> None:
    """Guards the list itself: each entry is a real Luigi name at that path."""
    luigi_module = pytest.importorskip(f"luigi.{module}")
    if name in {"atomic_file", "FrozenOrderedDict"} and not hasattr(luigi_module, name):
        pytest.skip(f"luigi.{module} has no {name}; trunkline keeps it there for convenience")
    assert hasattr(luigi_module, name)
