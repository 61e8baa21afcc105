"""INI-style configuration (``luigi.cfg``, ``trunkline.cfg``), read with configparser.

Values may use ``%(other)s`` (configparser's interpolation) and ``${ENVVAR}``
(an environment variable; a missing one is an error naming it). Options are
found under their underscore spelling and, as a deprecated fallback, with
dashes. A file that cannot be parsed raises :class:`ConfigFileError` naming the
file and the line.
"""

from __future__ import annotations

import ast
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


def _shown_line(text: str) -> str:
    """configparser reports a bad line as its repr; show the line itself."""
    try:
        return repr(str(ast.literal_eval(text)).strip())
    except (ValueError, SyntaxError):
        return text


def _describe_read_error(path: str, exc: Exception) -> str:
    """One line saying which file, which line, and what is wrong there."""
    prefix = f"Cannot parse configuration file {path}"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        if exc.line.lstrip().startswith("["):
            return f"{prefix}, line {exc.lineno}: {exc.line.strip()!r} is not a [section] header (missing ']'?)"
        return (
            f"{prefix}, line {exc.lineno}: {exc.line.strip()!r} comes before any [section] header "
            "(put it under a section such as [core])"
        )
    if isinstance(exc, configparser.ParsingError):
        lineno, text = exc.errors[0] if exc.errors else (None, "")
        return f"{prefix}, line {lineno}: {_shown_line(text)} is neither a [section] header nor a 'key = value' line"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"{prefix}, line {exc.lineno}: option {exc.option!r} appears twice in section [{exc.section}]"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"{prefix}, line {exc.lineno}: section [{exc.section}] appears twice"
    if isinstance(exc, UnicodeDecodeError):
        return f"{prefix}: it is not UTF-8 text ({exc.reason} at byte {exc.start})"
    line = getattr(exc, "lineno", None)
    where = f"{prefix}, line {line}" if line else prefix
    return f"{where}: {exc}"


class LuigiConfigParser(BaseParser, ConfigParser):
    NO_DEFAULT = _NO_DEFAULT
    enabled = True
    optionxform = str  # type: ignore[assignment]  # option names are case-sensitive
    _instance: ClassVar[Any] = None
    _config_paths: ClassVar[list[str]] = [
        "/etc/luigi/client.cfg",  # deprecated
        "/etc/luigi/luigi.cfg",
        "client.cfg",  # deprecated
        "luigi.cfg",
        "/etc/trunkline/trunkline.cfg",
        "trunkline.cfg",
    ]
    _DEFAULT_INTERPOLATION = CombinedInterpolation(
        [BasicInterpolation(), EnvironmentInterpolation()]
    )

    def read(self, filenames: Any, encoding: str | None = None) -> list[str]:  # type: ignore[override]
        paths = [filenames] if isinstance(filenames, (str, os.PathLike)) else list(filenames)
        read_ok = []
        for path in paths:
            if not os.path.isfile(path):
                continue
            try:
                read_ok.extend(super().read(path, encoding=encoding))
            except (configparser.Error, UnicodeDecodeError, OSError) as exc:
                raise ConfigFileError(_describe_read_error(os.path.abspath(path), exc)) from exc
        return read_ok

    @classmethod
    def reload(cls) -> Any:
        deprecated = [
            p
            for p in cls._config_paths
            if os.path.basename(p) == "client.cfg" and os.path.exists(p)
        ]
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
            if (
                expected_type is not None
                and default is not None
                and not isinstance(default, expected_type)
            ):
                raise
            return default

    def has_option(self, section: str, option: str) -> bool:
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
