"""Every storage module has the module-level names Luigi 3.8.1's has, and imports without its library."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys

import pytest

MODULES = [
    "hdfs", "hdfs.abstract_client", "hdfs.clients", "hdfs.config", "hdfs.error", "hdfs.format",
    "hdfs.hadoopcli_clients", "hdfs.target", "hdfs.webhdfs_client", "webhdfs", "s3", "gcs", "gcp",
    "azureblob", "dropbox", "ftp", "ssh", "target", "opener", "simulate", "external_daily_snapshot",
    "redis_store", "mongodb", "esindex", "sparkey",
]

# The client libraries behind these modules; blocked in the import test below.
OPTIONAL = ["boto3", "botocore", "azure", "google", "googleapiclient", "httplib2", "tenacity", "hdfs",
            "paramiko", "redis", "pymongo", "elasticsearch", "elastic_transport", "dropbox", "sparkey"]


@pytest.mark.parametrize("name", MODULES)
def test_module_has_luigis_names(name: str) -> None:
    logging.disable(logging.WARNING)  # Luigi's modules warn about missing libraries on import
    try:
        luigis = importlib.import_module(f"luigi.contrib.{name}")
    except ImportError as exc:  # Luigi's module needs a library the test extra does not bring
        pytest.skip(f"luigi.contrib.{name} does not import here: {exc}")
    finally:
        logging.disable(logging.NOTSET)
    ours = importlib.import_module(f"trunkline.contrib.{name}")
    missing = sorted(n for n in vars(luigis) if not n.startswith("__") and n not in vars(ours))
    assert missing == []


def test_modules_import_without_their_libraries_and_name_the_extra() -> None:
    script = f"""
import importlib, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ImportError(f"blocked {{name}}")

sys.meta_path.insert(0, Block())
for name in {MODULES!r}:
    importlib.import_module(f"trunkline.contrib.{{name}}")
from trunkline.contrib.s3 import S3Client
try:
    S3Client().s3
except ImportError as exc:
    print(exc)
from trunkline.contrib.azureblob import AzureBlobClient
try:
    AzureBlobClient("a", "k").connection
except ImportError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "S3Client needs the Python package 'boto3', which is not installed: " 'pip install "trunkline[s3]"',
        "AzureBlobClient needs the Python package 'azure', which is not installed: " 'pip install "trunkline[azure]"',
    ]
