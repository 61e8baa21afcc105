"""Datadog metrics and events for the scheduler (Luigi's ``luigi.contrib.datadog_metric``).

Set ``[scheduler] metrics_collector = datadog``; each task start, failure,
disable and completion becomes a StatsD counter (``<namespace>.task.started``
...) and a Datadog event, tagged with the task's family, its parameters, the
environment and ``[datadog] default_tags``.
Needs the ``datadog`` extra: ``pip install trunkline[datadog]``.
"""

from __future__ import annotations

import logging
from typing import Any

from trunkline import parameter
from trunkline.metrics import MetricsCollector
from trunkline.task import Config

logger = logging.getLogger("luigi-interface")

try:
    from datadog import api, initialize, statsd  # type: ignore[attr-defined]
except ImportError:  # importable without the library (as Luigi's); the collector says what to install
    api = initialize = statsd = None  # type: ignore[assignment]


class datadog(Config):  # noqa: N801 - the class name is the config section name
    api_key = parameter.Parameter(default="dummy_api_key", description="API key provided by Datadog")
    app_key = parameter.Parameter(default="dummy_app_key", description="APP key provided by Datadog")
    default_tags = parameter.Parameter(default="application:luigi", description="Tags sent with every event and metric")
    environment = parameter.Parameter(default="development", description="The environment the pipeline runs in")
    metric_namespace = parameter.Parameter(default="luigi", description="Prefix of every metric name")
    statsd_host = parameter.Parameter(default="localhost", description="StatsD host of the Datadog agent")
    statsd_port = parameter.IntParameter(default=8125, description="StatsD port of the Datadog agent")


class DatadogMetricsCollector(MetricsCollector):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if initialize is None:
            raise ImportError("DatadogMetricsCollector needs the datadog package: pip install 'trunkline[datadog]'")
        self._config = datadog(**kwargs)
        initialize(
            api_key=self._config.api_key,
            app_key=self._config.app_key,
            statsd_host=self._config.statsd_host,
            statsd_port=self._config.statsd_port,
        )

    def _tags(self, task: Any) -> list[str]:
        return [f"task_name:{task.family}"] + self._format_task_params_to_tags(task)

    def _report(self, task: Any, metric: str, state: str, title: str, text: str, alert_type: str, priority: str) -> None:
        tags = self._tags(task)
        self._send_increment(metric, tags=tags)
        self._send_event(title=title, text=text, tags=tags + [f"task_state:{state}"], alert_type=alert_type, priority=priority)

    def handle_task_started(self, task: Any) -> None:
        self._report(
            task, "task.started", "STARTED", "Luigi: A task has been started!",
            f"A task has been started in the pipeline named: {task.family}", "info", "low",
        )

    def handle_task_failed(self, task: Any) -> None:
        self._report(
            task, "task.failed", "FAILED", "Luigi: A task has failed!",
            f"A task has failed in the pipeline named: {task.family}", "error", "normal",
        )

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        text = (
            f"A task has been disabled in the pipeline named: {task.family}. "
            f"The task has failed {config.retry_count} times in the last {config.disable_window} "
            f"seconds, so it is being disabled for {config.disable_persist} seconds."
        )
        self._report(task, "task.disabled", "DISABLED", "Luigi: A task has been disabled!", text, "error", "normal")

    def handle_task_done(self, task: Any) -> None:
        if task.time_running is None:
            return  # complete before anyone ran it: nothing happened worth an event
        tags = self._tags(task)
        self._send_increment("task.done", tags=tags)
        self._send_gauge("task.execution_time", task.updated - task.time_running, tags=tags)
        self._send_event(
            title="Luigi: A task has been completed!",
            text=f"A task has completed in the pipeline named: {task.family}",
            tags=tags + ["task_state:DONE"], alert_type="info", priority="low",
        )

    def _send_event(self, **params: Any) -> None:
        params["tags"] = params["tags"] + self.default_tags
        api.Event.create(**params)  # type: ignore[attr-defined]

    def _send_gauge(self, metric_name: str, value: float, tags: list[str] | None = None) -> None:
        statsd.gauge(f"{self._config.metric_namespace}.{metric_name}", value, tags=(tags or []) + self.default_tags)

    def _send_increment(self, metric_name: str, value: int = 1, tags: list[str] | None = None) -> None:
        statsd.increment(f"{self._config.metric_namespace}.{metric_name}", value, tags=(tags or []) + self.default_tags)

    def _format_task_params_to_tags(self, task: Any) -> list[str]:
        return [f"{key}:{value}" for key, value in task.params.items()]

    @property
    def default_tags(self) -> list[str]:
        tags = [f"environment:{self._config.environment}"]
        if self._config.default_tags:
            tags.extend(self._config.default_tags.split(","))
        return tags
