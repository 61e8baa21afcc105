"""What every configuration parser shares: one instance per parser class, reloadable."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

logger = logging.getLogger("luigi-interface")


class BaseParser:
    _instance: ClassVar[Any] = None
    _config_paths: ClassVar[list[str]]

    @classmethod
    def instance(cls, *args: Any, **kwargs: Any) -> Any:
        """The process-wide parser of this kind, reading its files on first use."""
        if cls._instance is None:
            cls._instance = cls(*args, **kwargs)
            loaded = cls._instance.reload()
            logger.debug("Loaded %r", loaded)
        return cls._instance

    @classmethod
    def add_config_path(cls, path: str) -> None:
        cls._config_paths.append(path)
        # Not read yet: the first use reads every path, so a bad file named by
        # LUIGI_CONFIG_PATH fails there (reported cleanly), not at import.
        if cls._instance is not None:
            cls.reload()

    @classmethod
    def reload(cls) -> Any:
        return cls.instance().read(cls._config_paths)
