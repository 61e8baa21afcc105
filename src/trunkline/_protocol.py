"""The wire table: which scheduler methods travel over HTTP, and how.

Both the server (which methods it dispatches, which need the auth token) and
the client read this. Requests are ``POST /api/<method>`` (or GET) with a form
or query field ``data`` holding the JSON keyword arguments; answers are
``{"response": <result>}``.
"""

from __future__ import annotations

import json
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
    if not isinstance(value, dict):
        raise ProtocolError(f"the 'data' field must be a JSON object of arguments, got {type(value).__name__}")
    return value


def encode_response(result: Any) -> str:
    return json.dumps({"response": result}, default=str)
