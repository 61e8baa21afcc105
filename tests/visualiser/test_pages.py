"""The visualiser in a real browser, against a real scheduler with real workers.

One scheduler (with an auth token, read-only pages open) serves the module; a
trunkline worker runs ``pages_workflow.All`` against it, which leaves tasks
done, failed, disabled, running and waiting on missing data. Each test looks
at the page the way a person would and keeps a screenshot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import free_port

HERE = Path(__file__).resolve().parent
TOKEN = "s3cret-for-tests"
ROOT_ID = "All__99914b932b"


class Scheduler:
    """A scheduler process and the workers run against it."""

    def __init__(self, base_url: str, work_dir: Path) -> None:
        self.url = base_url
        self.work_dir = work_dir
        self.workers: list[subprocess.Popen[bytes]] = []

    def call(self, method: str, token: str | None = TOKEN, **arguments: Any) -> Any:
        body = ("data=" + urllib.request.quote(json.dumps(arguments))).encode()
        request = urllib.request.Request(f"{self.url}/api/{method}", data=body)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)["response"]

    def status(self, task_id: str) -> str | None:
        found = self.call("task_search", task_str=task_id)
        for status, tasks in found.items():
            if task_id in tasks:
                return str(status)
        return None

    def run_worker(self, *task_args: str) -> subprocess.Popen[bytes]:
        config = self.work_dir / "worker.cfg"
        config.write_text(f"[core]\nrpc_auth_token = {TOKEN}\n")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
            "VIS_ROOT": str(self.work_dir),
            "LUIGI_CONFIG_PATH": str(config),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "trunkline", "--module", "pages_workflow", *task_args,
             "--scheduler-url", self.url, "--workers", "2", "--no-lock"],
            cwd=self.work_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.workers.append(worker)
        return worker

    def release(self, name: str) -> None:
        (self.work_dir / name).write_text("go")


def wait_until(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(scheduler: Scheduler) -> bool:
    try:
        scheduler.call("is_paused")
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scheduler]:
    work_dir = tmp_path_factory.mktemp("visualiser")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "scheduler", "--address", "127.0.0.1", "--port", str(port),
         "--state-path", str(work_dir / "state.sqlite3"), "--auth-token", TOKEN],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    running = Scheduler(f"http://127.0.0.1:{port}", work_dir)
    try:
        wait_until(lambda: _answers(running) or process.poll() is not None, "the scheduler to answer", 30)
        assert process.poll() is None, f"the scheduler exited with code {process.returncode}"
        running.run_worker("All")
        wait_until(
            lambda: running.status("Broken__99914b932b") == "FAILED"
            and running.status("Flaky__99914b932b") == "DISABLED"
            and running.status("Slow__99914b932b") == "RUNNING",
            "the workflow to reach failed, disabled and running tasks",
        )
        yield running
    finally:
        running.release("release-slow")
        for worker in running.workers:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        process.terminate()
        process.wait(20)


def open_view(page: Any, scheduler: Scheduler, fragment: str) -> None:
    page.goto(f"{scheduler.url}/{fragment}")
    page.wait_for_selector("#live:not(.offline) #live-text:text('live')")


def card_count(page: Any, status: str) -> int:
    return int(page.inner_text(f"#status-cards [data-status='{status}'] .count"))


def row_ids(page: Any) -> list[str]:
    return [str(r.get_attribute("data-task-id")) for r in page.query_selector_all("#task-table tr.task-row")]


def test_task_list_counts_every_status_and_groups_families(scheduler: Scheduler, page: Any, artefacts_dir: Path) -> None:
    open_view(page, scheduler, "#/tasks")
    page.wait_for_function("document.querySelector(\"[data-status='DONE'] .count\").textContent === '4'")
    assert card_count(page, "FAILED") == 1
    assert card_count(page, "DISABLED") == 1
    assert card_count(page, "RUNNING") == 1
    assert card_count(page, "UPSTREAM_FAILED") >= 1  # Report waits on Broken
    assert card_count(page, "UPSTREAM_MISSING_INPUT") >= 1  # Waiting needs MissingDump
    extract = page.locator("#family-list [data-family='Extract']")
    assert extract.locator(".count").inner_text() == "4"
    assert len(row_ids(page)) == len(scheduler.call("task_list", limit=False))
    page.screenshot(path=str(artefacts_dir / "tasks.png"), full_page=True)


def test_a_failed_task_shows_its_error_and_traceback(scheduler: Scheduler, page: Any, artefacts_dir: Path) -> None:
    open_view(page, scheduler, "#/tasks")
    page.click("tr.task-row[data-task-id='Broken__99914b932b']")
    traceback = page.locator(".task-details[data-task-id='Broken__99914b932b'] pre.traceback")
    traceback.filter(has_text="ValueError").wait_for()
    text = traceback.inner_text()
    assert "Traceback (most recent call last)" in text
    assert "ValueError: the input had 3 columns, expected 4" in text
    assert "\\n" not in text  # the JSON-encoded explanation is shown as text, not escapes
    # The open row is part of the URL: a shared link opens the same task.
    assert "task=Broken__99914b932b" in page.url
    page.screenshot(path=str(artefacts_dir / "failed-task.png"), full_page=True)


def test_filters_narrow_the_list_and_live_in_the_url(scheduler: Scheduler, page: Any) -> None:
    open_view(page, scheduler, "#/tasks")
    page.fill("#search", "extract day=2")
    page.wait_for_function("document.querySelectorAll('#task-table tr.task-row').length === 1")
    assert row_ids(page)[0].startswith("Extract_2_")
    assert "q=extract+day%3D2" in page.url

    page.click("#status-cards [data-status='FAILED']")  # status and text filters combine
    page.wait_for_function("document.querySelectorAll('#task-table tr.task-row').length === 0")
    page.click("#active-filters .chip:has-text('text:')")
    page.wait_for_function("document.querySelectorAll('#task-table tr.task-row').length === 1")
    assert row_ids(page) == ["Broken__99914b932b"]

    # The same URL in a fresh page shows the same filtered list.
    shared = page.url
    page.goto("about:blank")
    page.goto(shared)
    page.wait_for_function("document.querySelectorAll('#task-table tr.task-row').length === 1")
    assert row_ids(page) == ["Broken__99914b932b"]
    page.click("#family-list [data-family='Broken']")
    assert "family=Broken" in page.url


def test_the_graph_of_the_root_task_shows_every_dependency_by_status(
    scheduler: Scheduler, page: Any, artefacts_dir: Path
) -> None:
    open_view(page, scheduler, f"#/graph/{ROOT_ID}")
    expected = scheduler.call("dep_graph", task_id=ROOT_ID)
    page.wait_for_selector(f"#graph[data-rendered-nodes='{len(expected)}']")
    assert page.locator("#graph .tl-node").count() == len(expected)
    assert page.locator("#graph .tl-node.status-FAILED").count() == 1
    assert page.locator("#graph .tl-node.status-DONE").count() == 4
    page.screenshot(path=str(artefacts_dir / "graph.png"))

    page.locator("#graph .tl-node.status-FAILED").first.click()
    page.locator("#graph-details .task-details[data-task-id='Broken__99914b932b']").wait_for()
    page.locator("#graph-details pre.traceback", has_text="ValueError: the input had 3 columns").wait_for()

    page.check("#hide-done")
    not_done = sum(1 for task in expected.values() if task["status"] != "DONE")
    page.wait_for_selector(f"#graph[data-rendered-nodes='{not_done}']")
    assert "done=hide" in page.url
    assert page.locator("#graph .tl-node.status-DONE").count() == 0


def test_the_workers_page_shows_each_worker_and_what_it_runs(scheduler: Scheduler, page: Any, artefacts_dir: Path) -> None:
    open_view(page, scheduler, "#/workers")
    card = page.locator(".worker-card", has_text="Slow()")
    card.wait_for()
    assert f"pid {scheduler.workers[0].pid}" in card.locator("h3").inner_text()
    assert "Last seen" in card.inner_text()
    page.screenshot(path=str(artefacts_dir / "workers.png"))


def test_the_resources_page_shows_capacity_and_users(scheduler: Scheduler, page: Any, artefacts_dir: Path) -> None:
    open_view(page, scheduler, "#/resources")
    row = page.locator("#resource-table tr[data-resource='warehouse']")
    row.wait_for()
    assert "1 / 1" in row.inner_text()
    assert "Slow()" in row.inner_text()
    page.screenshot(path=str(artefacts_dir / "resources.png"))


def test_the_page_follows_a_task_from_pending_to_running_to_done(scheduler: Scheduler, page: Any) -> None:
    open_view(page, scheduler, "#/tasks?q=Step")
    scheduler.run_worker("Step", "--n", "2")
    step2 = "tr.task-row[data-task-id^='Step_2_']"
    page.wait_for_selector(f"{step2}[data-status='PENDING']", timeout=60_000)
    scheduler.release("release-step-1")
    page.wait_for_selector(f"{step2}[data-status='RUNNING']", timeout=60_000)
    scheduler.release("release-step-2")
    page.wait_for_selector(f"{step2}[data-status='DONE']", timeout=60_000)
    # Updated in place: the user's filter is still there and the page never reloaded.
    assert page.input_value("#search") == "Step"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_re_enabling_a_disabled_task_asks_for_the_token_then_works(
    scheduler: Scheduler, page: Any, artefacts_dir: Path
) -> None:
    open_view(page, scheduler, "#/tasks?status=DISABLED&task=Flaky__99914b932b")
    button = page.locator(".task-details[data-task-id='Flaky__99914b932b'] [data-action='re_enable_task']")
    button.click()
    page.locator("#token-form").wait_for(state="visible")
    assert scheduler.status("Flaky__99914b932b") == "DISABLED"  # nothing changed without the token
    page.fill("#token-input", TOKEN)
    page.click("#token-form button[type=submit]")
    page.locator(".task-details[data-task-id='Flaky__99914b932b'] [data-action='re_enable_task']").click()
    wait_until(lambda: scheduler.status("Flaky__99914b932b") != "DISABLED", "the task to be re-enabled", 20)
    page.wait_for_function("document.querySelector(\"[data-status='DISABLED'] .count\").textContent === '0'")
    page.screenshot(path=str(artefacts_dir / "re-enabled.png"))


def test_pause_and_unpause_from_the_page(scheduler: Scheduler, page: Any) -> None:
    open_view(page, scheduler, "#/tasks")
    page.evaluate("sessionStorage.setItem('trunkline-token', %s)" % json.dumps(TOKEN))
    page.reload()
    page.click("#pause-toggle:text('Pause')")
    page.locator("#paused-badge").wait_for(state="visible")
    assert scheduler.call("is_paused")["paused"] is True
    page.click("#pause-toggle:text('Unpause')")
    page.locator("#paused-badge").wait_for(state="hidden")
    assert scheduler.call("is_paused")["paused"] is False


def test_the_history_tab_appears_only_when_the_scheduler_records_history(
    scheduler: Scheduler, page: Any, tmp_path: Path
) -> None:
    open_view(page, scheduler, "#/tasks")
    assert page.locator("#history-link").is_hidden()

    config = tmp_path / "history.cfg"
    config.write_text(
        "[scheduler]\nrecord_task_history = true\n"
        f"[task_history]\ndb_connection = sqlite:///{tmp_path / 'history.sqlite3'}\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "scheduler", "--address", "127.0.0.1", "--port", str(port), "--memory"],
        env={**os.environ, "LUIGI_CONFIG_PATH": str(config)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    recording = Scheduler(f"http://127.0.0.1:{port}", tmp_path)
    try:
        wait_until(lambda: _answers(recording), "the recording scheduler to answer", 30)
        open_view(page, recording, "#/tasks")
        page.locator("#history-link").wait_for(state="visible")
        page.click("#history-link")
        page.wait_for_url(f"{recording.url}/history")
        assert page.locator("h1").inner_text().startswith("Task history")
    finally:
        process.terminate()
        process.wait(20)
