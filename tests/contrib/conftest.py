"""Fixtures for the engine integrations' tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from trunkline.configuration import get_config


@pytest.fixture
def config_values() -> Iterator[Callable[[dict[tuple[str, str], str]], None]]:
    """Set configuration keys for one test; the previous values come back afterwards."""
    config = get_config()
    saved: dict[tuple[str, str], str | None] = {}

    def set_values(values: dict[tuple[str, str], str]) -> None:
        for (section, option), value in values.items():
            if not config.has_section(section):
                config.add_section(section)
            saved.setdefault((section, option), config.get(section, option, None))
            config.set(section, option, value)

    yield set_values
    for (section, option), value in saved.items():
        if value is None:
            config.remove_option(section, option)
        else:
            config.set(section, option, value)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts a real engine (Spark in local mode); runs in CI, skip with -m 'not slow'"
    )
