"""How long the visualiser takes to draw a task's dependency graph, in Chromium.

Starts a trunkline scheduler (its own process, a free loopback port, state in
a temporary SQLite file), registers a layered graph of N tasks through the
HTTP API (``add_task``, one call per task, as a worker would), then opens the
graph in headless Chromium and measures, inside the page, the time from the
start of navigation until the graph container carries ``data-rendered-nodes``
(the renderer sets it once every box and edge is in the DOM), and until the
next frame has been painted after that. Each run uses a fresh browser context
(empty cache). Two pages are measured:

- ``harness``: a bare page that fetches ``/api/dep_graph`` and calls
  ``TrunklineGraph.render``: the renderer's own cost plus one API call;
- ``visualiser``: the real page, ``/#/graph/<root task id>``, when the
  scheduler serves it.

    .venv/bin/python bench/visualiser_graph.py --sizes 1000 --repeat 5

Needs Debian's Chromium (``sudo apt-get install chromium``) and Playwright for
Python; never ``playwright install``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from trunkline._task_id import task_id_str

STATIC_DIR = Path(__file__).resolve().parents[1] / "src" / "trunkline" / "server" / "static"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WORKER_ID = "bench-visualiser-graph"
HARNESS_PATH = "/__bench__/graph.html"
PAGE_TIMEOUT_MS = 30_000

# Runs before any script of the page: notes when the graph container first
# carries data-rendered-nodes, then when the following frame has been painted.
TIMING_SCRIPT = """
(() => {
  const observer = new MutationObserver(() => {
    const drawn = document.querySelector('[data-rendered-nodes]');
    if (!drawn || window.__benchDrawnAt !== undefined) return;
    window.__benchDrawnAt = performance.now();
    window.__benchLayoutMs = Number(drawn.dataset.layoutMs);
    window.__benchNodes = Number(drawn.dataset.renderedNodes);
    const answers = performance.getEntriesByType('resource').filter((e) => /\/api\/(inverse_)?dep_graph/.test(e.name));
    window.__benchDataAt = answers.length ? Math.max(...answers.map((e) => e.responseEnd)) : NaN;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__benchPaintedAt = performance.now(); }, 0));
  });
  observer.observe(document, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ['data-rendered-nodes']});
})();
"""

HARNESS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>graph bench</title>
<link rel="stylesheet" href="/__bench__/graph.css">
<style>body {{ margin: 0; }} #graph {{ width: 100vw; height: 100vh; }}</style>
</head><body><div id="graph"></div>
<script src="/__bench__/graph.js"></script>
<script>
const body = new URLSearchParams({{data: JSON.stringify({{task_id: {root}}})}});
fetch('/api/dep_graph', {{method: 'POST', body: body}})
  .then((answer) => answer.json())
  .then(({{response: graph}}) => {{
    const nodes = [], edges = [];
    for (const [id, task] of Object.entries(graph)) {{
      nodes.push({{id: id, label: task.display_name || id, status: task.status, family: task.name}});
      for (const dependency of task.deps || []) if (graph[dependency]) edges.push([id, dependency]);
    }}
    TrunklineGraph.render(document.getElementById('graph'), nodes, edges, {{direction: 'LR'}});
  }});
</script></body></html>
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scheduler_process() -> Iterator[str]:
    """A trunkline scheduler on a free port; yields its base URL."""
    port = free_port()
    state_dir = tempfile.mkdtemp(prefix="bench-visualiser-")
    process = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "scheduler", "--address", "127.0.0.1", "--port", str(port),
         "--state-path", f"{state_dir}/state.sqlite3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{base_url}/api/ping", data={"data": json.dumps({"worker": WORKER_ID})}, timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the scheduler did not start (exit code {process.poll()})") from None
                time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(state_dir, ignore_errors=True)


def layered_graph(size: int, seed: int = 1) -> tuple[str, list[dict[str, Any]]]:
    """Layers of ~3.5 sqrt(N) tasks (9 layers of 111 for N = 1,000) under one
    root that requires the top layer; every task requires its twin and two
    random tasks of the layer below (up to three). Statuses: the lower half
    DONE, a few FAILED and RUNNING, the rest PENDING."""
    rng = random.Random(seed)
    width = max(1, round((size - 1) ** 0.5 * 3.5))
    layers = max(1, (size - 1) // width)
    ids = [[task_id_str(f"Layer{layer}", {"i": str(i)}) for i in range(width)] for layer in range(layers)]
    # Top up the last layer so that the graph has exactly `size` tasks.
    extra = size - 1 - layers * width
    ids[-1].extend(task_id_str(f"Layer{layers - 1}", {"i": str(width + i)}) for i in range(extra))
    tasks: list[dict[str, Any]] = []
    for layer, layer_ids in enumerate(ids):
        for i, task_id in enumerate(layer_ids):
            below = ids[layer - 1] if layer else []
            deps = sorted({below[i % len(below)], rng.choice(below), rng.choice(below)}) if below else []
            status = "DONE" if layer < layers // 2 else rng.choice(["PENDING"] * 6 + ["FAILED", "RUNNING"])
            tasks.append({"task_id": task_id, "status": status, "deps": deps, "family": f"Layer{layer}",
                          "params": {"i": str(i)}})
    root = task_id_str("Root", {})
    tasks.append({"task_id": root, "status": "PENDING", "deps": ids[-1], "family": "Root", "params": {}})
    return root, tasks


def register(base_url: str, tasks: list[dict[str, Any]]) -> None:
    """One ``add_task`` per task, dependencies first, as a worker reports them."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.post("/api/add_worker", data={"data": json.dumps({"worker": WORKER_ID, "info": {}})})
        for task in tasks:
            answer = client.post("/api/add_task", data={"data": json.dumps({**task, "worker": WORKER_ID})})
            answer.raise_for_status()


