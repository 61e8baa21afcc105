"""A parameter whose value is a task class, written as its family name."""

from __future__ import annotations

from typing import Any

from trunkline._parameter._base import Parameter


class TaskParameter(Parameter[Any]):
    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return x
        # Imported late: the task register is built on top of parameters.
        from trunkline.task_register import Register

        return Register.get_task_cls(x)

    def serialize(self, x: Any) -> str:
        return str(x.get_task_family())
