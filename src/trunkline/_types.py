"""Type aliases shared across trunkline's layers."""

from __future__ import annotations

from typing import Any, TypeAlias

TaskId: TypeAlias = str
WorkerId: TypeAlias = str
Family: TypeAlias = str
# Task parameters as they travel: name -> serialized string.
ParamDict: TypeAlias = dict[str, str]
Json: TypeAlias = Any
