"""Shared fixtures: each area keeps its own in tests/fixtures/ and is listed here.

Under pytest-xdist (the README's test command runs ``-n 2 --dist loadgroup``) a
test file's tests run in one worker, so a module-scoped fixture (a helm render,
a demo run, a browser) is built once; a test marked ``xdist_group(name)`` joins
the other tests of that name instead (tests sharing a session fixture that
takes long to build). Every worker has its own broker, databases and ports.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.broker",
    "tests.fixtures.smtp",
    "tests.fixtures.source_db",
    "tests.fixtures.private_mariadb",
    "tests.fixtures.findings",
    "tests.fixtures.university",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group each test by its file for xdist's ``loadgroup`` unless it names its own group."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
