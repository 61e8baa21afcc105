"""HDFS configuration: the ``[hdfs]`` and ``[hadoop]`` sections, and temporary paths.

``[hdfs] client`` picks the client (``hadoopcli``, the default, or ``webhdfs``);
``[hadoop] command`` is the ``hadoop`` command line (split on spaces) and
``[hadoop] version`` its syntax (``cdh4`` for Hadoop 2+, ``cdh3``, ``apache1``).
Temporary files go under ``[core] hdfs-tmp-dir`` if set, else ``/tmp`` on the
target's own file system.
"""

from __future__ import annotations

import getpass
import os
import random
from urllib.parse import urlparse, urlunparse

import trunkline as luigi
import trunkline.configuration


class hdfs(luigi.Config):  # noqa: N801 - a configuration section
    client_version = luigi.IntParameter(default=None)
    namenode_host = luigi.OptionalParameter(default=None)
    namenode_port = luigi.IntParameter(default=None)
    client = luigi.Parameter(default="hadoopcli")
    tmp_dir = luigi.OptionalParameter(default=None, config_path=dict(section="core", name="hdfs-tmp-dir"))


class hadoopcli(luigi.Config):  # noqa: N801 - a configuration section
    command = luigi.Parameter(
        default="hadoop",
        config_path=dict(section="hadoop", name="command"),
        description='The hadoop command, split on spaces, so "hadoop --param" works',
    )
    version = luigi.Parameter(
        default="cdh4",
        config_path=dict(section="hadoop", name="version"),
        description="Can also be cdh3 or apache1",
    )


def load_hadoop_cmd() -> list[str]:
    """The configured ``hadoop`` command as an argument list."""
    return str(hadoopcli().command).split()


def get_configured_hadoop_version() -> str:
    """``cdh4`` (Hadoop 2+ syntax, the default), ``cdh3`` or ``apache1``."""
    return str(hadoopcli().version).lower()


def get_configured_hdfs_client() -> str:
    """The ``[hdfs] client`` setting: ``hadoopcli`` unless configured."""
    return str(hdfs().client)


def tmppath(path: str | None = None, include_unix_username: bool = True) -> str:
    """A fresh temporary path, on the same file system (scheme and host) as ``path``.

    ``/data/out.txt`` gives ``/tmp/<user>/data/out.txt-luigitemp-<digits>``;
    writing there and renaming into place keeps the write atomic.
    """
    addon = f"luigitemp-{random.randrange(0, 10_000_000_000):09d}"
    temp_dir = "/tmp"
    configured = hdfs().tmp_dir
    if configured is not None:
        base_dir = configured
    elif path is not None:
        parsed = urlparse(path)
        base_dir = urlunparse((parsed.scheme, parsed.netloc, temp_dir, "", "", ""))
    else:
        base_dir = temp_dir
    if path is None:
        subdir = ""
    elif path.startswith(temp_dir + "/"):
        subdir = path[len(temp_dir) :].lstrip("/") + "-"  # no /tmp/tmp/... nesting
    else:
        subdir = urlparse(path).path.lstrip("/") + "-"  # no /tmp/hdfs:/... from a full URL
    if include_unix_username:
        subdir = os.path.join(getpass.getuser(), subdir)
    return os.path.join(base_dir, subdir + addon)

