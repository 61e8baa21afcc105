from __future__ import annotations

from collections.abc import Iterator

import pytest

from trunkline.task_register import Register


@pytest.fixture(autouse=True)
def fresh_task_registry() -> Iterator[None]:
    """Each test defines its own task classes; forget them (and cached instances) after."""
    saved = Register._get_reg()
    Register.clear_instance_cache()
    yield
    Register._set_reg(saved)
    Register.clear_instance_cache()
