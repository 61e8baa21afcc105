"""Prometheus metrics for the scheduler (Luigi's ``luigi.contrib.prometheus_metric``).

Set ``[scheduler] metrics_collector = prometheus``; the scheduler's ``/metrics``
page then serves counters of started, failed, disabled and done tasks and each
task's last execution time, labelled by family (and by the task parameters
named in ``[prometheus] task_parameters_to_use_in_labels``).
Needs the ``prometheus`` extra: ``pip install trunkline[prometheus]``.
"""

from __future__ import annotations

from typing import Any

_prometheus: Any
try:
    import prometheus_client as _prometheus
except ImportError:  # importable without it; the collector says what to install
    _prometheus = None

from trunkline import parameter
from trunkline.metrics import MetricsCollector
from trunkline.task import Config


class prometheus(Config):  # noqa: N801 - the class name is the config section name
    use_task_family_in_labels = parameter.BoolParameter(default=True, parsing=parameter.BoolParameter.EXPLICIT_PARSING)
    task_parameters_to_use_in_labels = parameter.ListParameter(default=())


class PrometheusMetricsCollector(MetricsCollector):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _prometheus is None:
            raise ImportError("PrometheusMetricsCollector needs prometheus-client: pip install 'trunkline[prometheus]'")
        self.registry = _prometheus.CollectorRegistry()
        config = prometheus(**kwargs)
        self.labels = list(config.task_parameters_to_use_in_labels)
        if config.use_task_family_in_labels:
            self.labels.append("family")
        if not self.labels:
            raise ValueError(
                "Prometheus labels cannot be empty: set [prometheus] use_task_family_in_labels "
                "or task_parameters_to_use_in_labels"
            )

        def counter(name: str, what: str) -> Any:
            return _prometheus.Counter(name, what, self.labels, registry=self.registry)

        self.task_started_counter = counter("luigi_task_started_total", "number of started luigi tasks")
        self.task_failed_counter = counter("luigi_task_failed_total", "number of failed luigi tasks")
        self.task_disabled_counter = counter("luigi_task_disabled_total", "number of disabled luigi tasks")
        self.task_done_counter = counter("luigi_task_done_total", "number of done luigi tasks")
        self.task_execution_time = _prometheus.Gauge(
            "luigi_task_execution_time_seconds", "luigi task execution time in seconds", self.labels,
            registry=self.registry,
        )

    def _generate_task_labels(self, task: Any) -> dict[str, Any]:
        return {label: task.family if label == "family" else task.params.get(label) for label in self.labels}

    def _record_duration(self, task: Any) -> None:
        # time_running is None for a task that was complete before anyone ran it
        if task.time_running is not None:
            self.task_execution_time.labels(**self._generate_task_labels(task)).set(task.updated - task.time_running)

    def generate_latest(self) -> bytes:
        result: bytes = _prometheus.generate_latest(self.registry)
        return result

    def handle_task_started(self, task: Any) -> None:
        self.task_started_counter.labels(**self._generate_task_labels(task)).inc()
        self.task_execution_time.labels(**self._generate_task_labels(task))

    def handle_task_failed(self, task: Any) -> None:
        self.task_failed_counter.labels(**self._generate_task_labels(task)).inc()
        self._record_duration(task)

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        self.task_disabled_counter.labels(**self._generate_task_labels(task)).inc()
        self._record_duration(task)

    def handle_task_done(self, task: Any) -> None:
        self.task_done_counter.labels(**self._generate_task_labels(task)).inc()
        self._record_duration(task)

    def configure_http_handler(self, http_handler: Any) -> None:
        http_handler.set_header("Content-Type", _prometheus.CONTENT_TYPE_LATEST)
