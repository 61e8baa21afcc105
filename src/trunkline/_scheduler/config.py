"""The ``[scheduler]`` configuration section (Luigi's ``luigi.scheduler.scheduler``)."""

from __future__ import annotations

from trunkline._scheduler.records import RetryPolicy
from trunkline.metrics import MetricsCollectors
from trunkline.parameter import BoolParameter, EnumParameter, FloatParameter, IntParameter, Parameter
from trunkline.task import Config


class scheduler(Config):  # noqa: N801 - the class name is the config section name
    retry_delay = FloatParameter(default=900.0)
    remove_delay = FloatParameter(default=600.0)
    worker_disconnect_delay = FloatParameter(default=60.0)
    state_path = Parameter(default="")
    batch_emails = BoolParameter(default=False)
    disable_window = IntParameter(default=3600, config_path={"section": "scheduler", "name": "disable-window-seconds"})
    retry_count = IntParameter(default=999999999, config_path={"section": "scheduler", "name": "disable-num-failures"})
    disable_hard_timeout = IntParameter(default=999999999, config_path={"section": "scheduler", "name": "disable-hard-timeout"})
    disable_persist = IntParameter(default=86400, config_path={"section": "scheduler", "name": "disable-persist-seconds"})
    max_shown_tasks = IntParameter(default=100000)
    max_graph_nodes = IntParameter(default=100000)
    record_task_history = BoolParameter(default=False)
    prune_on_get_work = BoolParameter(default=False)
    pause_enabled = BoolParameter(default=True)
    send_messages = BoolParameter(default=True)
    metrics_collector = EnumParameter(enum=MetricsCollectors, default=MetricsCollectors.default)
    metrics_custom_import = Parameter(default="")
    stable_done_cooldown_secs = IntParameter(default=10)
    # trunkline: a shared secret every mutating API call must carry (empty: no auth).
    auth_token = Parameter(default="", significant=False)
    # trunkline: the most tasks one work_cycle call leases to one worker (1 behaves like get_work).
    lease_max_tasks = IntParameter(default=100)

    def _get_retry_policy(self) -> RetryPolicy:
        """The retry policy every task gets unless it brings its own."""
        return RetryPolicy(self.retry_count, self.disable_hard_timeout, self.disable_window)
