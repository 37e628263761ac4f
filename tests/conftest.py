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

    return ByFileAndSharedGroup(config, log)
