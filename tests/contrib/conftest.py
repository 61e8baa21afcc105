"""Fixtures for the contrib tests: servers they talk to (each started on a free 127.0.0.1 port
and stopped afterwards), and configuration set for one test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from trunkline import configuration
from trunkline.configuration import get_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    """Block until something accepts connections on ``port`` (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone S3 server (``moto_server``), a real HTTP endpoint on loopback."""
    pytest.importorskip("moto.server", reason='moto is in the test extra: pip install -e ".[test]"')
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


S3_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


@pytest.fixture
def s3_config(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """An ``[s3]`` configuration section pointing S3Client() at the moto server."""
    parser = configuration.get_config()
    had_section = parser.has_section("s3")
    saved = dict(parser.items("s3")) if had_section else {}
    if not had_section:
        parser.add_section("s3")
    options = dict(S3_CREDENTIALS, endpoint_url=moto_endpoint)
    for key, value in options.items():
        parser.set("s3", key, value)
    try:
        yield options
    finally:
        parser.remove_section("s3")
        if had_section:
            parser.add_section("s3")
            for key, value in saved.items():
                parser.set("s3", key, value)


@pytest.fixture
def bucket(moto_endpoint: str) -> Iterator[str]:
    """A fresh, empty bucket name; created with boto3 directly, as a user would."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_endpoint, **S3_CREDENTIALS)
    name = f"bucket-{os.getpid()}-{time.monotonic_ns()}"
    client.create_bucket(Bucket=name)
    yield name
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=obj["Key"])
        client.delete_bucket(Bucket=name)
    except Exception:  # a test may have deleted objects or the bucket itself already
        pass


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A pyftpdlib server with a writable user, serving a fresh directory."""
    pytest.importorskip("pyftpdlib", reason='pyftpdlib is in the test extra: pip install -e ".[test]"')
    root = tmp_path_factory.mktemp("ftp-root")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(port), "-w",
         "-d", str(root), "-u", "luigi", "-P", "secret"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield {"host": "127.0.0.1", "port": port, "username": "luigi", "password": "secret", "root": root}
    finally:
        stop(process)


SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Debian's OpenSSH server on a free loopback port, accepting one generated key for this user.

    Installed by scripts/install-test-services.sh; the tests are skipped when it is absent.
    """
    import getpass
    import shutil

    if not os.path.exists(SSHD) or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server/client not installed (run scripts/install-test-services.sh as root)")
    home = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True)
    (home / "authorized_keys").write_text((home / "client_key.pub").read_text())
    port = free_port()
    config = home / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {home / 'host_key'}",
                f"AuthorizedKeysFile {home / 'authorized_keys'}",
                f"PidFile {home / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",  # the key files live in a pytest temporary directory
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield {"host": "127.0.0.1", "port": port, "username": getpass.getuser(), "key_file": str(home / "client_key")}
    finally:
        stop(process)


# Azurite's documented development account (public, the same in every install).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Azurite's blob service (npm package ``azurite``) on a free loopback port."""
    import shutil

    pytest.importorskip("azure.storage.blob", reason='azure-storage-blob is in the test extra: pip install -e ".[test]"')
    command = shutil.which("azurite-blob")
    if command is None:
        pytest.skip("Azurite not installed (run scripts/install-test-services.sh as root, or npm install -g azurite)")
    port = free_port()
    process = subprocess.Popen(
        [command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
         str(tmp_path_factory.mktemp("azurite")), "--silent", "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
               "custom_domain": f"127.0.0.1:{port}", "protocol": "http"}
    finally:
        stop(process)


@pytest.fixture
def config_values() -> Iterator[Callable[[dict[tuple[str, str], str]], None]]:
    """Set configuration keys for one test; the previous values come back afterwards."""
    config = get_config()
    saved: dict[tuple[str, str], str | None] = {}

    def set_values(values: dict[tuple[str, str], str]) -> None:
        for (section, option), value in values.items():
            if not config.has_section(section):
                config.add_section(section)
            saved.setdefault((section, option), config.get(section, option, None))
            config.set(section, option, value)

    yield set_values
    for (section, option), value in saved.items():
        if value is None:
            config.remove_option(section, option)
        else:
            config.set(section, option, value)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts a real engine (Spark in local mode); runs in CI, skip with -m 'not slow'"
    )
