"""The ``[worker]`` configuration section (Luigi's ``luigi.worker.worker``)."""

from __future__ import annotations

import datetime

from trunkline.parameter import (
    BoolParameter,
    FloatParameter,
    IntParameter,
    OptionalIntParameter,
    OptionalParameter,
    Parameter,
    TimeDeltaParameter,
)
from trunkline.task import Config


def _core(name: str) -> dict[str, str]:
    # Luigi still reads the old ``[core] worker-*`` spellings as a fallback.
    return {"section": "core", "name": name}


class worker(Config):  # noqa: N801 - the class name is the config section name
    """Worker behaviour; every key can also be given as ``--worker-<key>``."""

    id = Parameter(default="", description="Override the auto-generated worker id")
    ping_interval = FloatParameter(default=1.0, config_path=_core("worker-ping-interval"))
    keep_alive = BoolParameter(default=False, config_path=_core("worker-keep-alive"))
    count_uniques = BoolParameter(
        default=False,
        config_path=_core("worker-count-uniques"),
        description="With keep_alive, stay only while a pending task is unique to this worker",
    )
    count_last_scheduled = BoolParameter(
        default=False,
        description="With keep_alive, stay only while this worker last scheduled a pending task",
    )
    wait_interval = FloatParameter(default=1.0, config_path=_core("worker-wait-interval"))
    wait_jitter = FloatParameter(default=5.0)
    max_keep_alive_idle_duration = TimeDeltaParameter(default=datetime.timedelta(0))
    max_reschedules = IntParameter(default=1, config_path=_core("worker-max-reschedules"))
    timeout = IntParameter(default=0, config_path=_core("worker-timeout"))
    task_limit = OptionalIntParameter(default=None, config_path=_core("worker-task-limit"))
    retry_external_tasks = BoolParameter(
        default=False,
        config_path=_core("retry-external-tasks"),
        description="Re-check incomplete external tasks while the worker runs",
    )
    send_failure_email = BoolParameter(default=True, description="E-mail on task failure")
    no_install_shutdown_handler = BoolParameter(
        default=False, description="Do not install the SIGUSR1 'finish and stop' handler"
    )
    check_unfulfilled_deps = BoolParameter(
        default=True, description="Re-check dependencies are complete just before running a task"
    )
    check_complete_on_run = BoolParameter(
        default=False, description="Mark a task done only if complete() is true after run()"
    )
    force_multiprocessing = BoolParameter(
        default=False, description="Run tasks in child processes even with one worker"
    )
    task_process_context = OptionalParameter(
        default=None,
        description="Dotted class name used as a context manager around each task's run()",
    )
    cache_task_completion = BoolParameter(
        default=False, description="Cache successful complete() checks for the worker's lifetime"
    )
    # trunkline: how many threads check complete() concurrently while walking the
    # graph. Checks go concurrent only once they prove slow (remote storage); fast
    # local checks stay on one thread, where a pool would only add overhead.
    check_complete_threads = IntParameter(
        default=16, description="Threads for concurrent complete() checks of slow targets"
    )
