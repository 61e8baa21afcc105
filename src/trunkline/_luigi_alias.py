"""``install_as_luigi()``: make ``import luigi`` give trunkline's modules.

Code written for Luigi, and the libraries it uses, say ``import luigi`` and
``from luigi.worker import Worker``. After ``install_as_luigi()``:

- ``luigi`` is a package object of its own whose attributes are trunkline's
  top-level names, except ``__version__``/``VERSION``, which answer the Luigi
  release whose behaviour trunkline implements (``LUIGI_VERSION``);
- ``luigi.x.y`` *is* ``trunkline.x.y`` (the same module object), so a patch
  of ``luigi.worker.time`` is a patch of ``trunkline.worker.time``;
- ``importlib.metadata.version("luigi")`` answers ``LUIGI_VERSION`` even when
  no Luigi distribution is installed;
- Python processes started from this one do the same on their first
  ``import luigi``: the call puts a tiny ``luigi`` package first on
  ``PYTHONPATH`` that installs the alias and then steps aside.

How: one finder at the front of ``sys.meta_path``. It answers for ``luigi``
and every ``luigi.*`` name, so a real Luigi installed beside trunkline is never
reached. The loader hands back trunkline's already-imported module instead of
executing anything, and puts back the module's own ``__spec__`` (the import
system overwrites it), so ``trunkline.worker.__spec__.name`` stays
``"trunkline.worker"``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

LUIGI_VERSION = "3.8.1"
ALIAS_ENV = "TRUNKLINE_AS_LUIGI"
_SHIM_DIR = str(Path(__file__).with_name("_luigi_shim"))


class LuigiAliasError(ImportError):
    """``luigi`` was imported from a real Luigi before ``install_as_luigi()``."""


class _LuigiPackage(types.ModuleType):
    """The ``luigi`` package object: trunkline's names, Luigi's version."""

    def __getattr__(self, name: str) -> Any:
        import trunkline

        try:
            return getattr(trunkline, name)
        except AttributeError:
            raise AttributeError(f"module 'luigi' has no attribute {name!r}") from None

    def __dir__(self) -> list[str]:
        import trunkline

        return sorted(set(super().__dir__()) | set(dir(trunkline)))


def _make_luigi_package() -> _LuigiPackage:
    import trunkline

    package = _LuigiPackage("luigi", trunkline.__doc__)
    package.__file__ = trunkline.__file__
    package.__path__ = list(trunkline.__path__)
    package.__all__ = list(trunkline.__all__)  # type: ignore[attr-defined]
    package.__version__ = LUIGI_VERSION  # type: ignore[attr-defined]
    package.VERSION = LUIGI_VERSION  # type: ignore[attr-defined]
    package.install_as_luigi = install_as_luigi  # type: ignore[attr-defined]
    # Registered now, as Luigi's own __init__ imports it first: importing it
    # later would make the import system set luigi.__version__ to the module.
    sys.modules.setdefault("luigi.__version__", _make_version_module())
    return package


def _make_version_module() -> types.ModuleType:
    module = types.ModuleType("luigi.__version__", "The Luigi release trunkline implements.")
    module.VERSION = LUIGI_VERSION  # type: ignore[attr-defined]
    return module


def _trunkline_name(luigi_name: str) -> str:
    return "trunkline" + luigi_name[len("luigi"):]


class _AliasLoader(importlib.abc.Loader):
    """Returns an existing module object; executes nothing."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self._own_spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self._module

    def exec_module(self, module: types.ModuleType) -> None:
        if self._own_spec is not None:
            module.__spec__ = self._own_spec

    # ``python -m luigi`` (runpy) asks the loader for code to run as __main__.
    def get_code(self, fullname: str) -> types.CodeType | None:
        spec = self._own_spec
        if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
            return None
        code: types.CodeType | None = spec.loader.get_code(spec.name)
        return code

    def is_package(self, fullname: str) -> bool:
        return hasattr(self._module, "__path__")


class _LuigiDistribution(importlib.metadata.Distribution):
    """What ``importlib.metadata`` answers for ``luigi`` under the alias."""

    def read_text(self, filename: str) -> str | None:
        if filename == "METADATA":
            return f"Metadata-Version: 2.1\nName: luigi\nVersion: {LUIGI_VERSION}\n"
        return None

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        return Path(_SHIM_DIR) / path


class _LuigiAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "luigi":
            module: types.ModuleType = _make_luigi_package()
        elif fullname.startswith("luigi."):
            try:
                module = importlib.import_module(_trunkline_name(fullname))
            except ModuleNotFoundError as exc:
                if exc.name != _trunkline_name(fullname):
                    raise
                return None
        else:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__")
        )

    def find_distributions(
        self, context: importlib.metadata.DistributionFinder.Context = importlib.metadata.DistributionFinder.Context()
    ) -> Iterator[importlib.metadata.Distribution]:
        name = context.name
        if name is not None and name.lower().replace("-", "_") == "luigi":
            yield _LuigiDistribution()


def _installed_finder() -> _LuigiAliasFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, _LuigiAliasFinder):
            return finder
    return None


def _export_to_subprocesses() -> None:
    os.environ[ALIAS_ENV] = "1"
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if _SHIM_DIR not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([_SHIM_DIR, *paths])


def install_as_luigi() -> types.ModuleType:
    """Make ``import luigi`` (and every ``luigi.*``) resolve to trunkline.

    Returns the ``luigi`` package object. Calling it again does nothing more.
    Raises ``LuigiAliasError`` when a real Luigi was imported first.
    """
    existing = sys.modules.get("luigi")
    if existing is not None and not isinstance(existing, _LuigiPackage):
        origin = getattr(existing, "__file__", None) or repr(existing)
        raise LuigiAliasError(
            f"install_as_luigi(): 'luigi' was already imported from {origin}, so code that "
            "imported it holds Luigi's classes, not trunkline's. Call "
            "trunkline.install_as_luigi() before anything imports luigi (first thing in your "
            "entry point or conftest.py), or run your workflow with the trunkline command, "
            "which does it for you."
        )
    if _installed_finder() is None:
        sys.meta_path.insert(0, _LuigiAliasFinder())
    _export_to_subprocesses()
    importlib.invalidate_caches()
    return importlib.import_module("luigi")


def alias_disabled_by_environment() -> bool:
    """``TRUNKLINE_AS_LUIGI=0`` turns off the commands' automatic alias."""
    return os.environ.get(ALIAS_ENV, "").strip().lower() in {"0", "false", "no", "off"}
