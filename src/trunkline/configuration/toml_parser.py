"""TOML configuration (``luigi.toml``, ``trunkline.toml``), read with tomllib.

Values keep their TOML types; tables inside a section are frozen so they can be
parameter values. A ``[logging]`` table is applied by the logging set-up.
"""

from __future__ import annotations

import os
import tomllib
from configparser import ConfigParser as ConfigParser
from configparser import NoOptionError, NoSectionError
from typing import Any, ClassVar

from trunkline.configuration.base_parser import BaseParser
from trunkline.configuration.cfg_parser import ConfigFileError
from trunkline.freezing import recursively_freeze

_NO_DEFAULT = object()

# Luigi's flag for its optional `toml` package; tomllib is always there.
toml_enabled = True


class MissingSectionError(NoSectionError, KeyError):
    """No such table. A KeyError too: Luigi's TOML parser raises KeyError here."""

    __str__ = NoSectionError.__str__


class MissingOptionError(NoOptionError, KeyError):
    """No such key in the table. A KeyError too, as MissingSectionError."""

    __str__ = NoOptionError.__str__


class LuigiTomlParser(BaseParser):
    NO_DEFAULT = _NO_DEFAULT
    enabled = toml_enabled
    _instance: ClassVar[Any] = None
    _config_paths: ClassVar[list[str]] = [
        "/etc/luigi/luigi.toml",
        "luigi.toml",
        "/etc/trunkline/trunkline.toml",
        "trunkline.toml",
    ]

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def read(self, config_paths: list[str]) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {}
        for path in config_paths:
            if not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    loaded = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                # tomllib's message ends with "(at line L, column C)"
                raise ConfigFileError(
                    f"Cannot parse configuration file {os.path.abspath(path)}: {exc}"
                ) from exc
            except (UnicodeDecodeError, OSError) as exc:
                raise ConfigFileError(
                    f"Cannot read configuration file {os.path.abspath(path)}: {exc}"
                ) from exc
            for section, content in loaded.items():
                data.setdefault(section, {}).update(content if isinstance(content, dict) else {})
        for section, content in data.items():
            if section == "logging":
                continue  # handed to logging.config.dictConfig as plain dicts
            for key, value in content.items():
                if isinstance(value, dict):
                    content[key] = recursively_freeze(value)
        self.data = data
        return data

    def get(self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any) -> Any:
        try:
            return self.data[section][option]
        except KeyError:
            if default is _NO_DEFAULT:
                if section not in self.data:
                    raise MissingSectionError(section) from None
                raise MissingOptionError(option, section) from None
            return default

    def getboolean(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:
        return self.get(section, option, default)

    def getint(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:
        return self.get(section, option, default)

    def getfloat(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:
        return self.get(section, option, default)

    def getintdict(self, section: str) -> dict[str, Any]:
        return dict(self.data.get(section, {}))

    def set(self, section: str, option: str, value: Any = None) -> None:
        self.data.setdefault(section, {})[option] = value

    def has_option(self, section: str, option: str) -> bool:
        return section in self.data and option in self.data[section]

    def has_section(self, section: str) -> bool:
        return section in self.data

    def add_section(self, section: str) -> None:
        self.data.setdefault(section, {})

    def remove_option(self, section: str, option: str) -> bool:
        return self.data.get(section, {}).pop(option, _NO_DEFAULT) is not _NO_DEFAULT

    def items(self, section: str) -> list[tuple[str, Any]]:
        return list(self.data.get(section, {}).items())

    def __getitem__(self, name: str) -> Any:
        return self.data[name]
