"""Shared fixtures: each area keeps its own in tests/fixtures/ and is listed here.

Under pytest-xdist (the README's test command runs ``-n 6 --dist loadgroup``) the
scheduler below keeps a test file's tests in one worker, so a module-scoped
fixture (a helm render, a demo run, a browser) is built once, and the tests of a
shared group (``tests/fixtures/groups.py``: a session fixture that takes long to
build) in one worker too; the longest groups start first. (xdist's own ``xdist_group`` marker does not group under pytest 9.2:
it renames ``item._nodeid``, which pytest no longer reads.) Every worker has its
own broker, databases and ports.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.groups import cost_of, group_of

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.broker",
    "tests.fixtures.smtp",
    "tests.fixtures.source_db",
    "tests.fixtures.private_mariadb",
    "tests.fixtures.findings",
    "tests.fixtures.university",
]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByFileAndSharedGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            # The longest group left goes next (xdist pops the queue's first).
            longest = max(self.workqueue, key=lambda g: cost_of(g, len(self.workqueue[g])))
            self.workqueue.move_to_end(longest, last=False)
            super()._assign_work_unit(node)

    return ByFileAndSharedGroup(config, log)
