"""The command line parser, generated from the registered tasks' parameters.

Every parameter of every registered task gets a global flag
``--<Family>-<param>``; the root task's parameters also get a short
``--<param>``. ``Config`` classes without a command-line section (``core``) get
bare ``--<param>`` flags. While a :class:`CmdlineParser` is the global instance,
parameters read their command-line values through the seam in
:mod:`trunkline.parameter`, so any task built during the run sees them.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager as contextmanager
from typing import Any, NoReturn

from trunkline.parameter import get_cmdline_values, set_cmdline_values
from trunkline.task import Task
from trunkline.task_register import Register, TaskClassNotFoundException


class CommandLineError(SystemExit):
    """A command line that cannot run; carries the message and exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message
        self._reported = False

    def __str__(self) -> str:
        return self.message

    def report(self) -> None:
        """Print the message on stderr, once: Python prints nothing for an exit code."""
        if not self._reported:
            self._reported = True
            print(self.message, file=sys.stderr)


class UnknownTaskError(CommandLineError, TaskClassNotFoundException):
    """The command line names no registered task.

    Both things at once: a script whose ``luigi.run()`` meets a misspelt task name exits with
    one line on stderr (a SystemExit), while callers that catch Luigi's
    ``TaskClassNotFoundException`` (as Luigi's own tests do) still catch it.
    """


_DUAL_CLASSES: dict[type[BaseException], type[CommandLineError]] = {}


def command_line_error_from(exc: Exception, message: str) -> CommandLineError:
    """A CommandLineError (one line on stderr, exit 2) that is also an instance of ``exc``'s
    class, so callers catching Luigi's exception (``MissingParameterException`` from
    ``luigi.run``) still catch it. Falls back to a plain CommandLineError for classes that
    cannot be combined with SystemExit."""
    cls = _DUAL_CLASSES.get(type(exc))
    if cls is None:
        try:
            cls = type(f"{type(exc).__name__}OnCommandLine", (CommandLineError, type(exc)), {})
        except TypeError:
            cls = CommandLineError
        _DUAL_CLASSES[type(exc)] = cls
    return cls(message)


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line with close suggestions."""

    def __init__(self, flags: Sequence[str], allow_abbrev: bool = False) -> None:
        super().__init__(prog="trunkline", add_help=False, allow_abbrev=allow_abbrev)
        self._known_flags = flags

    def error(self, message: str) -> NoReturn:
        match = re.match(r"unrecognized arguments: (.*)", message)
        if match:
            unknown = [arg for arg in match.group(1).split() if arg.startswith("-")]
            hints = []
            for flag in unknown:
                close = difflib.get_close_matches(flag.split("=", 1)[0], self._known_flags, n=3)
                if close:
                    hints.append(f"{flag} (did you mean {' or '.join(close)}?)")
            if hints:
                message = "unrecognized arguments: " + ", ".join(hints)
        raise CommandLineError(f"trunkline: error: {message}")


def _describe(param: Any) -> str:
    """Help text: the description, the parameter's type, and its default if any."""
    from trunkline.parameter import _no_value

    parts = [param.description] if param.description else []
    kind = type(param).__name__.removesuffix("Parameter") or "Str"
    default = getattr(param, "_default", _no_value)
    if default is _no_value:
        parts.append(f"[{kind}, required]")
    else:
        try:
            shown = param.serialize(param.normalize(default)) if default is not None else "None"
        except Exception:  # noqa: BLE001 - a default that only makes sense at run time
            shown = repr(default)
        parts.append(f"[{kind}, default: {shown}]")
    # argparse treats % as a format character
    return " ".join(parts).replace("%", "%%")


class _KnownArgsValues:
    """Gives parameters their ``--Family-param`` values from parsed arguments."""

    def __init__(self, known_args: argparse.Namespace) -> None:
        self._known_args = known_args

    def raw_value(self, task_family: str, param_name: str) -> object | None:
        return getattr(self._known_args, f"{task_family}_{param_name}", None)


