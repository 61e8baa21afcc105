"""List every task on a path from a task to an upstream family, with its outputs.

    trunkline deps --module my_workflows RunAll --upstream-family DataDump

Without ``--upstream-family`` every dependency is listed (Luigi's ``luigi-deps``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable as Iterable
from collections.abc import Iterator, Sequence

from trunkline import parameter as parameter

from trunkline.cmdline_parser import CmdlineParser
from trunkline.parameter import OptionalParameter
from trunkline.target import FileSystemTarget
from trunkline.task import Config, Task, flatten


class upstream(Config):  # noqa: N801 - the class name is the config section name
    family = OptionalParameter(default=None, description="Family to find the paths to")


def get_task_requires(task: Task) -> set[Task]:
    return set(flatten(task.requires()))


def dfs_paths(start_task: Task, goal_task_family: str | None) -> Iterator[Task]:
    """Every task on some path from ``start_task`` to a task of the goal family.

    Iterative, remembering which tasks reach the goal, so a deep or much-shared
    graph costs time linear in its size.
    """
    reaches: dict[Task, bool] = {}
    stack: list[tuple[Task, list[Task]]] = [(start_task, sorted(get_task_requires(start_task), key=str))]
    on_path = {start_task}
    while stack:
        task, pending = stack[-1]
        if pending:
            child = pending.pop()
            if child not in reaches and child not in on_path:
                on_path.add(child)
                stack.append((child, sorted(get_task_requires(child), key=str)))
            continue
        stack.pop()
        on_path.discard(task)
        is_goal = goal_task_family is None or task.task_family == goal_task_family
        reaches[task] = is_goal or any(reaches.get(c, False) for c in get_task_requires(task))
    return (task for task, ok in reaches.items() if ok)


def find_deps(task: Task, upstream_task_family: str | None) -> set[Task]:
    return set(dfs_paths(task, upstream_task_family))


def find_deps_cli() -> set[Task]:
    """The tasks on every path from the task named on the command line to `--upstream-family`."""
    with CmdlineParser.global_instance(sys.argv[1:]) as parser:
        return find_deps(parser.get_task_obj(), upstream().family)


def get_task_output_description(task_output: object) -> str:
    if isinstance(task_output, FileSystemTarget):
        return f"[FileSystem] {task_output.path}"
    return "to be determined"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    with CmdlineParser.global_instance(args) as parser:
        tasks = find_deps(parser.get_task_obj(), upstream().family)
    for task in sorted(tasks, key=str):
        print(f"   TASK: {task}")
        for output in flatten(task.output()):
            print(f"                       : {get_task_output_description(output)}")


if __name__ == "__main__":
    main()
