"""A scheduler that remembers what running tasks reported, for the engine tests.

The scheduler forgets a task's tracking URL once the task is done (as Luigi's
does), so the tests read what arrived while it ran from here.
"""

from __future__ import annotations

from typing import Any

from trunkline.scheduler import Scheduler
from trunkline.worker import Worker


class RecordingScheduler(Scheduler):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tracking_urls: list[str] = []
        self.status_messages: list[str] = []
        self.progress: list[Any] = []

    def add_task(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("tracking_url"):
            self.tracking_urls.append(kwargs["tracking_url"])
        return super().add_task(*args, **kwargs)

    def set_task_status_message(self, task_id: str, status_message: str) -> None:
        self.status_messages.append(status_message)
        super().set_task_status_message(task_id, status_message)

    def set_task_progress_percentage(self, task_id: str, progress_percentage: Any) -> None:
        self.progress.append(progress_percentage)
        super().set_task_progress_percentage(task_id, progress_percentage)


def run_with_recording(*tasks: Any) -> tuple[bool, RecordingScheduler]:
    """Run tasks with one in-process worker; returns (every task done, the scheduler)."""
    scheduler = RecordingScheduler()
    with Worker(scheduler=scheduler) as worker:
        for task in tasks:
            worker.add(task)
        worker.run()
    done = all(scheduler.task_list("DONE", "").get(task.task_id) for task in tasks)
    return done, scheduler
