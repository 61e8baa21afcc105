"""``build()`` and ``run()``: put configuration, a scheduler and a worker together."""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from trunkline import lock, parameter, rpc, scheduler, task, worker  # parameter, task: Luigi's module names here
from trunkline.cmdline_parser import CmdlineParser, CommandLineError, command_line_error_from
from trunkline.configuration import get_config
from trunkline.execution_summary import LuigiRunResult
from trunkline.lock import PidLockAlreadyTakenExit
from trunkline.parameter import (
    BoolParameter,
    ChoiceParameter,
    IntParameter,
    Parameter,
    ParameterException,
)
from trunkline.setup_logging import InterfaceLogging
from trunkline.task import Config, Task

__all__ = ["PidLockAlreadyTakenExit", "build", "core", "run"]


def _core_alias(name: str) -> dict[str, str]:
    return {"section": "core", "name": name}


class core(Config):  # the class name is the config section name
    """The ``[core]`` section; its parameters are bare flags (``--workers``).

    The flags a cron job needs are ``always_in_help``, so plain ``--help``
    lists them (Luigi's shows only four); ``--help-all`` shows the rest.
    """

    use_cmdline_section = False
    ignore_unconsumed: ClassVar[set[str]] = {"autoload_range", "no_configure_logging"}

    local_scheduler = BoolParameter(
        default=False,
        description="Use an in-process scheduler (no service needed)",
        always_in_help=True,
    )
    scheduler_host = Parameter(
        default="localhost",
        description="Host of the central scheduler",
        config_path=_core_alias("default-scheduler-host"),
        always_in_help=True,
    )
    scheduler_port = IntParameter(
        default=8082,
        description="Port of the central scheduler",
        config_path=_core_alias("default-scheduler-port"),
        always_in_help=True,
    )
    scheduler_url = Parameter(
        default="",
        description="Full URL of the central scheduler (overrides host and port)",
        config_path=_core_alias("default-scheduler-url"),
        always_in_help=True,
    )
    lock_size = IntParameter(
        default=1, description="How many processes may run the same command", always_in_help=True
    )
    no_lock = BoolParameter(
        default=False,
        description="Ignore if the same command is already running",
        always_in_help=True,
    )
    lock_pid_dir = Parameter(
        default=os.path.join(tempfile.gettempdir(), "luigi"),
        description="Directory holding the process lock's pid files",
        always_in_help=True,
    )
    take_lock = BoolParameter(
        default=False,
        description="Tell a running copy of this command to stop asking for work, and run",
        always_in_help=True,
    )
    workers = IntParameter(
        default=1, description="How many tasks to run in parallel", always_in_help=True
    )
    logging_conf_file = Parameter(
        default="",
        description="A logging configuration file (logging.config.fileConfig format)",
        always_in_help=True,
    )
    log_level = ChoiceParameter(
        default="DEBUG",
        choices=["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        description="Log level when no logging configuration file is given",
        always_in_help=True,
    )
    module = Parameter(
        default="", description="Module to import the task from", always_in_help=True
    )
    parallel_scheduling = BoolParameter(
        default=False, description="Check complete() concurrently while scheduling"
    )
    parallel_scheduling_processes = IntParameter(
        default=0, description="Threads for parallel scheduling (0: the worker's default)"
    )
    assistant = BoolParameter(default=False, description="Run any task the scheduler offers")
    help = BoolParameter(
        default=False, description="Show the common flags and the task's flags", always_in_help=True
    )
    help_all = BoolParameter(default=False, description="Show every flag", always_in_help=True)


class _WorkerSchedulerFactory:
    def create_local_scheduler(self) -> Any:
        return scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)

    def create_remote_scheduler(self, url: str) -> Any:
        return rpc.RemoteScheduler(url)

    def create_worker(self, scheduler: Any, worker_processes: int, assistant: bool = False) -> Any:
        return worker.Worker(
            scheduler=scheduler, worker_processes=worker_processes, assistant=assistant
        )


def _scheduler_url(env: core) -> str:
    if env.scheduler_url:
        return str(env.scheduler_url)
    return f"http://{env.scheduler_host}:{env.scheduler_port:d}/"


