"""Shared fixtures: each area keeps its own in tests/fixtures/ and is listed here.

Under pytest-xdist (the README's test command runs ``-n 4 --dist loadgroup``) the
scheduler below keeps a test file's tests in one worker, so a module-scoped
fixture (a helm render, a demo run, a browser) is built once, and the tests of
``SHARED_GROUPS`` (which share a session fixture that takes long to build) in one
worker too. (xdist's own ``xdist_group`` marker does not group under pytest 9.2:
it renames ``item._nodeid``, which pytest no longer reads.) Every worker has its
own broker, databases and ports.
"""

from __future__ import annotations

from typing import Any

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

# Tests (node id prefixes) that must share one worker: they use the same session fixture.
SHARED_GROUPS = {
    "unicaen": (  # tests/fixtures/university.py
        "tests/detectors/test_enrolment_detectors_scale.py",
        "tests/detectors/test_model_scale.py",
        "tests/detectors/test_diagnose.py::test_diagnosis_answers_course_student_and_teacher",
    ),
}


# The groups that take a minute or more (seconds of one run under load, ``--durations``):
# they start first, longest first, so that no worker is left with a long one at the end
# while the others are idle (xdist's own order is the collection's, or by test count).
# A group not listed weighs a fraction of a second per test.
COSTS = {
    "tests/scenarios/test_seed_scenarios.py": 385,
    "unicaen": 220,
    "tests/integration/test_replay.py": 210,
    "tests/integration/test_scored_university.py": 195,
    "tests/integration/test_multiworker.py": 165,
    "tests/simulation/test_simulation_broker.py": 160,
    "tests/simulation/test_simulation_events.py": 150,
    "tests/integration/test_demo_emails.py": 135,
    "tests/integration/test_cli.py": 110,
    "tests/integration/test_outages.py": 85,
    "tests/integration/test_http_api_processes.py": 70,
    "tests/integration/test_restart.py": 60,
    "tests/simulation/test_simulation_faults.py": 55,
    "tests/integration/test_moodle_slice.py": 50,
    "tests/integration/test_end_to_end.py": 50,
}


def cost_of(group: str, tests: int) -> float:
    """The expected duration of a worker group, to start the longest first."""
    return COSTS.get(group, 0.3 * tests)


def group_of(nodeid: str) -> str:
    """The worker group of a test: its shared group, or its file."""
    for group, prefixes in SHARED_GROUPS.items():
        if nodeid.startswith(prefixes):
            return group
    return nodeid.split("::", 1)[0]


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
