"""The events a task's callbacks can subscribe to (``@MyTask.event_handler(Event.X)``)."""

from __future__ import annotations


class Event:
    DEPENDENCY_DISCOVERED = "event.core.dependency.discovered"  # (task, dependency)
    DEPENDENCY_MISSING = "event.core.dependency.missing"  # (task)
    DEPENDENCY_PRESENT = "event.core.dependency.present"  # (task)
    BROKEN_TASK = "event.core.task.broken"  # (task, exception)
    START = "event.core.start"  # (task)
    PROGRESS = "event.core.progress"  # fired by tasks themselves
    FAILURE = "event.core.failure"  # (task, exception)
    SUCCESS = "event.core.success"  # (task)
    PROCESSING_TIME = "event.core.processing_time"  # (task, seconds)
    TIMEOUT = "event.core.timeout"  # (task, message)
    PROCESS_FAILURE = "event.core.process_failure"  # (task, message)