def _schedule_and_run(
    tasks: Iterable[Task],
    worker_scheduler_factory: Any = None,
    override_defaults: dict[str, Any] | None = None,
) -> LuigiRunResult:
    factory = worker_scheduler_factory or _WorkerSchedulerFactory()
    env = core(**(override_defaults or {}))
    InterfaceLogging.setup(env)

    kill_signal = signal.SIGUSR1 if env.take_lock else None
    if not env.no_lock and not lock.acquire_for(env.lock_pid_dir, env.lock_size, kill_signal):
        raise PidLockAlreadyTakenExit()

    if env.local_scheduler:
        sch = factory.create_local_scheduler()
    else:
        sch = factory.create_remote_scheduler(url=_scheduler_url(env))
    the_worker = factory.create_worker(
        scheduler=sch, worker_processes=env.workers, assistant=env.assistant
    )
    if env.parallel_scheduling and env.parallel_scheduling_processes > 0:
        the_worker._checker._threads = env.parallel_scheduling_processes

    success = True
    logger = logging.getLogger("luigi-interface")
    with the_worker:
        for task in tasks:
            success &= the_worker.add(
                task, env.parallel_scheduling, env.parallel_scheduling_processes
            )
        logger.info("Done scheduling tasks")
        success &= the_worker.run()
    result = LuigiRunResult(the_worker, success)
    logger.info(result.summary_text)
    if hasattr(sch, "close"):
        sch.close()
    return result


def run(*args: Any, **kwargs: Any) -> Any:
    """Run from a command line (``sys.argv[1:]`` by default).

    Returns True when scheduling succeeded, or a ``LuigiRunResult`` with
    ``detailed_summary=True``.
    """
    try:
        result = _run(*args, **kwargs)
    except CommandLineError as exc:
        exc.report()  # `python my_module.py --bad-flag` must say what was wrong
        raise
    return result if kwargs.get("detailed_summary") else result.scheduling_succeeded


def _run(
    cmdline_args: Sequence[str] | None = None,
    main_task_cls: type[Task] | None = None,
    worker_scheduler_factory: Any = None,
    use_dynamic_argparse: Any = None,
    local_scheduler: bool = False,
    detailed_summary: bool = False,
) -> LuigiRunResult:
    if cmdline_args is not None and not isinstance(cmdline_args, (list, tuple)):
        raise TypeError(
            "cmdline_args must be a list or tuple of command-line arguments, got "
            f"{type(cmdline_args).__name__!r}. Example: ['MyTask', '--param', 'value']"
        )
    if use_dynamic_argparse is not None:
        warnings.warn(
            "use_dynamic_argparse is deprecated, don't set it.", DeprecationWarning, stacklevel=3
        )
    args = list(sys.argv[1:] if cmdline_args is None else cmdline_args)
    if main_task_cls is not None:
        args.insert(0, main_task_cls.get_task_family())
    if local_scheduler:
        args.append("--local-scheduler")
    # Read the configuration first, so a malformed file is reported as itself
    # rather than as a bad default of whichever parameter looked first.
    get_config()
    with CmdlineParser.global_instance(args) as parser:
        parser.check_values(core)
        _check_workers(core().workers)
        return _schedule_and_run([_root_task(parser)], worker_scheduler_factory)


def _check_workers(workers: int) -> None:
    """A command line asking for no worker processes would schedule and then run
    nothing, and exit as if it had; say so instead. (``build(workers=0)`` keeps
    Luigi's meaning: register the tasks, run none.)"""
    if workers < 1:
        raise CommandLineError(
            f"trunkline: error: --workers must be 1 or more (got {workers}); "
            "it is how many tasks run at the same time"
        )


def _root_task(parser: CmdlineParser) -> Task:
    """The task named on the command line; a bad value is a command-line error."""
    try:
        return parser.get_task_obj()
    except (ParameterException, ValueError) as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
        # Also an instance of exc's class: luigi.run() callers catch MissingParameterException.
        raise command_line_error_from(exc, f"trunkline: error: {exc}{cause}") from exc


def build(
    tasks: Iterable[Task],
    worker_scheduler_factory: Any = None,
    detailed_summary: bool = False,
    **env_params: Any,
) -> Any:
    """Run ``tasks`` and their dependencies, without parsing a command line.

    Unlike ``run``, ``build`` takes no process lock unless ``no_lock=False``.
    Returns True when there were no scheduling errors (tasks may still have
    failed), or a ``LuigiRunResult`` with ``detailed_summary=True``.
    """
    env_params.setdefault("no_lock", True)
    result = _schedule_and_run(tasks, worker_scheduler_factory, override_defaults=env_params)
    return result if detailed_summary else result.scheduling_succeeded
