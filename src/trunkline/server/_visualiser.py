"""The visualiser: a single page served by the scheduler itself at ``/``.

Every asset lives in ``server/static`` and is served from here (no CDN, no
build step). The page reads Luigi's read-only RPC methods from ``/api`` and one
extra view, ``/visualiser/api/overview``, which filters and counts the task
list on the server so that a poll stays small however large the graph is.
Actions (mark as done, re-enable...) go through ``/api`` and its auth check.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import tornado.web

from trunkline.server._api import SchedulerHandler

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
# A poll asks for at most this many rows; the rest is counted, not sent.
MAX_ROWS = 2000


class RootPathHandler(SchedulerHandler):
    """``/``: a relative redirect to the page (so it works behind a proxy that
    mounts the scheduler under a path, as Luigi's does); HEAD answers 204 so
    health checks stay cheap."""

    def head(self) -> None:
        self.set_status(204)

    def get(self) -> None:
        self.redirect("static/visualiser/index.html")


class IndexHandler(SchedulerHandler):
    """``/static/visualiser/index.html``: the page."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        with open(os.path.join(STATIC_DIR, "index.html"), "rb") as page:
            self.finish(page.read())


class OverviewHandler(SchedulerHandler):
    """``/visualiser/api/overview?status=&family=&q=&limit=``: counts and the filtered list."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        if not self._may_read():
            self.set_status(401)
            self.finish({"error": "this scheduler's pages need its auth token (Authorization: Bearer <token>)"})
            return
        try:
            limit = max(1, min(MAX_ROWS, int(self.get_argument("limit", "500"))))
        except ValueError:
            self.set_status(400)
            self.finish({"error": "limit must be a whole number"})
            return
        started = time.perf_counter()
        overview = self._scheduler.task_overview(
            status=self.get_argument("status", ""),
            family=self.get_argument("family", ""),
            search=self.get_argument("q", ""),
            limit=limit,
        )
        # The page polls less often when this is slow (a very large graph), so an
        # open tab never costs the scheduler more than a small share of its time.
        overview["compute_ms"] = round((time.perf_counter() - started) * 1000, 1)
        overview["paused"] = bool(self._scheduler.is_paused().get("paused"))
        overview["auth"] = {"actions_need_token": bool(self._auth_token)}
        self.finish(json.dumps(overview, default=str))


class StaticHandler(tornado.web.StaticFileHandler):
    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if "\x00" in absolute_path:  # os.stat would raise ValueError: a 500, not a miss
            raise tornado.web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path: str) -> None:
        # Revalidate on every load so an upgraded scheduler never serves stale scripts.
        self.set_header("Cache-Control", "no-cache")


def visualiser_handlers(scheduler: Any, auth_token: str = "", read_only_open: bool = True, **_: Any) -> list[Any]:
    """The visualiser's URL specs, for ``trunkline.server.app``."""
    kwargs = {"scheduler": scheduler, "auth_token": auth_token, "read_only_open": read_only_open}
    return [
        (r"/", RootPathHandler, kwargs),
        (r"/static/visualiser/(?:index\.html)?", IndexHandler, kwargs),
        (r"/visualiser/api/overview", OverviewHandler, kwargs),
        (r"/static/(.*)", StaticHandler, {"path": STATIC_DIR}),
    ]
