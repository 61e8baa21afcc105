"""INI-style configuration (``luigi.cfg``, ``trunkline.cfg``), read with configparser.

Values may use ``%(other)s`` (configparser's interpolation) and ``${ENVVAR}``
(an environment variable; a missing one is an error naming it). Options are
found under their underscore spelling and, as a deprecated fallback, with
dashes. A file that cannot be parsed raises :class:`ConfigFileError` naming the
file and the line.
"""

from __future__ import annotations

import configparser
import os
import re
import warnings
from collections.abc import Callable, Iterable
from configparser import (
    BasicInterpolation,
    ConfigParser,
    Interpolation,
    InterpolationError,
    NoOptionError,
    NoSectionError,
)
from typing import Any, ClassVar

from trunkline.configuration.base_parser import BaseParser


class ConfigFileError(configparser.Error):
    """A configuration file could not be parsed; says which file and line."""


class InterpolationMissingEnvvarError(InterpolationError):
    """A value refers to an environment variable that is not set."""

    def __init__(self, option: str, section: str, value: str, envvar: str) -> None:
        message = (
            f"Config refers to a nonexisting environment variable {envvar}. "
            f"Section [{section}], option {option}={value}"
        )
        InterpolationError.__init__(self, option, section, message)


class EnvironmentInterpolation(Interpolation):
    """Replaces ``${ENVVAR}`` with the variable's value."""

    _ENV = re.compile(r"\$\{([^}]+)\}")

    def before_get(self, parser: Any, section: str, option: str, value: str, defaults: Any) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise InterpolationMissingEnvvarError(option, section, value, name)
            return os.environ[name]

        return self._ENV.sub(substitute, value)


class CombinedInterpolation(Interpolation):
    """Applies several interpolations one after another."""

    def __init__(self, interpolations: Iterable[Interpolation]) -> None:
        self._interpolations = list(interpolations)

    def before_get(self, parser: Any, section: str, option: str, value: str, defaults: Any) -> str:
        for step in self._interpolations:
            value = step.before_get(parser, section, option, value, defaults)
        return value

    def before_read(self, parser: Any, section: str, option: str, value: str) -> str:
        for step in self._interpolations:
            value = step.before_read(parser, section, option, value)
        return value

    def before_set(self, parser: Any, section: str, option: str, value: str) -> str:
        for step in self._interpolations:
            value = step.before_set(parser, section, option, value)
        return value

    def before_write(self, parser: Any, section: str, option: str, value: str) -> str:
        for step in self._interpolations:
            value = step.before_write(parser, section, option, value)
        return value


_NO_DEFAULT = object()


class LuigiConfigParser(BaseParser, ConfigParser):
    NO_DEFAULT = _NO_DEFAULT
    enabled = True
    optionxform = str  # type: ignore[assignment,method-assign]  # option names are case-sensitive
    _instance: ClassVar[Any] = None
    _config_paths: ClassVar[list[str]] = [
        "/etc/luigi/client.cfg",  # deprecated
        "/etc/luigi/luigi.cfg",
        "client.cfg",  # deprecated
        "luigi.cfg",
        "/etc/trunkline/trunkline.cfg",
        "trunkline.cfg",
    ]
    _DEFAULT_INTERPOLATION = CombinedInterpolation([BasicInterpolation(), EnvironmentInterpolation()])

    def read(self, filenames: Any, encoding: str | None = None) -> list[str]:  # type: ignore[override]
        paths = [filenames] if isinstance(filenames, (str, os.PathLike)) else list(filenames)
        read_ok = []
        for path in paths:
            if not os.path.isfile(path):
                continue
            try:
                read_ok.extend(super().read(path, encoding=encoding))
            except configparser.ParsingError as exc:
                lineno, text = exc.errors[0] if exc.errors else (None, "")
                raise ConfigFileError(
                    f"Cannot parse configuration file {path}, line {lineno}: {text.strip()!r} is neither "
                    "a [section] header nor a 'key = value' line"
                ) from exc
            except configparser.Error as exc:
                line = getattr(exc, "lineno", None)
                where = f"{path}, line {line}" if line else str(path)
                raise ConfigFileError(f"Cannot parse configuration file {where}: {exc}") from exc
        return read_ok

    @classmethod
    def reload(cls) -> Any:
        deprecated = [p for p in cls._config_paths if os.path.basename(p) == "client.cfg" and os.path.exists(p)]
        if deprecated:
            warnings.warn(
                f"Configuration files named 'client.cfg' are deprecated in favor of 'luigi.cfg'. Found: {deprecated!r}",
                DeprecationWarning,
                stacklevel=2,
            )
        return cls.instance().read(cls._config_paths)

    def _get_with_default(
        self,
        method: Callable[..., Any],
        section: str,
        option: str,
        default: Any,
        expected_type: type | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            try:
                return method(self, section, option.replace("-", "_"), **kwargs)
            except (NoOptionError, NoSectionError):
                dashed = option.replace("_", "-")
                value = method(self, section, dashed, **kwargs)
                warnings.warn(
                    f"Configuration [{section}] {dashed} (with dashes) should be avoided. "
                    f"Please use underscores: {option.replace('-', '_')}.",
                    DeprecationWarning,
                    stacklevel=3,
                )
                return value
        except (NoOptionError, NoSectionError):
            if default is _NO_DEFAULT:
                raise
            if expected_type is not None and default is not None and not isinstance(default, expected_type):
                raise
            return default

    def has_option(self, section: str, option: str) -> bool:  # type: ignore[override]
        underscored = option.replace("-", "_")
        if ConfigParser.has_option(self, section, underscored):
            return True
        return ConfigParser.has_option(self, section, underscored.replace("_", "-"))

    def get(self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._get_with_default(ConfigParser.get, section, option, default, **kwargs)

    def getboolean(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:  # type: ignore[override]
        return self._get_with_default(ConfigParser.getboolean, section, option, default, bool)

    def getint(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:  # type: ignore[override]
        return self._get_with_default(ConfigParser.getint, section, option, default, int)

    def getfloat(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:  # type: ignore[override]
        return self._get_with_default(ConfigParser.getfloat, section, option, default, float)

    def getintdict(self, section: str) -> dict[str, int]:
        try:
            defaults = {key for key, _ in self.items("DEFAULT")}
            return {key: int(value) for key, value in self.items(section) if key not in defaults}
        except NoSectionError:
            return {}

    def set(self, section: str, option: str, value: str | None = None) -> None:
        if not ConfigParser.has_section(self, section):
            ConfigParser.add_section(self, section)
        ConfigParser.set(self, section, option, value)
