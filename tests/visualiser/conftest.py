"""Fixtures for the visualiser's browser tests: Debian's Chromium driven by
Playwright for Python, a scheduler service to point it at, and a place for
screenshots.

Playwright's own browser download (``playwright install``) is never used:
the tests launch the system Chromium by path and skip when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STATIC_DIR = Path(__file__).resolve().parents[2] / "src" / "trunkline" / "server" / "static"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine's network is closed: without these Chromium keeps trying
    # (and failing) to reach Google's services in the background.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    "Chromium is not installed: run `sudo apt-get install chromium` "
    "(scripts/install-chromium.sh does it as root)"
)


def find_chromium() -> str | None:
    """The system Chromium, or None."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(MISSING_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python comes with the test extra")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own browser context (no shared cookies or storage)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def artefacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $TRUNKLINE_ARTEFACTS_DIR, else under pytest's temporary directory
    (never inside the work tree, so they cannot end up in git)."""
    configured = os.environ.get("TRUNKLINE_ARTEFACTS_DIR")
    directory = Path(configured) if configured else tmp_path_factory.getbasetemp() / "visualiser-artefacts"
    directory.mkdir(parents=True, exist_ok=True)
    print(f"visualiser screenshots: {directory}")
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Waits for the scheduler's API to answer a ``ping``."""
    deadline = time.monotonic() + timeout
    body = ("data=" + json.dumps({"worker": "visualiser-test-probe"})).encode()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the scheduler exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base_url}/api/ping", data=body, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the scheduler at {base_url} did not answer within {timeout} s")


@pytest.fixture
def scheduler_server(tmp_path: Path) -> Iterator[str]:
    """``trunkline scheduler`` in its own process on a free loopback port, with
    its SQLite state in a temporary directory; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "scheduler", "--address", "127.0.0.1", "--port", str(port),
         "--state-path", str(tmp_path / "state.sqlite3")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
