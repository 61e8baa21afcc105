"""luigi.cmdline.luigid starts the scheduler with luigid's options, on loopback by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from trunkline import cmdline
from trunkline.setup_logging import DaemonLogging


@pytest.fixture(autouse=True)
def fresh_daemon_logging() -> Iterator[None]:
    DaemonLogging._configured = False
    with mock.patch("logging.basicConfig"):
        yield
    DaemonLogging._configured = False


def test_luigid_serves_on_the_given_port_and_loopback_with_state_in_the_given_file(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    with mock.patch("trunkline.server.run") as run:
        cmdline.luigid(["--port", "18082", "--state-path", state])
    run.assert_called_once()
    kwargs = run.call_args.kwargs
    assert kwargs["api_port"] == 18082
    assert kwargs["address"] == "127.0.0.1"
    assert kwargs["state_path"] == state


def test_luigid_refuses_a_missing_logging_file_before_serving() -> None:
    config = mock.Mock()
    config.getboolean.return_value = False
    config.get.return_value = "no-such-logging.cfg"
    with mock.patch("trunkline.server.run") as run, mock.patch.object(DaemonLogging, "config", config):
        with pytest.raises(OSError, match="no-such-logging.cfg"):
            cmdline.luigid([])
    run.assert_not_called()
