"""The task-history pages (Luigi's ``/history`` and ``/tasklist`` routes).

Plain server-rendered HTML, no JavaScript, every value escaped. The database
is read on a thread of the IO loop's executor, so a slow read never holds up
the scheduler's API on the same loop. When the scheduler records no history,
the same URLs answer 404 with a page saying how to turn it on.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import tornado.ioloop
import tornado.web

from trunkline._protocol import ProtocolError, decode_arguments
from trunkline.server._api import SchedulerHandler
from trunkline.server._validate import InvalidArgument, check_value

__all__ = ["history_handlers"]

# A page lists at most this many runs (a family may have years of them).
MAX_ROWS = 1000

_T = TypeVar("_T")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.DONE { color: #2a7d2a; } .FAILED { color: #b52020; } .RUNNING { color: #1f5fbf; } .PENDING { color: #8a6d00; }
.params { font-family: ui-monospace, monospace; font-size: 90%; }
.note { color: #666; }
"""

_HOW_TO_TURN_ON = (
    "Task history is off on this scheduler. To record it, set <code>record_task_history = true</code> "
    "in the <code>[scheduler]</code> section of the configuration (optionally "
    "<code>[task_history] db_connection = sqlite:///path/to/history.db</code>; the default is "
    "<code>sqlite:///luigi-task-hist.db</code> in the scheduler's working directory), then restart the scheduler."
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)} - trunkline</title><style>{_STYLE}</style></head><body>"
        "<nav><a href=\"/history\">Recent runs</a><a href=\"/tasklist\">Task names</a><a href=\"/\">Scheduler</a></nav>"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    )


