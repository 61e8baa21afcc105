"""trunkline.configuration: Luigi's configuration files and sections."""

from trunkline.configuration.cfg_parser import ConfigFileError as ConfigFileError
from trunkline.configuration.cfg_parser import LuigiConfigParser as LuigiConfigParser
from trunkline.configuration.core import add_config_path as add_config_path
from trunkline.configuration.core import get_config as get_config
from trunkline.configuration.toml_parser import LuigiTomlParser as LuigiTomlParser

__all__ = [
    "ConfigFileError",
    "LuigiConfigParser",
    "LuigiTomlParser",
    "add_config_path",
    "get_config",
]