def find_chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("Chromium is not installed: run `sudo apt-get install chromium` (scripts/install-chromium.sh)")


def measure_page(browser: Any, url: str, route: tuple[str, str] | None) -> dict[str, float]:
    """One cold load of ``url``; the in-page times to drawn and painted."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        if route is not None:
            harness_url, harness_html = route
            context.route(harness_url, lambda r: r.fulfill(body=harness_html, content_type="text/html"))
            context.route("**/__bench__/graph.js", lambda r: r.fulfill(path=str(STATIC_DIR / "graph.js")))
            context.route("**/__bench__/graph.css", lambda r: r.fulfill(path=str(STATIC_DIR / "graph.css")))
        context.add_init_script(TIMING_SCRIPT)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.__benchPaintedAt !== undefined", timeout=PAGE_TIMEOUT_MS)
        result = page.evaluate(
            "() => ({data: window.__benchDataAt, drawn: window.__benchDrawnAt, painted: window.__benchPaintedAt,"
            " layout: window.__benchLayoutMs, nodes: window.__benchNodes})"
        )
        return {key: float(value) for key, value in result.items()}
    finally:
        context.close()


def serves_visualiser(base_url: str) -> bool:
    try:
        page = httpx.get(f"{base_url}/", timeout=5)
        script = httpx.get(f"{base_url}/static/graph.js", timeout=5)
    except httpx.TransportError:
        return False
    return page.status_code == 200 and "graph" in page.text and script.status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="numbers of tasks (default: 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="page loads per measurement (median)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            for size in args.sizes:
                with scheduler_process() as base_url:
                    root, tasks = layered_graph(size)
                    register(base_url, tasks)
                    edges = sum(len(task["deps"]) for task in tasks)
                    pages: list[tuple[str, str, tuple[str, str] | None]] = [
                        ("harness", base_url + HARNESS_PATH,
                         (base_url + HARNESS_PATH, HARNESS_HTML.format(root=json.dumps(root)))),
                    ]
                    if serves_visualiser(base_url):
                        pages.append(("visualiser", f"{base_url}/#/graph/{root}", None))
                    else:
                        print(f"(the scheduler at {base_url} serves no visualiser page: harness only)")
                    for name, url, route in pages:
                        measure_page(browser, url, route)  # warm-up: Chromium's own start-up costs
                        runs = [measure_page(browser, url, route) for _ in range(args.repeat)]
                        drawn_nodes = {int(run["nodes"]) for run in runs}
                        rows.append((name, size, edges, drawn_nodes,
                                     statistics.median(run["data"] for run in runs),
                                     statistics.median(run["drawn"] for run in runs),
                                     statistics.median(run["painted"] for run in runs),
                                     statistics.median(run["layout"] for run in runs)))
        finally:
            browser.close()

    print(f"Chromium headless, 1440x900; medians of {args.repeat} cold page loads; times from navigation start")
    print(f"{'page':<11} {'tasks':>6} {'edges':>6} {'drawn':>6} |"
          f" {'graph data in':>13} {'drawn':>9} {'painted':>9} | {'graph.js':>9}")
    for name, size, edges, drawn_nodes, data, drawn, painted, layout in rows:
        shown = ",".join(str(n) for n in sorted(drawn_nodes))
        print(f"{name:<11} {size:>6} {edges:>6} {shown:>6} |"
              f" {data:>10.0f} ms {drawn:>6.0f} ms {painted:>6.0f} ms | {layout:>6.0f} ms")
    print("graph data in: the dep_graph answer fully received; drawn: data-rendered-nodes set;")
    print("painted: the next frame after that; graph.js: layout + building the SVG (data-layout-ms)")


if __name__ == "__main__":
    main()