class CmdlineParser:
    """Parses a command line and makes its values visible to parameters."""

    _instance: CmdlineParser | None = None

    @classmethod
    def get_instance(cls) -> CmdlineParser | None:
        return cls._instance

    @classmethod
    @contextlib.contextmanager
    def global_instance(
        cls, cmdline_args: Sequence[str], allow_override: bool = False
    ) -> Iterator[CmdlineParser]:
        previous = cls._instance
        if previous is not None and not allow_override:
            raise RuntimeError("A command line is already being parsed; pass allow_override=True")
        previous_values = get_cmdline_values()
        parser = CmdlineParser(cmdline_args)
        cls._instance = parser
        set_cmdline_values(_KnownArgsValues(parser.known_args))
        try:
            yield parser
        finally:
            cls._instance = previous
            set_cmdline_values(previous_values)

    def __init__(self, cmdline_args: Sequence[str]) -> None:
        args = list(cmdline_args)
        known, _ = self._build_parser().parse_known_args(args)
        self._load_module(known)
        # Parse again: the module may have registered the task named first.
        known, _ = self._build_parser().parse_known_args(args)
        root_task = known.root_task
        # The final parse knows every flag, so a unique prefix (`--A-l` for `--A-l-param`) is
        # accepted as Luigi's argparse accepts it; the passes before it must not guess.
        parser = self._build_parser(root_task=root_task, help_all=known.core_help_all, abbreviations=True)
        if known.core_help or known.core_help_all:
            parser.print_help()
            sys.exit(0)
        if not root_task:
            raise CommandLineError(
                "trunkline: error: No task specified. Name the task to run, e.g. "
                "'trunkline --module my_module MyTask --local-scheduler'"
            )
        try:
            Register.get_task_cls(root_task)  # a clear error for a misspelt task
        except TaskClassNotFoundException as exc:
            raise UnknownTaskError("trunkline: error: " + " ".join(str(exc).split("\n"))) from None
        self.known_args = parser.parse_args(args)

    @staticmethod
    def _build_parser(
        root_task: str | None = None, help_all: bool = False, abbreviations: bool = False
    ) -> _Parser:
        specs: list[tuple[str, str | None, dict[str, Any]]] = []
        for task_name, without_section, param_name, param in Register.get_all_params():
            shown = task_name == root_task or help_all or param.always_in_help
            help_text = _describe(param) if shown else argparse.SUPPRESS
            flag = param_name if without_section else f"{task_name}_{param_name}"
            kwargs = param._parser_kwargs(param_name, task_name)
            specs.append(("--" + flag.replace("_", "-"), help_text, kwargs))
            if task_name == root_task:
                local = dict(param._parser_kwargs(param_name))
                specs.append(("--" + param_name.replace("_", "-"), help_text, local))
        parser = _Parser([flag for flag, _, _ in specs], allow_abbrev=abbreviations)
        parser.add_argument(
            "root_task", nargs="?", metavar="Required root task", help="Task family to run"
        )
        for spec_flag, spec_help, kwargs in specs:
            with contextlib.suppress(
                argparse.ArgumentError
            ):  # a flag defined twice keeps the first
                parser.add_argument(spec_flag, help=spec_help, **kwargs)
        return parser

    @staticmethod
    def _load_module(known: argparse.Namespace) -> None:
        module = getattr(known, "core_module", None)
        if module:
            try:
                __import__(module)
            except ModuleNotFoundError as exc:
                if exc.name and module.startswith(exc.name):
                    raise CommandLineError(
                        f"trunkline: error: --module {module}: no module named {exc.name!r}. "
                        "The trunkline command does not search the current directory (as luigi's "
                        "does not): put the module's directory on PYTHONPATH, e.g. "
                        f"PYTHONPATH=. trunkline --module {module} ..."
                    ) from exc
                raise
            except SyntaxError as exc:
                # The user's file does not parse: say where, without a traceback through the
                # command's own frames (Python's "line N" and caret are the useful part).
                where = f"{exc.filename}, line {exc.lineno}" if exc.filename else "unknown file"
                raise CommandLineError(
                    f"trunkline: error: --module {module}: syntax error in {where}: {exc.msg}"
                ) from exc

    def check_values(self, *config_classes: type[Task]) -> None:
        """Parse every value these ``Config`` classes read, from flags and files.

        A bad value then stops the run at once with one line naming the flag
        (or the configuration key) instead of failing deep inside it.
        """
        for config_cls in config_classes:
            family = config_cls.get_task_family()
            for name, param in config_cls.get_params():
                raw = getattr(self.known_args, f"{family}_{name}", None)
                try:
                    param.task_value(family, name)
                except Exception as exc:
                    if raw:
                        # a property (truthy) on Task; classes like core set it to False
                        bare = getattr(config_cls, "use_cmdline_section", True) is False
                        dashed = name if bare else f"{family}_{name}"
                        where = f"--{dashed.replace('_', '-')} {raw!r}"
                    else:
                        where = f"[{family}] {name} in the configuration"
                    raise CommandLineError(
                        f"trunkline: error: {where}: not a valid value for {family}.{name} "
                        f"({type(param).__name__}): {exc}"
                    ) from exc

    def get_task_obj(self) -> Task:
        return self._get_task_cls()(**self._get_task_kwargs())

    def _get_task_cls(self) -> type[Task]:
        return Register.get_task_cls(self.known_args.root_task)  # type: ignore[no-any-return]

    def _get_task_kwargs(self) -> dict[str, Any]:
        kwargs = {}
        task_cls = self._get_task_cls()
        for name, param in task_cls.get_params():
            raw = getattr(self.known_args, name, None)
            if raw:
                try:
                    kwargs[name] = param.parse(raw)
                except Exception as exc:
                    # still the parameter's own exception class (TaskParameter raises
                    # TaskClassNotFoundException), which Luigi's callers catch
                    raise command_line_error_from(
                        exc,
                        f"trunkline: error: --{name.replace('_', '-')} {raw!r}: not a valid value "
                        f"for {task_cls.get_task_family()}.{name} ({type(param).__name__}): {exc}",
                    ) from exc
        return kwargs
