"""Pickling a task for another process that runs it (Spark driver, Hadoop node, cluster job).

A task class defined in the script being run lives in ``__main__``; in the
other process ``__main__`` is the runner, so the pickle must name the script's
module instead. Luigi rewrites ``c__main__`` in the pickled bytes, which only
matches pickle protocol 0; here the class is pickled under the script's module
name directly, whatever the protocol.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any


def dumps_task(task: Any, protocol: int | None = None) -> bytes:
    """Pickle task; a class from ``__main__`` is referenced as the script's module."""
    cls = type(task)
    if cls.__module__ != "__main__":
        return pickle.dumps(task, protocol=protocol)
    module_name = os.path.basename(sys.argv[0]).rsplit(".", 1)[0]
    added = module_name not in sys.modules
    if added:
        # pickle checks that module.name is the class it pickles
        sys.modules[module_name] = sys.modules["__main__"]
    cls.__module__ = module_name
    try:
        return pickle.dumps(task, protocol=protocol)
    finally:
        cls.__module__ = "__main__"
        if added:
            del sys.modules[module_name]
