"""Optional client libraries: imported when first used, with a message naming the extra.

Every ``trunkline.contrib`` module imports without its client library, so a
project can import a module for its names (or patch them in tests) on a machine
where the library is absent. The library is loaded on first use; when it is
missing the ImportError says which pip extra brings it in.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or fail with an ImportError telling how to install ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs the Python package {module.split('.')[0]!r}, which is not installed: "
            f'pip install "trunkline[{extra}]"'
        ) from exc


def optional(module: str) -> ModuleType | None:
    """Import ``module`` if it is installed, else None (for module-level names Luigi exposes)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
