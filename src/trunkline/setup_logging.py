"""Logging set-up for workers (``InterfaceLogging``) and the scheduler (``DaemonLogging``).

The first source that applies wins: command-line options, then a logging
``fileConfig`` file, then a toml ``[logging]`` table, then a default handler.
``[core] no_configure_logging`` leaves logging entirely to the application.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from configparser import NoSectionError as NoSectionError
from typing import Any

from trunkline.configuration import LuigiConfigParser as LuigiConfigParser
from trunkline.configuration import get_config
from trunkline.freezing import recursively_unfreeze as recursively_unfreeze


class LoggingConfigError(OSError):
    """The logging configuration file (``--logging-conf-file``) is missing or unusable."""


class _ConfigSeam(type):
    """Gives the logging classes Luigi's ``config`` class attribute.

    Luigi binds ``BaseLogging.config = get_config()`` at import; tests and embedders assign a
    parser (or a dict of sections) to it. Here it is assignable the same way, and until then
    it is the process-wide configuration looked up when read, so importing this module reads
    no configuration files.
    """

    _config_override: Any = None

    @property
    def config(cls) -> Any:
        return get_config() if cls._config_override is None else cls._config_override

    @config.setter
    def config(cls, value: Any) -> None:
        cls._config_override = value

    @config.deleter
    def config(cls) -> None:
        # What mock.patch.object(DaemonLogging, "config", ...) does on exit: back to the default.
        cls._config_override = None


class BaseLogging(metaclass=_ConfigSeam):
    _configured = False

    @classmethod
    def _config(cls) -> Any:
        return cls.config

    @classmethod
    def setup(cls, opts: Any = None) -> bool:
        logger = logging.getLogger("luigi")
        if cls._configured:
            logger.info("logging already configured")
            return False
        cls._configured = True
        if cls._config().getboolean("core", "no_configure_logging", False):
            logger.info("logging disabled in settings")
            return False
        for how in (cls._cli, cls._conf, cls._section, cls._default):
            if how(opts):
                return True
        return False

    @classmethod
    def _section(cls, opts: Any) -> bool:
        """A toml ``[logging]`` table (or a dict's "logging" entry), applied with dictConfig."""
        config = cls._config()
        if isinstance(config, LuigiConfigParser):
            return False  # a .cfg file's [logging] section is not a dictConfig
        try:
            section = config["logging"]
        except (TypeError, KeyError, NoSectionError):
            return False
        logging.config.dictConfig(_unfreeze(section))
        return True

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        return False

    @classmethod
    def _default(cls, opts: Any) -> bool:
        return False


def _unfreeze(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {key: _unfreeze(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unfreeze(item) for item in value]
    return value


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now, not what it was at set-up.

    The live progress line replaces ``sys.stderr`` while it is shown, so log
    lines print above it instead of through it.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _check_exists(path: str) -> str:
    if not os.path.exists(path):
        raise LoggingConfigError(
            f"Unable to locate specified logging configuration file {os.path.abspath(path)} "
            "(from --logging-conf-file or [core] logging_conf_file); give the path of an "
            "existing logging.config.fileConfig file, or leave it out for the default logging"
        )
    return path


def _apply_file_config(path: str, disable_existing_loggers: bool) -> None:
    try:
        if disable_existing_loggers:  # fileConfig's default; called as Luigi's daemon calls it
            logging.config.fileConfig(_check_exists(path))
        else:
            logging.config.fileConfig(_check_exists(path), disable_existing_loggers=False)
    except LoggingConfigError:
        raise
    except Exception as exc:  # fileConfig raises KeyError, ValueError, configparser errors...
        reason = f"no {exc} entry" if isinstance(exc, KeyError) else " ".join(str(exc).split())
        raise LoggingConfigError(
            f"Cannot use logging configuration file {os.path.abspath(path)}: {reason} "
            "(it must be in logging.config.fileConfig format, with [loggers], [handlers] "
            "and [formatters] sections)"
        ) from exc


class InterfaceLogging(BaseLogging):
    """Logging for a worker run (``trunkline``/``luigi.run``/``luigi.build``)."""

    _configured = False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        conf_file = getattr(opts, "logging_conf_file", "") if opts is not None else ""
        if not conf_file:
            return False
        _apply_file_config(conf_file, disable_existing_loggers=False)
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        level_name = getattr(opts, "log_level", "DEBUG") if opts is not None else "DEBUG"
        level = getattr(logging, str(level_name), logging.DEBUG)
        logger = logging.getLogger("luigi-interface")
        logger.setLevel(level)
        handler = logging.StreamHandler(_CurrentStderr())
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
        return True


class DaemonLogging(BaseLogging):
    """Logging for the scheduler service."""

    _configured = False
    _log_format = "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        if opts is None:
            return False
        if getattr(opts, "background", False):
            logging.getLogger().setLevel(logging.INFO)
            return True
        logdir = getattr(opts, "logdir", None)
        if logdir:
            logging.basicConfig(
                level=logging.INFO,
                format=cls._log_format,
                filename=os.path.join(logdir, "trunkline-server.log"),
            )
            return True
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        conf_file = cls._config().get("core", "logging_conf_file", None)
        if conf_file is None:
            return False
        _apply_file_config(conf_file, disable_existing_loggers=True)
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        logging.basicConfig(level=logging.INFO, format=cls._log_format)
        return True
