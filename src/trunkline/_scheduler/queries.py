"""Read-only views of the scheduler's state, for the visualiser and tools."""

from __future__ import annotations

from collections import deque
from typing import Any

from trunkline._scheduler.records import TaskRecord
from trunkline._scheduler.status import (
    STATUS_TO_UPSTREAM,
    UPSTREAM_SEVERITY,
    TaskStatus,
    UpstreamStatus,
)

_SEVERITY = {status.value: rank for rank, status in enumerate(UPSTREAM_SEVERITY)}


class QueriesMixin:
    """Luigi's read-only RPC methods; expects ``_state``, ``_config``, ``_resources``."""

    _state: Any
    _config: Any
    _resources: dict[str, int]

    def prune(self) -> None:  # provided by the Scheduler
        raise NotImplementedError

    def _serialize_task(self, task_id: str, include_deps: bool = True, deps: Any = None) -> dict[str, Any]:
        task: TaskRecord | None = self._state.tasks.get(task_id)
        if task is None:
            return {}
        result: dict[str, Any] = {
            "display_name": task.pretty_id,
            "status": task.status.value,
            "workers": list(task.workers),
            "worker_running": task.worker_running,
            "time_running": task.time_running,
            "start_time": task.time,
            "last_updated": task.updated,
            "params": task.public_params,
            "name": task.family,
            "priority": task.priority,
            "resources": task.resources,
            "resources_running": task.resources_running,
            "tracking_url": task.tracking_url,
            "status_message": task.status_message,
            "progress_percentage": task.progress_percentage,
        }
        if task.status is TaskStatus.DISABLED:
            result["re_enable_able"] = task.scheduler_disable_time is not None
        if include_deps:
            result["deps"] = sorted(task.deps if deps is None else deps)
        if self._config.send_messages and task.status is TaskStatus.RUNNING:
            result["accepts_messages"] = task.accepts_messages
        return result

    def _unknown_node(self, task_id: str) -> dict[str, Any]:
        family = task_id.split("_", 1)[0]
        return {
            "display_name": task_id,
            "status": TaskStatus.UNKNOWN.value,
            "workers": [],
            "worker_running": None,
            "time_running": None,
            "start_time": None,
            "last_updated": None,
            "params": {},
            "name": family,
            "priority": 0,
            "resources": {},
            "resources_running": None,
            "tracking_url": None,
            "status_message": None,
            "progress_percentage": None,
            "deps": [],
        }

    def graph(self, **kwargs: Any) -> dict[str, Any]:
        self.prune()
        return {task_id: self._serialize_task(task_id) for task_id in self._state.tasks}

    def _traverse(self, root_id: str, forward: bool, include_done: bool) -> dict[str, Any]:
        state = self._state
        if root_id not in state.tasks:
            return {}
        result: dict[str, Any] = {}
        queue = deque([root_id])
        seen = {root_id}
        limit = self._config.max_graph_nodes
        while queue and len(result) < limit:
            task_id = queue.popleft()
            task = state.tasks.get(task_id)
            if task is None:
                result[task_id] = self._unknown_node(task_id)
                continue
            neighbours = task.deps if forward else task.dependents
            if not include_done:
                neighbours = {
                    n for n in neighbours if n not in state.tasks or state.tasks[n].status is not TaskStatus.DONE
                }
            result[task_id] = self._serialize_task(task_id, deps=neighbours)
            for neighbour in sorted(neighbours):  # Luigi's order: what a truncated graph keeps
                if neighbour not in seen:
                    seen.add(neighbour)
                    queue.append(neighbour)
        return result

    def dep_graph(self, task_id: str, include_done: bool = True, **kwargs: Any) -> dict[str, Any]:
        self.prune()
        return self._traverse(task_id, forward=True, include_done=include_done)

    def inverse_dep_graph(self, task_id: str, include_done: bool = True, **kwargs: Any) -> dict[str, Any]:
        self.prune()
        return self._traverse(task_id, forward=False, include_done=include_done)

    def _upstream_status(self, task_id: str, table: dict[str, str]) -> str:
        """The most severe status above a task (iterative post-order, memoised in table)."""
        state = self._state
        if task_id in table:
            return table[task_id]
        if task_id not in state.tasks:
            return ""
        stack = [task_id]
        while stack:
            current_id = stack.pop()
            current = state.tasks.get(current_id)
            if current is None or current.status is TaskStatus.DONE:
                table.setdefault(current_id, "")
                continue
            if current_id not in table:
                if current.status is TaskStatus.PENDING and current.deps:
                    table[current_id] = ""  # filled in on the way back up
                    stack.append(current_id)
                    stack.extend(d for d in current.deps if d not in table)
                else:
                    table[current_id] = STATUS_TO_UPSTREAM.get(current.status, UpstreamStatus.NONE).value
            elif table[current_id] == "" and current.deps:
                table[current_id] = max((table.get(d, "") for d in current.deps), key=lambda s: _SEVERITY.get(s, 0))
        return table.get(task_id, "")

    def task_list(
        self,
        status: str = "",
        upstream_status: str = "",
        limit: bool = True,
        search: str | None = None,
        max_shown_tasks: int | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        state = self._state
        shown_limit = max_shown_tasks or self._config.max_shown_tasks
        if status:
            ids = state.by_status[TaskStatus(status)]
        else:
            ids = state.tasks.keys()
        if not search and limit and len(ids) > shown_limit:
            return {"num_tasks": -1 if upstream_status else len(ids)}
        self.prune()
        terms = search.casefold().split() if search else []
        table: dict[str, str] = {}
        result = {}
        for task_id in list(ids):
            task = state.tasks.get(task_id)
            if task is None:
                continue
            if terms and not all(term in task.pretty_id.casefold() for term in terms):
                continue
            if upstream_status and task.status is TaskStatus.PENDING:
                if self._upstream_status(task_id, table) != upstream_status:
                    continue
            result[task_id] = self._serialize_task(task_id, include_deps=False)
        if limit and len(result) > shown_limit:
            return {"num_tasks": len(result)}
        return result

    def task_search(self, task_str: str, **kwargs: Any) -> dict[str, Any]:
        self.prune()
        needle = task_str.casefold()
        found: dict[str, dict[str, Any]] = {}
        for task in self._state.tasks.values():
            if needle in task.id.casefold():
                found.setdefault(task.status.value, {})[task.id] = self._serialize_task(task.id)
        return found

    def worker_list(self, include_running: bool = True, **kwargs: Any) -> list[dict[str, Any]]:
        self.prune()
        state = self._state
        workers = []
        for worker in state.workers.values():
            running = [state.tasks[t] for t in state.running if state.tasks[t].worker_running == worker.id]
            entry = {
                "name": worker.id,
                "last_active": worker.last_active,
                "started": worker.started,
                "state": "disabled" if worker.disabled else "active",
                "first_task_display_name": self._first_task_display_name(worker.info.get("first_task")),
                "num_unread_rpc_messages": len(worker.rpc_messages),
                **worker.info,
                "num_running": len(running),
                "num_pending": worker.n_pending,
                "num_uniques": worker.n_unique_pending,
            }
            if include_running:
                entry["running"] = {t.id: self._serialize_task(t.id, include_deps=False) for t in running}
            workers.append(entry)
        workers.sort(key=lambda w: w["started"], reverse=True)
        return workers

    def _first_task_display_name(self, task_id: Any) -> Any:
        task = self._state.tasks.get(task_id) if isinstance(task_id, str) else None
        return task.pretty_id if task is not None else task_id

    def resource_list(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.prune()
        state = self._state
        names = set(self._resources) | set(state.used_resources)
        result = []
        for name in sorted(names):
            consumers = [state.tasks[t] for t in state.running if name in (state.tasks[t].resources_running or {})]
            result.append(
                {
                    "name": name,
                    "num_total": self._resources.get(name, 1),
                    "num_used": state.used_resources.get(name, 0),
                    "num_consumer": len(consumers),
                    "running": [self._serialize_task(t.id, include_deps=False) for t in consumers],
                }
            )
        return result

    def fetch_error(self, task_id: str, **kwargs: Any) -> dict[str, Any]:
        task = self._state.tasks.get(task_id)
        if task is None:
            return {"taskId": task_id, "error": ""}
        return {
            "taskId": task_id,
            "error": task.expl or "",
            "displayName": task.pretty_id,
            "taskParams": task.params,
            "taskModule": task.module,
            "taskFamily": task.family,
        }

    def task_overview(
        self,
        status: str = "",
        family: str = "",
        search: str = "",
        limit: int = 500,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One answer for the visualiser's task list: counts by status (upstream
        categories included), counts per family, and the first ``limit`` tasks
        that pass the filters. ``status`` may be a task status or an upstream
        status (``UPSTREAM_FAILED``...); ``search`` matches every word against the
        task id and its shown name with parameters, case-insensitively."""
        self.prune()
        state = self._state
        table: dict[str, str] = {}
        counts: dict[str, int] = {s.value: 0 for s in TaskStatus}
        counts.update({u.value: 0 for u in UpstreamStatus if u.value})
        families: dict[str, dict[str, int]] = {}
        terms = search.casefold().split()
        matched: list[TaskRecord] = []
        total = 0
        for task in state.tasks.values():
            statuses = [task.status.value]
            if task.status is TaskStatus.PENDING:
                # Luigi's categories: a pending task's most severe problem above
                # it (a pending task without deps counts as missing input).
                upstream = self._upstream_status(task.id, table)
                if upstream:
                    statuses.append(upstream)
            for name in statuses:
                counts[name] = counts.get(name, 0) + 1
            per_family = families.setdefault(task.family, {})
            for name in statuses:
                per_family[name] = per_family.get(name, 0) + 1
            if status and status not in statuses:
                continue
            if family and task.family != family:
                continue
            if terms:
                haystack = f"{task.id} {task.pretty_id}".casefold()
                if not all(term in haystack for term in terms):
                    continue
            total += 1
            if len(matched) < limit:
                matched.append(task)
        matched.sort(key=lambda t: (-(t.updated or 0.0), t.id))
        return {
            "counts": counts,
            "families": families,
            "total": len(state.tasks),
            "matching": total,
            "tasks": [
                {
                    "task_id": t.id,
                    **self._serialize_task(t.id, include_deps=False),
                    # why a pending task waits; a leaf's "missing input" is its own
                    "upstream_status": table.get(t.id, "") if t.status is TaskStatus.PENDING and t.deps else "",
                }
                for t in matched
            ],
        }
