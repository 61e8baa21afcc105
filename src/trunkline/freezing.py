"""Immutable, hashable versions of dicts and lists (Luigi's ``luigi.freezing``).

Parameter values must be hashable (tasks are cached and compared by them), so
dict values become :class:`FrozenOrderedDict` and lists become tuples.
"""

from __future__ import annotations

import functools as functools
import operator as operator
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any


class FrozenOrderedDict(Mapping[Any, Any]):
    """An ordered mapping that cannot change, and so can be hashed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict = OrderedDict(*args, **kwargs)
        self.__hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        return self.__dict[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.__dict)

    def __len__(self) -> int:
        return len(self.__dict)

    def __repr__(self) -> str:
        return f"<FrozenOrderedDict {dict(self.__dict)!r}>"

    def __hash__(self) -> int:
        if self.__hash is None:
            self.__hash = hash(tuple(self.__dict.items()))
        return self.__hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.__dict) == dict(other)
        return NotImplemented

    def get_wrapped(self) -> OrderedDict[Any, Any]:
        return self.__dict


def recursively_freeze(value: Any) -> Any:
    """Dicts become FrozenOrderedDicts and lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return FrozenOrderedDict((k, recursively_freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(recursively_freeze(v) for v in value)
    return value


def recursively_unfreeze(value: Any) -> Any:
    """The inverse: plain dicts and lists, e.g. for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: recursively_unfreeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [recursively_unfreeze(v) for v in value]
    return value
