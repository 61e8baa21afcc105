"""HDFS: :class:`HdfsTarget` and its clients, all re-exported here as in Luigi.

The client is chosen by ``[hdfs] client``: ``hadoopcli`` (the default; the
``hadoop fs`` command line, slow but needs only Hadoop) or ``webhdfs`` (REST,
through ``pip install "trunkline[hdfs]"``). The package is split into modules
(config, clients, formats, targets); everything a user needs is importable from
``trunkline.contrib.hdfs``.
"""

from __future__ import annotations

from trunkline.contrib.hdfs import clients as hdfs_clients
from trunkline.contrib.hdfs import config as hdfs_config
from trunkline.contrib.hdfs import error as hdfs_error
from trunkline.contrib.hdfs import format as hdfs_format
from trunkline.contrib.hdfs import hadoopcli_clients as hdfs_hadoopcli_clients
from trunkline.contrib.hdfs import target as hdfs_target
from trunkline.contrib.hdfs import webhdfs_client as hdfs_webhdfs_client

hdfs = hdfs_config.hdfs
load_hadoop_cmd = hdfs_config.load_hadoop_cmd
get_configured_hadoop_version = hdfs_config.get_configured_hadoop_version
get_configured_hdfs_client = hdfs_config.get_configured_hdfs_client
tmppath = hdfs_config.tmppath

HDFSCliError = hdfs_error.HDFSCliError
call_check = hdfs_hadoopcli_clients.HdfsClient.call_check
HdfsClient = hdfs_hadoopcli_clients.HdfsClient
WebHdfsClient = hdfs_webhdfs_client.WebHdfsClient
HdfsClientCdh3 = hdfs_hadoopcli_clients.HdfsClientCdh3
HdfsClientApache1 = hdfs_hadoopcli_clients.HdfsClientApache1
create_hadoopcli_client = hdfs_hadoopcli_clients.create_hadoopcli_client
get_autoconfig_client = hdfs_clients.get_autoconfig_client
exists = hdfs_clients.exists
rename = hdfs_clients.rename
remove = hdfs_clients.remove
mkdir = hdfs_clients.mkdir
listdir = hdfs_clients.listdir

HdfsReadPipe = hdfs_format.HdfsReadPipe
HdfsAtomicWritePipe = hdfs_format.HdfsAtomicWritePipe
HdfsAtomicWriteDirPipe = hdfs_format.HdfsAtomicWriteDirPipe
PlainFormat = hdfs_format.PlainFormat
PlainDirFormat = hdfs_format.PlainDirFormat
Plain = hdfs_format.Plain
PlainDir = hdfs_format.PlainDir
CompatibleHdfsFormat = hdfs_format.CompatibleHdfsFormat

HdfsTarget = hdfs_target.HdfsTarget
HdfsFlagTarget = hdfs_target.HdfsFlagTarget
