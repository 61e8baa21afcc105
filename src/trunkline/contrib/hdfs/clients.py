"""The configured HDFS client (``get_autoconfig_client``) and module-level shortcuts to it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from trunkline.contrib.hdfs import config as hdfs_config
from trunkline.contrib.hdfs import hadoopcli_clients as hdfs_hadoopcli_clients
from trunkline.contrib.hdfs import webhdfs_client as hdfs_webhdfs_client

logger = logging.getLogger("luigi-interface")

# One client per thread: the hadoop command line client is stateless, but HTTP
# sessions of the WebHDFS client are not to be shared between threads.
_AUTOCONFIG_CLIENT = threading.local()


def get_autoconfig_client(client_cache: Any = _AUTOCONFIG_CLIENT) -> Any:
    """The client ``[hdfs] client`` names (``hadoopcli`` or ``webhdfs``), made once per thread."""
    try:
        return client_cache.client
    except AttributeError:
        configured = hdfs_config.get_configured_hdfs_client()
        if configured == "webhdfs":
            client_cache.client = hdfs_webhdfs_client.WebHdfsClient()
        elif configured == "hadoopcli":
            client_cache.client = hdfs_hadoopcli_clients.create_hadoopcli_client()
        else:
            raise ValueError(f"Unknown hdfs client {configured!r}: expected hadoopcli or webhdfs")
        return client_cache.client


def _with_ac(method_name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(get_autoconfig_client(), method_name)(*args, **kwargs)

    call.__name__ = method_name
    return call


exists = _with_ac("exists")
rename = _with_ac("rename")
remove = _with_ac("remove")
mkdir = _with_ac("mkdir")
listdir = _with_ac("listdir")
