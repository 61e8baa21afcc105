"""Optional client libraries of the database integrations.

Each ``contrib`` database module must import without its client library, so
that ``import trunkline.contrib.postgres`` works on a machine that never talks
to PostgreSQL. Where the library is absent, the module-level name it would have
bound holds a :class:`MissingLibrary` instead: the first attribute a caller
reaches on it raises an ImportError that says which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, NoReturn


class MissingLibrary:
    """Stands in for a module that could not be imported."""

    def __init__(self, module: str, extra: str, reason: BaseException | None = None) -> None:
        self._module = module
        self._extra = extra
        self._reason = reason

    def _fail(self) -> NoReturn:
        raise ImportError(
            f"{self._module} is needed here but is not installed: "
            f'pip install "trunkline[{self._extra}]"'
        ) from self._reason

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            # copy, pickle and mock probe dunders; those must not import anything.
            raise AttributeError(name)
        self._fail()

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._fail()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<missing {self._module}: pip install \"trunkline[{self._extra}]\">"


def optional_import(module: str, extra: str) -> ModuleType | Any:
    """The module if it imports, else a :class:`MissingLibrary` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        return MissingLibrary(module, extra, error)


def require(library: ModuleType | Any) -> None:
    """Raise the install hint now if ``library`` is missing (call at construction)."""
    if isinstance(library, MissingLibrary):
        library._fail()


def optional_attribute(module: str, name: str, extra: str) -> Any:
    """``module.name`` if the module imports, else a :class:`MissingLibrary`."""
    loaded = optional_import(module, extra)
    return loaded if isinstance(loaded, MissingLibrary) else getattr(loaded, name)


class _NeverRaised(Exception):
    """Stands in for an exception class of a library that is not installed, so
    ``except SomeLibraryError`` stays valid (nothing raises it)."""


def optional_exception(module: str, name: str) -> Any:
    """The exception class ``module.name``, or one nothing ever raises."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return _NeverRaised


def sibling_module(name: str) -> Any:
    """``trunkline.contrib.<name>``, a module another integration family ships
    (hadoop, s3, gcs, gcp), or None when it is not installed. Imported by name
    so the type checker does not need it."""
    try:
        return importlib.import_module(f"trunkline.contrib.{name}")
    except ImportError:
        return None
