"""Fixtures every test gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trunkline.task_register import Register


@pytest.fixture(autouse=True)
def isolated_task_registry() -> Iterator[None]:
    """Tests define their own task classes: forget them, their namespaces and
    cached instances afterwards, as Luigi users' own test suites do."""
    saved = Register._get_reg()
    saved_namespaces = dict(Register._default_namespace_dict)
    Register.clear_instance_cache()
    yield
    Register._set_reg(saved)
    Register._default_namespace_dict.clear()
    Register._default_namespace_dict.update(saved_namespaces)
    Register.clear_instance_cache()
