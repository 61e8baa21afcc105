"""Print a task's dependency tree with each task's completeness.

    trunkline deps-tree --module my_workflows RunAll
    python -m trunkline.tools.deps_tree --module my_workflows RunAll

The format is Luigi's ``luigi-deps-tree``. A task reached again through another
path (a diamond) is printed once in full; later occurrences show only its line,
ending in ``...``, so a graph with much sharing prints in linear size.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from trunkline.cmdline_parser import CmdlineParser
from trunkline.task import Task, flatten

class bcolors:  # noqa: N801 - Luigi's name
    """The terminal colours of a task's status."""

    OKBLUE = "\033[94m"
    OKGREEN = "\033[92m"
    ENDC = "\033[0m"


_GREEN = bcolors.OKGREEN
_BLUE = bcolors.OKBLUE
_END = bcolors.ENDC


def _status(task: Task, colour: bool) -> str:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Task .* without outputs has no custom complete")
        complete = task.complete()
    word = "COMPLETE" if complete else "PENDING"
    if not colour:
        return word
    return f"{_GREEN if complete else _BLUE}{word}{_END}"


def print_tree(task: Task, indent: str = "", last: bool = True, colour: bool = False) -> str:
    """The tree below ``task`` as text; iterative, so any depth works."""
    lines: list[str] = []
    shown: set[str] = set()
    # (task, indent, last) still to print, in print order
    stack: list[tuple[Task, str, bool]] = [(task, indent, last)]
    while stack:
        current, prefix, is_last = stack.pop()
        branch, child_prefix = ("└─--", prefix + "    ") if is_last else ("|---", prefix + "|   ")
        params = current.to_str_params(only_significant=True)
        repeated = current.task_id in shown
        line = f"{prefix}{branch}[{type(current).__name__}-{params} ({_status(current, colour)})]"
        lines.append(line + (" ..." if repeated else ""))
        if repeated:
            continue
        shown.add(current.task_id)
        children = flatten(current.requires())
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], child_prefix, index == len(children) - 1))
    return "\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    with CmdlineParser.global_instance(args) as parser:
        print(print_tree(parser.get_task_obj(), colour=sys.stdout.isatty()))


if __name__ == "__main__":
    main()
