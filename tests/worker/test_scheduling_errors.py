"""Errors while add() registers a graph: what is raised and who is e-mailed."""

from __future__ import annotations

import socket
from unittest import mock

import pytest

import trunkline as luigi
from trunkline import worker as worker_module
from trunkline.rpc import RemoteScheduler, RPCError
from trunkline.scheduler import Scheduler
from trunkline.worker import Worker


def _closed_loopback_url() -> str:
    # A port that was free a moment ago: connecting to it is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_scheduler_is_a_framework_error_mailed_and_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Lonely(luigi.Task):
        def complete(self):
            return False

    scheduler = RemoteScheduler(_closed_loopback_url(), connect_timeout=1)
    scheduler._rpc_retry_wait = 0
    task = Lonely()
    with mock.patch.object(worker_module.notifications, "send_error_email") as send:
        with Worker(scheduler=scheduler) as worker, pytest.raises(RPCError):
            worker.add(task)
    subjects = [call.args[0] for call in send.call_args_list]
    assert any(s.startswith(f"Luigi: Framework error while scheduling {task}.") for s in subjects), subjects
    # The raised error says what to do; the log line does not bury it under a traceback.
    logged = [r for r in caplog.records if "framework error while scheduling" in r.getMessage()]
    assert logged and all(r.exc_info is None for r in logged)


def test_a_scheduler_refusing_a_scheduling_failure_announcement_fails_add_and_mails_the_owner() -> None:
    class NoAnswer(luigi.Task):
        owner_email = "owner@example.com"

        def complete(self):
            return None  # not a bool: a scheduling failure the worker announces

    scheduler = Scheduler(batch_emails=True)
    task = NoAnswer()
    refused = RuntimeError("announcement refused")
    with (
        Worker(scheduler=scheduler) as worker,
        mock.patch.object(scheduler, "announce_scheduling_failure", side_effect=refused),
        mock.patch.object(worker_module.notifications, "send_error_email") as send,
        pytest.raises(RuntimeError, match="announcement refused"),
    ):
        worker.add(task)
    framework = [c for c in send.call_args_list if c.args[0].startswith("Luigi: Framework error while scheduling")]
    assert framework, [c.args[0] for c in send.call_args_list]
    assert all("owner@example.com" in c.args[2] for c in framework)
    assert worker.add_succeeded is False
