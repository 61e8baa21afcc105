"""Which configuration parser is in use, and adding files to it.

``LUIGI_CONFIG_PARSER`` (or ``TRUNKLINE_CONFIG_PARSER``) selects ``cfg``
(default) or ``toml``. ``LUIGI_CONFIG_PATH`` and ``TRUNKLINE_CONFIG_PATH`` each
name one more file, read last (so it wins).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from trunkline.configuration.cfg_parser import LuigiConfigParser
from trunkline.configuration.toml_parser import LuigiTomlParser

PARSERS: dict[str, Any] = {
    "cfg": LuigiConfigParser,
    "conf": LuigiConfigParser,
    "ini": LuigiConfigParser,
    "toml": LuigiTomlParser,
}
DEFAULT_PARSER = "cfg"

logger = logging.getLogger("luigi-interface")


def _get_default_parser() -> str:
    parser = os.environ.get("TRUNKLINE_CONFIG_PARSER") or os.environ.get(
        "LUIGI_CONFIG_PARSER", DEFAULT_PARSER
    )
    if parser not in PARSERS:
        warnings.warn(
            f"Invalid configuration parser {parser!r}; choose one of {sorted(PARSERS)}. Using {DEFAULT_PARSER!r}.",
            stacklevel=2,
        )
        parser = DEFAULT_PARSER
    return parser


def _check_parser(parser_class: Any, parser: str) -> None:
    if not parser_class.enabled:
        raise ImportError(
            f"The {parser!r} configuration parser is not available in this installation."
        )


def get_config(parser: str | None = None) -> Any:
    """The process-wide configuration of the selected (or given) parser."""
    parser = parser or _get_default_parser()
    _check_parser(PARSERS[parser], parser)
    return PARSERS[parser].instance()


def add_config_path(path: str) -> bool:
    """Read one more configuration file; the parser follows its extension."""
    if not os.path.isfile(path):
        warnings.warn(f"Config file does not exist: {path}", stacklevel=2)
        return False
    default_parser = _get_default_parser()
    extension = os.path.splitext(path)[1][1:]
    parser = extension if extension in PARSERS else default_parser
    if PARSERS[parser] is not PARSERS[default_parser]:
        warnings.warn(
            f"Config for {parser} parser added, but used {default_parser} parser. "
            f"Set up right parser via env var: export LUIGI_CONFIG_PARSER={parser}",
            stacklevel=2,
        )
    _check_parser(PARSERS[parser], parser)
    PARSERS[parser].add_config_path(path)
    return True


for _variable in ("LUIGI_CONFIG_PATH", "TRUNKLINE_CONFIG_PATH"):
    if os.environ.get(_variable):
        add_config_path(os.environ[_variable])
