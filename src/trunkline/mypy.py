"""A mypy plugin that type-checks task parameters (Luigi's ``luigi.mypy``).

Enable it with ``plugins = ["trunkline.mypy"]`` (or ``"luigi.mypy"``) under ``[tool.mypy]``.
It does two things:

- a call to a parameter class has the type of its ``default=`` argument (``Any`` without one),
  so ``count: int = IntParameter()`` type-checks and ``name: str = Parameter(default=1)``
  is reported;
- every ``Task`` subclass gets an ``__init__`` taking its parameters (its own and inherited
  ones) as optional keyword arguments of their declared types, so ``MyTask(count="1")`` and
  ``MyTask(unknown=1)`` are reported. An annotation that is itself a parameter type
  (``count: IntParameter = IntParameter()``) means the parameter's value type (``int``).

Every argument is optional because a value may come from the configuration or the command
line. Positional arguments are accepted unchecked, as Task accepts them at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

# mypy's own modules import each other in an order that only works when mypy.plugin comes
# first (as it does inside mypy, which has loaded it before any plugin).
import mypy.plugin  # noqa: I001
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    ARG_NAMED_OPT,
    ARG_STAR,
    Argument,
    AssignmentStmt,
    Block,
    CallExpr,
    EllipsisExpr,
    IfStmt,
    NameExpr,
    RefExpr,
    Statement,
    TypeInfo,
    Var,
)
from mypy.plugin import ClassDefContext, FunctionContext, Plugin
from mypy.plugins.common import add_method_to_class, deserialize_and_fixup_type
from mypy.types import AnyType, Instance, NoneType, Type, TypeOfAny, get_proper_type

METADATA_TAG: Final = "task"

# The same classes under both names: trunkline's own, and the real Luigi's when a project
# type-checks against an installed luigi.
_TASK_CLASSES: Final = frozenset({"trunkline.task.Task", "luigi.task.Task"})
_PARAMETER_CLASSES: Final = frozenset(
    {"trunkline._parameter._base.Parameter", "trunkline.parameter.Parameter", "luigi.parameter.Parameter"}
)


def _derives_from(info: TypeInfo, fullnames: frozenset[str]) -> bool:
    return any(base.fullname in fullnames for base in info.mro)


def _parameter_base(info: TypeInfo) -> TypeInfo | None:
    for base in info.mro:
        if base.fullname in _PARAMETER_CLASSES:
            return base
    return None


class TaskPlugin(Plugin):
    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None and isinstance(sym.node, TypeInfo) and _derives_from(sym.node, _TASK_CLASSES):
            return _add_init_with_parameters
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None and isinstance(sym.node, TypeInfo) and _derives_from(sym.node, _PARAMETER_CLASSES):
            return _parameter_call_type
        return None


def _parameter_call_type(ctx: FunctionContext) -> Type:
    """``Parameter(default=x)`` has x's type; without a default it is Any."""
    if "default" in ctx.callee_arg_names:
        index = ctx.callee_arg_names.index("default")
        given = ctx.args[index]
        if given and not isinstance(given[0], EllipsisExpr):
            return ctx.arg_types[index][0]
    return AnyType(TypeOfAny.special_form)


def _statements(block: list[Statement]) -> Iterator[AssignmentStmt]:
    # Parameters may be declared under `if` (e.g. a version switch): look inside both branches.
    for stmt in block:
        if isinstance(stmt, AssignmentStmt):
            yield stmt
        elif isinstance(stmt, IfStmt):
            for body in stmt.body:
                yield from _statements(body.body)
            if isinstance(stmt.else_body, Block):
                yield from _statements(stmt.else_body.body)


def _called_parameter_class(stmt: AssignmentStmt) -> TypeInfo | None:
    call = stmt.rvalue
    if not isinstance(call, CallExpr) or not isinstance(call.callee, RefExpr):
        return None
    node = call.callee.node
    if isinstance(node, TypeInfo) and _derives_from(node, _PARAMETER_CLASSES):
        return node
    return None


def _value_type(parameter_type: Instance) -> Type | None:
    """``IntParameter`` -> ``int``; ``Parameter[str]`` -> ``str``; None if not a parameter type."""
    base = _parameter_base(parameter_type.type)
    if base is None:
        return None
    as_base = map_instance_to_supertype(parameter_type, base)
    return as_base.args[0] if as_base.args else AnyType(TypeOfAny.special_form)


def _declared_type(ctx: ClassDefContext, stmt: AssignmentStmt, name: str, called: TypeInfo) -> Type:
    sym = ctx.cls.info.names.get(name)
    annotated = stmt.unanalyzed_type is not None
    if annotated and sym is not None and isinstance(sym.node, Var) and sym.node.type is not None:
        declared = get_proper_type(sym.node.type)
        if isinstance(declared, Instance):
            value = _value_type(declared)
            if value is not None:
                return value
        return declared
    # Unannotated: the value type the parameter class declares (IntParameter -> int).
    value = _value_type(Instance(called, [AnyType(TypeOfAny.special_form)] * len(called.type_vars)))
    return value if value is not None else AnyType(TypeOfAny.special_form)


def _add_init_with_parameters(ctx: ClassDefContext) -> None:
    info = ctx.cls.info
    fields: dict[str, dict[str, Any]] = {}
    for base in reversed(info.mro[1:]):
        for saved in base.metadata.get(METADATA_TAG, {}).get("attributes", []):
            fields[saved["name"]] = saved
    own: dict[str, Type] = {}
    for stmt in _statements(ctx.cls.defs.body):
        if len(stmt.lvalues) != 1 or not isinstance(stmt.lvalues[0], NameExpr):
            continue
        called = _called_parameter_class(stmt)
        if called is None:
            continue
        name = stmt.lvalues[0].name
        own[name] = _declared_type(ctx, stmt, name, called)
        fields.pop(name, None)  # redeclared here: keeps its place after the inherited ones
        fields[name] = {"name": name, "type": own[name].serialize()}
    arguments = [
        Argument(Var("args"), AnyType(TypeOfAny.explicit), None, ARG_STAR),
    ]
    for name, saved in fields.items():
        field_type = own[name] if name in own else deserialize_and_fixup_type(saved["type"], ctx.api)
        arguments.append(Argument(Var(name, field_type), field_type, None, ARG_NAMED_OPT))
    if "__init__" not in info.names:
        add_method_to_class(ctx.api, ctx.cls, "__init__", args=arguments, return_type=NoneType())
    info.metadata[METADATA_TAG] = {"attributes": list(fields.values())}


def plugin(version: str) -> type[Plugin]:
    return TaskPlugin
