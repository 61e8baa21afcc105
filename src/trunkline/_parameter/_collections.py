"""Dicts, lists and tuples: JSON on the command line, frozen (hashable) in tasks."""

from __future__ import annotations

import json
from ast import literal_eval
from typing import Any

from trunkline.freezing import FrozenOrderedDict, recursively_freeze, recursively_unfreeze
from trunkline._parameter._base import OptionalParameterMixin, Parameter, _no_value, _shell

try:
    import jsonschema
except ImportError:  # optional: only needed for schema= validation
    jsonschema = None


class _FrozenEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, FrozenOrderedDict):
            return o.get_wrapped()
        return super().default(o)


class _SchemaParameter(Parameter[Any]):
    def __init__(self, default: Any = _no_value, *, schema: Any = None, **kwargs: Any) -> None:
        if schema is not None and not _shell()._JSONSCHEMA_ENABLED:
            _shell().warnings.warn(
                "The 'jsonschema' package is not installed so the parameter can not be validated "
                "even though a schema is given."
            )
            schema = None
        self.schema = schema
        super().__init__(default=default, **kwargs)

    def normalize(self, x: Any) -> Any:
        if self.schema is not None:
            plain = recursively_unfreeze(x)
            try:
                self.schema.validate(plain)  # a validator object
            except AttributeError:
                jsonschema.validate(instance=plain, schema=self.schema)
            x = plain
        return recursively_freeze(x)

    def serialize(self, x: Any) -> str:
        return json.dumps(x, cls=_FrozenEncoder)


class DictParameter(_SchemaParameter):
    """A JSON object; the value is a ``FrozenOrderedDict``."""

    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return x
        return json.loads(x, object_pairs_hook=FrozenOrderedDict)


class OptionalDictParameter(OptionalParameterMixin[Any], DictParameter):
    expected_type = FrozenOrderedDict


class ListParameter(_SchemaParameter):
    """A JSON array; the value is a tuple (lists inside become tuples too)."""

    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return list(x) if x is not None else None
        value = json.loads(x, object_pairs_hook=FrozenOrderedDict)
        return None if value is None else list(value)


class OptionalListParameter(OptionalParameterMixin[Any], ListParameter):
    expected_type = tuple


class TupleParameter(ListParameter):
    """A tuple of tuples, from JSON (``[[1, 2], [3, 4]]``) or a Python literal."""

    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return tuple(x)
        try:
            return tuple(
                item if isinstance(item, str) else tuple(item)
                for item in json.loads(x, object_pairs_hook=FrozenOrderedDict)
            )
        except (ValueError, TypeError):
            result = literal_eval(x)
            if isinstance(result, str):
                raise ValueError(f"Parsed result cannot be a string: {x!r}") from None
            return tuple(result)


class OptionalTupleParameter(OptionalParameterMixin[Any], TupleParameter):
    expected_type = tuple
