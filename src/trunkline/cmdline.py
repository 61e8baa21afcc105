"""Console entry points: ``trunkline`` (``python -m trunkline``) and its subcommands.

``trunkline [--module m] Task [--param v ...]`` runs a workflow, exiting with the
``[retcode]`` code. ``trunkline scheduler ...`` starts the central scheduler
(the same as ``trunklined``); ``trunkline deps-tree ...`` and ``trunkline deps ...``
print a task's dependencies.
"""

from __future__ import annotations

import argparse as argparse
import configparser
import sys
from collections.abc import Sequence

from trunkline.cmdline_parser import CommandLineError
from trunkline.configuration import get_config
from trunkline.parameter import ParameterException
from trunkline.setup_logging import DaemonLogging as DaemonLogging
from trunkline.task_register import TaskClassException

_SUBCOMMANDS = ("scheduler", "deps", "deps-tree")


def _fail(message: str, code: int = 2) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def _alias_luigi(argv: Sequence[str] | None) -> None:
    """Let the user's ``import luigi`` (and their libraries') get trunkline.

    Done by the commands as process entry points (``argv`` not given), before
    any user module is imported; a program that calls ``trunkline_run([...])``
    itself decides for its own process. ``TRUNKLINE_AS_LUIGI=0`` turns it off.
    """
    from trunkline._luigi_alias import LuigiAliasError, alias_disabled_by_environment, install_as_luigi

    if argv is not None or alias_disabled_by_environment():
        return
    try:
        install_as_luigi()
    except LuigiAliasError as exc:
        # Something (a sitecustomize, a .pth) imported a real Luigi first: run on, and say so.
        print(f"trunkline: warning: {exc}", file=sys.stderr)


def trunkline_run(argv: Sequence[str] | None = None) -> None:
    _alias_luigi(argv)
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in _SUBCOMMANDS:
        _run_subcommand(args[0], args[1:])
        return
    try:
        # Read the files first: a malformed one is reported as itself, once.
        get_config()
        from trunkline.retcodes import run_with_retcodes

        run_with_retcodes(args)
    except CommandLineError as exc:
        _fail(exc.message)
    except (TaskClassException, ParameterException, configparser.Error) as exc:
        _fail(f"trunkline: error: {exc}")


def _run_subcommand(name: str, args: list[str], prog: str | None = None) -> None:
    try:
        get_config()
        if name == "scheduler":
            from trunkline import server

            server.main(args, prog=prog or "trunkline scheduler")
        elif name == "deps":
            from trunkline.tools import deps

            deps.main(args)
        else:
            from trunkline.tools import deps_tree

            deps_tree.main(args)
    except CommandLineError as exc:
        _fail(exc.message)
    except (TaskClassException, ParameterException, configparser.Error) as exc:
        _fail(f"trunkline: error: {exc}")


def trunklined_run(argv: Sequence[str] | None = None) -> None:
    """The ``trunklined`` command: ``trunkline scheduler`` under luigid's role."""
    _alias_luigi(argv)
    _run_subcommand("scheduler", list(sys.argv[1:] if argv is None else argv), prog="trunklined")


def luigi_run(argv: Sequence[str] | None = None) -> None:
    """Luigi's ``luigi`` command name, for scripts that call it."""
    trunkline_run(argv)


def luigid(argv: Sequence[str] | None = None) -> None:
    """Luigi's ``luigid`` entry point: the central scheduler.

    Takes luigid's options (``--background --pidfile --logdir --state-path --address
    --unix-socket --port``); they are a subset of ``trunklined``'s. One difference on purpose:
    without ``--address`` the scheduler listens on loopback only, not on every interface.
    """
    trunklined_run(argv)


def __getattr__(name: str) -> object:
    # run_with_retcodes builds the whole run path (worker, scheduler, rpc); importing it
    # lazily keeps `trunkline scheduler` and `--help` from paying for it.
    if name == "run_with_retcodes":
        from trunkline.retcodes import run_with_retcodes

        return run_with_retcodes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