def _ts(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _params_cell(record: Any) -> str:
    items = sorted(record.parameters.items())
    return "<br>".join(f"{_e(name)}={_e(param.value)}" for name, param in items)


def _runs_table(records: list[Any], empty: str) -> str:
    if not records:
        return f"<p class=\"note\">{_e(empty)}</p>"
    rows = []
    for record in records[:MAX_ROWS]:
        last = record.events[0] if record.events else None
        status = last.event_name if last is not None else ""
        rows.append(
            "<tr>"
            f"<td><a href=\"/history/by_id/{record.id}\">{_e(record.name)}</a></td>"
            f"<td>{_e(record.host)}</td>"
            f"<td>{_ts(last.ts if last is not None else None)}</td>"
            f"<td class=\"{_e(status)}\">{_e(status)}</td>"
            f"<td class=\"params\">{_params_cell(record)}</td>"
            "</tr>"
        )
    note = ""
    if len(records) > MAX_ROWS:
        note = f"<p class=\"note\">Showing the first {MAX_ROWS} of {len(records)} runs.</p>"
    return (
        note + "<table><thead><tr><th>Name</th><th>Host</th><th>Last event</th><th>Status</th>"
        "<th>Parameters</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _run_detail(record: Any) -> str:
    name_link = f"/history/by_name/{quote(record.name or '', safe='')}"
    params = {name: param.value for name, param in record.parameters.items()}
    same_params_link = (
        f"/history/by_params/{quote(record.name or '', safe='')}?{urlencode({'data': json.dumps(params, sort_keys=True)})}"
    )
    info = (
        "<table><tbody>"
        f"<tr><th>Record id</th><td>{record.id}</td></tr>"
        f"<tr><th>Task id</th><td>{_e(record.task_id)}</td></tr>"
        f"<tr><th>Name</th><td>{_e(record.name)}</td></tr>"
        f"<tr><th>Host</th><td>{_e(record.host)}</td></tr>"
        f"<tr><th>More</th><td><a href=\"{_e(name_link)}\">All runs of {_e(record.name)}</a> · "
        f"<a href=\"{_e(same_params_link)}\">Runs with these parameters</a></td></tr>"
        "</tbody></table>"
    )
    param_rows = "".join(
        f"<tr><td>{_e(name)}</td><td class=\"params\">{_e(param.value)}</td></tr>"
        for name, param in sorted(record.parameters.items())
    )
    event_rows = "".join(
        f"<tr><td class=\"{_e(event.event_name)}\">{_e(event.event_name)}</td><td>{_ts(event.ts)}</td></tr>"
        for event in record.events
    )
    return (
        info
        + "<h2>Parameters</h2><table><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>"
        + (param_rows or "<tr><td colspan=\"2\" class=\"note\">none</td></tr>")
        + "</tbody></table><h2>Events (newest first)</h2><table><thead><tr><th>Status</th><th>Time</th></tr></thead><tbody>"
        + event_rows
        + "</tbody></table>"
    )


class _HistoryHandler(SchedulerHandler):
    def initialize(  # type: ignore[override]
        self, task_history: Any = None, auth_token: str = "", read_only_open: bool = True, scheduler: Any = None
    ) -> None:
        # Luigi mounts these handlers with ``scheduler=``; its task_history is read then.
        super().initialize(scheduler, auth_token, read_only_open)
        self.history: Any = task_history if task_history is not None else getattr(scheduler, "task_history", None)

    def prepare(self) -> None:
        refusal = self.browser_refusal()
        if refusal is not None:
            self.html_page("Refused", f"<p>{_e(refusal)}</p>", 403)
            return
        # Reading is open unless the scheduler runs with --no-read-only-open.
        if not self._may_read():
            self.html_page("Token needed", "<p>This scheduler's pages need its auth token "
                           "(Authorization: Bearer &lt;token&gt;).</p>", 401)

    async def read(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        return await tornado.ioloop.IOLoop.current().run_in_executor(None, lambda: fn(*args, **kwargs))

    def html_page(self, title: str, body: str, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(_page(title, body))

    def _run_page(self, record: Any, missing: str) -> None:
        """One recorded run in detail, or a 404 saying (``missing``, HTML) what was not found."""
        if record is None:
            self.html_page("Not found", f"<p>{missing}</p>", 404)
            return
        self.html_page(f"{record.name} run {record.id}", _run_detail(record))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.html_page(f"Error {status_code}", "<p>The history page failed; the scheduler's log says why.</p>", status_code)


class RecentRunsHandler(_HistoryHandler):
    async def get(self) -> None:
        records = await self.read(self.history.find_latest_runs)
        self.html_page("Task history: runs of the last 24 hours", _runs_table(records, "No task changed status in the last 24 hours."))


class ByNameHandler(_HistoryHandler):
    async def get(self, name: str) -> None:
        records = await self.read(self.history.find_all_by_name, name)
        self.html_page(f"Runs of {name}", _runs_table(records, f"No run of {name} is recorded."))


class ByParamsHandler(_HistoryHandler):
    async def get(self, name: str) -> None:
        raw = self.get_argument("data", default="{}")
        try:
            params: Any = decode_arguments(raw)
            check_value(params, "data")
            problem = ""
        except (ProtocolError, InvalidArgument) as error:
            params, problem = None, str(error)
        if not isinstance(params, dict):
            self.html_page(
                "Bad parameters",
                f"<p>The <code>data</code> argument is not usable ({_e(problem)}). Give the parameters as a JSON "
                f"object, e.g. <code>/history/by_params/{_e(name)}?data={_e(json.dumps({'date': '2024-01-01'}))}</code>.</p>",
                400,
            )
            return
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        records = await self.read(self.history.find_all_by_parameters, name, **{str(k): v for k, v in params.items()})
        self.html_page(f"Runs of {name}({shown})", _runs_table(records, "No run with these parameters is recorded."))


# Record ids are SQLite/PostgreSQL 64-bit integers; anything else names no record.
_MAX_RECORD_ID = 2**63 - 1


class ByIdHandler(_HistoryHandler):
    async def get(self, record_id: str) -> None:
        if not record_id.isascii() or not record_id.isdigit() or int(record_id) > _MAX_RECORD_ID:
            self._run_page(None, f"No run with record id {_e(record_id)} is in the task history.")
            return
        record = await self.read(self.history.find_task_by_id, record_id)
        self._run_page(record, f"No run with record id {_e(record_id)} is in the task history.")


class ByTaskIdHandler(_HistoryHandler):
    async def get(self, task_id: str) -> None:
        record = await self.read(self.history.find_task_by_task_id, task_id)
        self._run_page(record, f"No run of task {_e(task_id)} is in the task history.")


class TaskNamesHandler(_HistoryHandler):
    async def get(self) -> None:
        names = await self.read(self.history.find_task_names)
        items = "".join(
            f"<li><a href=\"/history/by_name/{_e(quote(name, safe=''))}\">{_e(name)}</a> "
            f"(<a href=\"/tasklist/{_e(quote(name, safe=''))}\">events as JSON</a>)</li>"
            for name in names
        )
        self.html_page("Task names", f"<ul>{items}</ul>" if items else "<p class=\"note\">No task is recorded yet.</p>")


class TaskEventsHandler(_HistoryHandler):
    """JSON of every event of a family, grouped by status and as one list (Luigi's keys)."""

    async def get(self, name: str) -> None:
        pairs = await self.read(self.history.find_events_by_name, name)
        by_status: dict[str, list[dict[str, Any]]] = {}
        events: list[dict[str, Any]] = []
        for _record, event in pairs:
            timestamp = int(time.mktime(event.ts.timetuple()))
            by_status.setdefault(event.event_name, []).append(
                {"id": str(event.id), "task_id": str(event.task_id), "x": timestamp, "y": 0, "next_process": ""}
            )
            events.append(
                {
                    "id": str(event.id),
                    "taskName": name,
                    "task_id": str(event.task_id),
                    "status": event.event_name,
                    "datetime": str(event.ts),
                    "timestamp": timestamp,
                }
            )
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"name": name, "statusResults": by_status, "taskResults": events}))


class HistoryOffHandler(tornado.web.RequestHandler):
    """Every history URL when the scheduler records no history."""

    def initialize(self, reason: str) -> None:
        self.reason = reason

    def get(self, *args: Any) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(_page("Task history is off", f"<p>{self.reason}</p>"))


_READ_API = (
    "find_latest_runs", "find_all_by_name", "find_all_by_parameters", "find_task_by_id", "find_task_by_task_id",
    "find_task_names", "find_events_by_name",
)


def history_handlers(
    scheduler: Any, task_history: Any, auth_token: str = "", read_only_open: bool = True
) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    """Tornado handler specs for the history pages; when ``task_history`` is None
    (or cannot be read back), 404 pages saying how to turn history on."""
    if task_history is None or not all(hasattr(task_history, name) for name in _READ_API):
        reason = _HOW_TO_TURN_ON
        if task_history is not None:
            reason += (
                f" (This scheduler's task history, {_e(type(task_history).__name__)}, cannot be browsed: the pages "
                "read trunkline.db_task_history.DbTaskHistory.)"
            )
        off = {"reason": reason}
        return [(r"/history(?:/.*)?", HistoryOffHandler, off), (r"/tasklist(?:/.*)?", HistoryOffHandler, off)]
    kwargs = {"task_history": task_history, "auth_token": auth_token, "read_only_open": read_only_open}
    specs: Iterable[tuple[str, type[tornado.web.RequestHandler]]] = (
        (r"/history/?", RecentRunsHandler),
        (r"/history/by_name/(.+)", ByNameHandler),
        (r"/history/by_id/(.+)", ByIdHandler),
        (r"/history/by_task_id/(.+)", ByTaskIdHandler),
        (r"/history/by_params/(.+)", ByParamsHandler),
        (r"/tasklist/?", TaskNamesHandler),
        (r"/tasklist/(.+)", TaskEventsHandler),
    )
    return [(pattern, handler, kwargs) for pattern, handler in specs]
