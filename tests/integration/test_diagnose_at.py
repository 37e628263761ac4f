"""``ecampus-monitor diagnose --at``: the answer as of a time, R9 pending computed at that time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detectors.facts import Group, Ip, SyncRun
from monitor.store.db import make_engine, upgrade
from tests.monitor.test_api_diagnose import LAST_NIGHT, elp, moodle_course, store, student

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "monitor"]
# The scolarité adds the IP on 1 December at 10:00, after the night's run of 1 December
# started; the run of 2 December (00:30-02:00) should have enrolled the student.
IP_ADDED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TONIGHT = SyncRun(
    "lmsjonction-20261202",
    datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
    datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
    "success",
    as_of=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
)


def _diagnose(url: str, *extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env["ECAMPUS_MONITOR_STORE__URL"] = url
    result = subprocess.run(
        [*CLI, "diagnose", "--course", "X", "--student", "21500009", "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_diagnose_at_before_and_after_the_night_run_differs_as_r9_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    _account = student("21500009", "X", "ELP_X_CM")[1]
    store(
        engine,
        elp("X"),
        Group("ELP_X_CM", "CM", as_of=IP_ADDED),
        Ip("21500009", "X", "ELP_X_CM", False, 2026, as_of=IP_ADDED),
        _account,
        *moodle_course(5, "X"),
        LAST_NIGHT,
        TONIGHT,
    )
    engine.dispose()

    evening = _diagnose(url, "--at", "2026-12-01T21:00:00+01:00")
    assert evening["now"] == "2026-12-01T20:00:00+00:00"
    assert evening["last_completed_run"] == LAST_NIGHT.run_id
    assert evening["pending_tonight"] is True
    assert evening["faults"] == 0

    morning = _diagnose(url, "--at", "2026-12-02T09:00")  # local time (Europe/Paris)
    assert morning["now"] == "2026-12-02T08:00:00+00:00"
    assert morning["last_completed_run"] == TONIGHT.run_id
    assert morning["pending_tonight"] is False
    assert morning["faults"] >= 1

    # Mid-run: the run of 2 December started but had not finished, R9 still waits for it.
    mid_run = _diagnose(url, "--at", "2026-12-02T01:00:00+00:00")
    assert mid_run["last_completed_run"] == LAST_NIGHT.run_id
    assert mid_run["pending_tonight"] is True
