"""The client of a central scheduler: Luigi's wire protocol over HTTP.

Every call is ``POST <url>/api/<method>`` with a form field ``data`` holding the
JSON keyword arguments; the answer is ``{"response": ...}``. This speaks to a
trunkline scheduler and to Luigi's ``luigid`` alike. One keep-alive connection
is reused for every call (``trunkline._http``).

An unreachable scheduler on first contact fails at once with a message saying
how to start one (or to use ``--local-scheduler``); once a scheduler has
answered, connection errors are retried with back-off (half a second,
doubling up to ``[core] rpc_retry_wait``) for ``(rpc_retry_attempts - 1) *
rpc_retry_wait`` seconds in all, so a scheduler restart does not kill workers
and is noticed within a second or two.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from trunkline._http import TRANSPORT_ERRORS, Answer, KeepAliveClient
from trunkline.configuration import get_config

logger = logging.getLogger("luigi-interface")

HTTP_NOT_FOUND = 404
# The first wait before retrying a scheduler that answered before (then doubling).
_FIRST_RETRY_WAIT = 0.5


class RPCError(Exception):
    """A call to the central scheduler failed."""

    def __init__(self, message: str, sub_exception: BaseException | None = None) -> None:
        super().__init__(message)
        self.sub_exception = sub_exception


class RemoteScheduler:
    """A scheduler reached over HTTP; has the same methods as ``Scheduler``."""

    # Each call is a network round trip: the worker batches what it can (work_cycle, add_tasks).
    round_trips_are_costly = True

    def __init__(self, url: str = "http://localhost:8082/", connect_timeout: float | None = None) -> None:
        config = get_config()
        self._url = url.rstrip("/")
        self._connect_timeout = (
            connect_timeout if connect_timeout is not None else config.getfloat("core", "rpc_connect_timeout", 10.0)
        )
        self._rpc_retry_attempts = config.getint("core", "rpc_retry_attempts", 3)
        self._rpc_retry_wait = config.getfloat("core", "rpc_retry_wait", 30.0)
        self._rpc_log_retries = config.getboolean("core", "rpc_log_retries", True)
        token = config.get("core", "rpc_auth_token", "") or config.get("scheduler", "auth_token", "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            self._client = KeepAliveClient(self._url, headers=headers, connect_timeout=self._connect_timeout)
        except ValueError as exc:
            raise RPCError(f"{exc}; check --scheduler-url or [core] scheduler_url", exc) from exc
        self._contacted = False
        self._unsupported: set[str] = set()

    def close(self) -> None:
        self._client.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("RemoteScheduler holds a network connection and cannot be pickled")

    # -- the one place that talks to the network --------------------------------------
    def _fetch(self, method: str, body: dict[str, Any]) -> Answer:
        return self._client.post_form(f"/api/{method}", {"data": json.dumps(body)})

    def _retry_delays(self, attempts: int) -> list[float]:
        """How long to wait before each retry once a scheduler has answered: doubling
        from half a second up to ``rpc_retry_wait``, for ``(attempts - 1) *
        rpc_retry_wait`` seconds in all, as long as fixed waits would. A restarted
        scheduler is found again within a second or two; one that stays away gets
        the patience Luigi's configuration asked for."""
        budget = max(0, attempts - 1) * self._rpc_retry_wait
        delays: list[float] = []
        delay = min(_FIRST_RETRY_WAIT, self._rpc_retry_wait)
        while budget > 1e-9 and delay > 0:
            step = min(delay, budget)
            delays.append(step)
            budget -= step
            delay = min(delay * 2, self._rpc_retry_wait)
        return delays

    def _request(self, method: str, body: dict[str, Any], attempts: int | None = None, allow_null: bool = True) -> Any:
        attempts = self._rpc_retry_attempts if attempts is None else attempts
        delays = self._retry_delays(max(1, attempts))
        last_error: BaseException | None = None
        tries = len(delays) + 1
        for attempt in range(1, tries + 1):
            try:
                response = self._fetch(method, body)
            except TRANSPORT_ERRORS as exc:
                last_error = exc
                if not self._contacted:
                    raise RPCError(self._unreachable_message(exc), exc) from exc
                if attempt < tries:
                    if self._rpc_log_retries:
                        logger.warning(
                            "Failed connecting to remote scheduler %r (%s); retrying in %.1f s",
                            self._url, type(exc).__name__, delays[attempt - 1],
                        )
                    time.sleep(delays[attempt - 1])
                continue
            self._contacted = True
            if response.status == HTTP_NOT_FOUND:
                self._unsupported.add(method)
                raise NotImplementedError(f"the scheduler at {self._url} has no method {method!r}")
            if response.status in (401, 403):
                raise RPCError(
                    f"The scheduler at {self._url} refused {method!r} ({response.status}): set "
                    "[core] rpc_auth_token to the scheduler's auth token"
                )
            if response.status >= 400:
                raise RPCError(f"The scheduler at {self._url} answered {response.status} to {method!r}: {response.text[:500]}")
            try:
                result = json.loads(response.body)["response"]
            except (ValueError, KeyError) as exc:
                raise RPCError(f"The scheduler at {self._url} sent a malformed answer to {method!r}", exc) from exc
            if result is None and not allow_null:
                last_error = RPCError(f"{method!r} answered null")
                continue
            return result
        raise RPCError(
            f"Errors ({tries} attempts over {sum(delays):.0f} s) when connecting to remote scheduler {self._url!r}",
            last_error,
        )

    def _unreachable_message(self, exc: BaseException) -> str:
        return (
            f"No scheduler answers at {self._url} ({type(exc).__name__}: {exc}). "
            "Start one with 'trunkline scheduler' (or 'trunklined'), point --scheduler-url / "
            "--scheduler-host / --scheduler-port at a running one, or pass --local-scheduler "
            "to run with an in-process scheduler."
        )

    def _call(self, method: str, kwargs: dict[str, Any], **request_options: Any) -> Any:
        return self._request(method, kwargs, **request_options)

    # -- Luigi's RPC methods ---------------------------------------------------------------
    def add_task(self, **kwargs: Any) -> Any:
        return self._call("add_task", kwargs)

    def add_tasks(self, worker: str, tasks: list[dict[str, Any]]) -> Any:
        """trunkline's batched add_task; NotImplementedError against a plain luigid."""
        if "add_tasks" in self._unsupported:
            raise NotImplementedError("the scheduler has no add_tasks")
        return self._call("add_tasks", {"worker": worker, "tasks": tasks})

    def work_cycle(self, **kwargs: Any) -> Any:
        """trunkline's reports-in, leases-out call; NotImplementedError against a plain luigid."""
        if "work_cycle" in self._unsupported:
            raise NotImplementedError("the scheduler has no work_cycle")
        return self._call("work_cycle", kwargs)

    def add_task_batcher(self, **kwargs: Any) -> Any:
        return self._call("add_task_batcher", kwargs)

    def add_worker(self, worker: str, info: Any) -> Any:
        return self._call("add_worker", {"worker": worker, "info": info})

    def announce_scheduling_failure(self, **kwargs: Any) -> Any:
        return self._call("announce_scheduling_failure", kwargs)

    def get_work(self, **kwargs: Any) -> Any:
        return self._call("get_work", kwargs, allow_null=False)

    def count_pending(self, worker: str) -> Any:
        return self._call("count_pending", {"worker": worker})

    def ping(self, worker: str) -> Any:
        return self._call("ping", {"worker": worker}, attempts=1)

    def graph(self) -> Any:
        return self._call("graph", {})

    def dep_graph(self, task_id: str, include_done: bool = True) -> Any:
        return self._call("dep_graph", {"task_id": task_id, "include_done": include_done})

    def inverse_dep_graph(self, task_id: str, include_done: bool = True) -> Any:
        return self._call("inverse_dep_graph", {"task_id": task_id, "include_done": include_done})

    def task_list(self, **kwargs: Any) -> Any:
        return self._call("task_list", kwargs)

    def task_search(self, task_str: str) -> Any:
        return self._call("task_search", {"task_str": task_str})

    def worker_list(self, include_running: bool = True) -> Any:
        return self._call("worker_list", {"include_running": include_running})

    def resource_list(self) -> Any:
        return self._call("resource_list", {})

    def fetch_error(self, task_id: str) -> Any:
        return self._call("fetch_error", {"task_id": task_id})

    def set_task_status_message(self, task_id: str, status_message: str) -> Any:
        return self._call("set_task_status_message", {"task_id": task_id, "status_message": status_message})

    def get_task_status_message(self, task_id: str) -> Any:
        return self._call("get_task_status_message", {"task_id": task_id})

    def set_task_progress_percentage(self, task_id: str, progress_percentage: Any) -> Any:
        return self._call(
            "set_task_progress_percentage", {"task_id": task_id, "progress_percentage": progress_percentage}
        )

    def get_task_progress_percentage(self, task_id: str) -> Any:
        return self._call("get_task_progress_percentage", {"task_id": task_id})

    def decrease_running_task_resources(self, task_id: str, decrease_resources: dict[str, int]) -> Any:
        return self._call(
            "decrease_running_task_resources", {"task_id": task_id, "decrease_resources": decrease_resources}
        )

    def get_running_task_resources(self, task_id: str) -> Any:
        return self._call("get_running_task_resources", {"task_id": task_id})

    def mark_as_done(self, task_id: str) -> Any:
        return self._call("mark_as_done", {"task_id": task_id})

    def forgive_failures(self, task_id: str) -> Any:
        return self._call("forgive_failures", {"task_id": task_id})

    def re_enable_task(self, task_id: str) -> Any:
        return self._call("re_enable_task", {"task_id": task_id})

    def disable_worker(self, worker: str) -> Any:
        return self._call("disable_worker", {"worker": worker})

    def set_worker_processes(self, worker: str, n: int) -> Any:
        return self._call("set_worker_processes", {"worker": worker, "n": n})

    def send_scheduler_message(self, worker: str, task: str, content: Any) -> Any:
        return self._call("send_scheduler_message", {"worker": worker, "task": task, "content": content})

    def add_scheduler_message_response(self, task_id: str, message_id: str, response: Any) -> Any:
        return self._call(
            "add_scheduler_message_response", {"task_id": task_id, "message_id": message_id, "response": response}
        )

    def get_scheduler_message_response(self, task_id: str, message_id: str) -> Any:
        return self._call("get_scheduler_message_response", {"task_id": task_id, "message_id": message_id})

    def has_task_history(self) -> Any:
        return self._call("has_task_history", {})

    def is_pause_enabled(self) -> Any:
        return self._call("is_pause_enabled", {})

    def is_paused(self) -> Any:
        return self._call("is_paused", {})

    def pause(self) -> Any:
        return self._call("pause", {})

    def unpause(self) -> Any:
        return self._call("unpause", {})

    def update_resources(self, **resources: int) -> Any:
        return self._call("update_resources", resources)

    def update_resource(self, resource: str, amount: int) -> Any:
        return self._call("update_resource", {"resource": resource, "amount": amount})

    def prune(self) -> Any:
        return self._call("prune", {})

    def report_task_statistics(self, task_id: str, statistics: Any) -> Any:
        return self._call("report_task_statistics", {"task_id": task_id, "statistics": statistics})

    def update_metrics_task_started(self, task: Any) -> Any:
        return self._call("update_metrics_task_started", {"task": task})
