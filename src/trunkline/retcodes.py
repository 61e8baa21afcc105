"""Process exit codes from the ``[retcode]`` section, decided after a run.

The exit code is the largest configured code whose condition holds. With every
code left at 0 (Luigi's defaults, kept for compatibility) a run exits 0 unless
the root task did not complete, which gives ``not_run``.
"""

from __future__ import annotations

import configparser
import logging
import sys
import traceback
from collections.abc import Sequence

from trunkline import execution_summary, interface
from trunkline.cmdline_parser import CmdlineParser, CommandLineError
from trunkline.lock import LockDirectoryError, PidLockAlreadyTakenExit
from trunkline.parameter import IntParameter, MissingParameterException, ParameterException
from trunkline.rpc import RPCError
from trunkline.setup_logging import InterfaceLogging, LoggingConfigError
from trunkline.task import Config
from trunkline.task_register import TaskClassException

logger = logging.getLogger("luigi-interface")


class retcode(Config):  # the class name is the config section name
    unhandled_exception = IntParameter(default=4, description="For internal errors")
    missing_data = IntParameter(default=0, description="For incomplete ExternalTask dependencies")
    task_failed = IntParameter(default=0, description="For when a task's run() fails")
    already_running = IntParameter(default=0, description="For when the process lock is taken")
    scheduling_error = IntParameter(
        default=0, description="For when complete() or requires() fails, or task-limit is reached"
    )
    not_run = IntParameter(
        default=0, description="For when a task is not granted run permission by the scheduler"
    )


def _unhandled_exception_code() -> int:
    """``[retcode] unhandled_exception`` from the files alone (the command line did not parse)."""
    try:
        return int(retcode().unhandled_exception)
    except Exception:  # noqa: BLE001 - a bad value there too: fall back to the default
        return int(retcode.unhandled_exception._default)


def run_with_retcodes(argv: Sequence[str]) -> None:
    """Run a command line and exit the process with the configured code."""
    argv = list(argv)
    try:
        with CmdlineParser.global_instance(argv) as parser:
            parser.check_values(retcode)
            codes = retcode()
    except (CommandLineError, TaskClassException, ParameterException, configparser.Error):
        raise  # one clear line, printed by the command
    except Exception:  # noqa: BLE001 - importing --module failed: the traceback is the user's bug
        traceback.print_exc()
        sys.exit(_unhandled_exception_code())
    try:
        worker = interface._run(argv).worker
    except PidLockAlreadyTakenExit:
        sys.exit(codes.already_running)
    except CommandLineError as exc:
        if isinstance(exc.__cause__, MissingParameterException):
            # The task cannot be built without a value: one clear line, and Luigi's code for
            # it, [retcode] unhandled_exception. Unparsable values and usage errors keep 2.
            exc.report()
            sys.exit(codes.unhandled_exception)
        raise
    except (LoggingConfigError, LockDirectoryError) as exc:
        raise CommandLineError(f"trunkline: error: {exc}") from exc
    except RPCError as exc:
        print(f"trunkline: error: {exc}", file=sys.stderr)
        sys.exit(codes.unhandled_exception)
    except Exception:
        InterfaceLogging.setup(interface.core())
        logger.exception("Uncaught exception in luigi")
        sys.exit(codes.unhandled_exception)

    with CmdlineParser.global_instance(argv):
        sets = execution_summary._summary_dict(worker)
        root = execution_summary._root_task(worker)
    present = {name for name, tasks in sets.items() if tasks}
    conditions = (
        (codes.missing_data, "still_pending_ext"),
        (codes.task_failed, "failed"),
        (codes.already_running, "run_by_other_worker"),
        (codes.scheduling_error, "scheduling_error"),
        (codes.not_run, "not_run"),
    )
    exit_code = max(code if name in present else 0 for code, name in conditions)
    if exit_code == 0 and root not in sets["completed"] and root not in sets["already_done"]:
        sys.exit(codes.not_run)
    sys.exit(exit_code)
