"""The model at the size of Unicaen: 14,000 ELPs, 390,000 IPs, 196,000 ADE sessions."""

from __future__ import annotations

import statistics
import time

import pytest
from model_builders import NOW, university

from detectors.model import ModelContext, expected_course, expected_for_elp, expected_state
from detectors.state import FactSet


@pytest.fixture(scope="module")
def unicaen() -> FactSet:
    return university(elps=14_000, students=30_000)


def test_full_pass_over_the_university_takes_seconds(unicaen: FactSet) -> None:
    started = time.perf_counter()
    state = expected_state(unicaen, NOW)
    elapsed = time.perf_counter() - started
    assert len(state.courses) == 12_600  # every ELP but the 1,400 portés
    assert sum(len(c.students) for c in state.courses.values()) > 300_000
    assert elapsed < 10, f"full pass took {elapsed:.1f} s"


def test_one_elp_takes_well_under_50_ms(unicaen: FactSet) -> None:
    expected_for_elp(unicaen, "E00000", NOW)  # the FactSet builds its indexes once
    timings = []
    for code in ("E00101", "E00109", "E07000", "E13998"):
        started = time.perf_counter()
        result = expected_for_elp(unicaen, code, NOW)
        timings.append(time.perf_counter() - started)
        assert result.course is not None
    assert statistics.median(timings) < 0.05, timings


def test_a_shared_context_gives_the_same_course_as_a_fresh_one(unicaen: FactSet) -> None:
    ctx = ModelContext(unicaen, NOW)
    expected_course(ctx, "E00100")
    again = expected_course(ctx, "E00100")
    assert again == expected_for_elp(unicaen, "E00100", NOW).course
