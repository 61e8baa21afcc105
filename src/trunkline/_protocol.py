"""The wire table: which scheduler methods travel over HTTP, and how.

Both the server (which methods it dispatches, which need the auth token) and
the client read this. Requests are ``POST /api/<method>`` (GET for the methods
that only read) with a form
or query field ``data`` holding the JSON keyword arguments; answers are
``{"response": <result>}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Methods that only read state: open without a token when the server allows it.
READ_METHODS = frozenset(
    {
        "count_pending",
        "dep_graph",
        "fetch_error",
        "get_running_task_resources",
        "get_scheduler_message_response",
        "get_task_progress_percentage",
        "get_task_status_message",
        "graph",
        "has_task_history",
        "inverse_dep_graph",
        "is_pause_enabled",
        "is_paused",
        "resource_list",
        "task_list",
        "task_search",
        "worker_list",
    }
)

# Methods that change state: they need the token when one is configured.
WRITE_METHODS = frozenset(
    {
        "add_scheduler_message_response",
        "add_task",
        "add_task_batcher",
        "add_tasks",  # trunkline's batched add_task
        "add_worker",
        "announce_scheduling_failure",
        "decrease_running_task_resources",
        "disable_worker",
        "forgive_failures",
        "get_work",
        "mark_as_done",
        "pause",
        "ping",
        "prune",
        "re_enable_task",
        "report_task_statistics",
        "send_scheduler_message",
        "set_task_progress_percentage",
        "set_task_status_message",
        "set_worker_processes",
        "unpause",
        "update_metrics_task_started",
        "update_resource",
        "update_resources",
        "work_cycle",  # trunkline's reports-in, leases-out call (scheduler/_leasing.py)
    }
)

RPC_METHODS = READ_METHODS | WRITE_METHODS



@dataclass(frozen=True)
class MethodSignature:
    """How a client names a method's positional arguments (the scheduler method's
    order, as Luigi's RemoteScheduler does) and which it must be given."""

    name: str
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    request_options: dict[str, Any] = field(default_factory=dict)


def _sig(name: str, params: str = "", required: str = "", **request_options: Any) -> MethodSignature:
    return MethodSignature(name, tuple(params.split()), tuple(required.split()), request_options)


# Luigi 3.8.1's RPC methods with their parameters in order; RemoteScheduler is built from this.
CLIENT_SIGNATURES = (
    _sig("prune"),
    _sig("add_task_batcher", "worker task_family batched_args max_batch_size", "worker task_family batched_args"),
    _sig("forgive_failures", "task_id"),
    _sig("mark_as_done", "task_id"),
    _sig(
        "add_task",
        "task_id status runnable deps new_deps expl resources priority family module params param_visibilities "
        "accepts_messages assistant tracking_url worker batchable batch_id retry_policy_dict owners",
    ),
    _sig("announce_scheduling_failure", "task_name family params expl owners", "task_name family params expl owners"),
    _sig("add_worker", "worker info", "worker info"),
    _sig("disable_worker", "worker", "worker"),
    _sig("set_worker_processes", "worker n", "worker n"),
    _sig("send_scheduler_message", "worker task content", "worker task content"),
    _sig("add_scheduler_message_response", "task_id message_id response", "task_id message_id response"),
    _sig("get_scheduler_message_response", "task_id message_id", "task_id message_id"),
    _sig("has_task_history"),
    _sig("is_pause_enabled"),
    _sig("is_paused"),
    _sig("pause"),
    _sig("unpause"),
    _sig("update_resources"),
    _sig("update_resource", "resource amount", "resource amount"),
    _sig("count_pending", "worker", "worker"),
    _sig("get_work", "host assistant current_tasks worker", allow_null=False),
    _sig("ping", attempts=1),
    _sig("graph"),
    _sig("dep_graph", "task_id include_done", "task_id"),
    _sig("inverse_dep_graph", "task_id include_done", "task_id"),
    _sig("task_list", "status upstream_status limit search max_shown_tasks"),
    _sig("worker_list", "include_running"),
    _sig("resource_list"),
    _sig("task_search", "task_str", "task_str"),
    _sig("re_enable_task", "task_id", "task_id"),
    _sig("fetch_error", "task_id", "task_id"),
    _sig("set_task_status_message", "task_id status_message", "task_id status_message"),
    _sig("get_task_status_message", "task_id", "task_id"),
    _sig("set_task_progress_percentage", "task_id progress_percentage", "task_id progress_percentage"),
    _sig("get_task_progress_percentage", "task_id", "task_id"),
    _sig("decrease_running_task_resources", "task_id decrease_resources", "task_id decrease_resources"),
    _sig("get_running_task_resources", "task_id", "task_id"),
    _sig("update_metrics_task_started", "task", "task"),
    _sig("report_task_statistics", "task_id statistics", "task_id statistics"),
)


class ProtocolError(ValueError):
    """A request that does not follow the wire protocol."""


def decode_arguments(raw: str | bytes | None) -> dict[str, Any]:
    """The keyword arguments in a request's ``data`` field."""
    if raw is None or raw == "" or raw == b"":
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"the 'data' field is not valid JSON: {exc}") from exc
    except RecursionError:  # thousands of nested brackets
        raise ProtocolError("the 'data' field is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"the 'data' field must be a JSON object of arguments, got {type(value).__name__}")
    return value


def encode_response(result: Any) -> str:
    return json.dumps({"response": result}, default=str)
