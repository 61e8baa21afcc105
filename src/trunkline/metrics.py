"""Metrics collectors the scheduler feeds (Luigi's ``luigi.metrics``).

``[scheduler] metrics_collector`` picks one: ``default``/``none`` (nothing),
``prometheus`` or ``datadog`` (in ``trunkline.contrib``, each an optional extra)
or ``custom`` (the class named by ``metrics_custom_import``). The scheduler
calls the ``handle_*`` hooks as tasks start, fail, are disabled or finish; the
server's ``/metrics`` page answers ``generate_latest()``.
"""

from __future__ import annotations

import abc
import importlib
from enum import Enum
from typing import Any


class MetricsCollectors(Enum):
    custom = -1
    default = 1
    none = 1  # an alias of default: no collector
    datadog = 2
    prometheus = 3

    @classmethod
    def get(cls, which: Any, custom_import: str | None = None) -> MetricsCollector:
        """A collector instance for ``which`` (a member, or its name as in the config)."""
        if isinstance(which, str):
            try:
                which = cls[which]
            except KeyError:
                raise ValueError(f"metrics_collector {which!r} isn't supported; use one of {list(cls.__members__)}") from None
        if which == cls.none:
            return NoMetricsCollector()
        if which == cls.datadog:
            from trunkline.contrib.datadog_metric import DatadogMetricsCollector

            return DatadogMetricsCollector()
        if which == cls.prometheus:
            from trunkline.contrib.prometheus_metric import PrometheusMetricsCollector

            return PrometheusMetricsCollector()
        if which == cls.custom:
            if not custom_import:
                raise ValueError(f"MetricsCollectors value ' {which} ' is -1 and custom_import is None")
            module_path, _, class_name = custom_import.rpartition(".")
            collector_class = getattr(importlib.import_module(module_path), class_name)
            if not (isinstance(collector_class, type) and issubclass(collector_class, MetricsCollector)):
                raise ValueError(f"Custom Import: {custom_import} is not a subclass of MetricsCollector")
            return collector_class()
        raise ValueError(f"MetricsCollectors value ' {which} ' isn't supported")


class MetricsCollector(metaclass=abc.ABCMeta):
    """What a metrics collector implements; subclass it for a custom one."""

    @abc.abstractmethod
    def __init__(self) -> None:
        pass

    @abc.abstractmethod
    def handle_task_started(self, task: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_failed(self, task: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_disabled(self, task: Any, config: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_done(self, task: Any) -> None:
        pass

    def handle_task_statistics(self, task: Any, statistics: Any) -> None:
        pass

    def generate_latest(self) -> Any:
        """The body of the ``/metrics`` page (None: the page is empty)."""
        return None

    def configure_http_handler(self, http_handler: Any) -> None:
        """Set headers (e.g. the content type) on the ``/metrics`` response."""


class NoMetricsCollector(MetricsCollector):
    """The default: collects nothing."""

    def __init__(self) -> None:
        pass

    def handle_task_started(self, task: Any) -> None:
        pass

    def handle_task_failed(self, task: Any) -> None:
        pass

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        pass

    def handle_task_done(self, task: Any) -> None:
        pass
