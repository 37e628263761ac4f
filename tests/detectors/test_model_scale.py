"""The model at the size of Unicaen: 14,000 ELPs, 390,000 IPs, 196,000 ADE sessions."""

from __future__ import annotations

import pytest
from model_builders import NOW, university

from detectors.model import ModelContext, expected_course, expected_for_elp, expected_state
from detectors.state import FactSet


@pytest.fixture(scope="module")
def unicaen() -> FactSet:
    return university(elps=14_000, students=30_000)


# Timings are benchmark figures (scripts/bench_detectors.py, BENCHMARKS.md), not assertions.


def test_a_full_pass_gives_a_course_to_every_elp_but_the_portes(unicaen: FactSet) -> None:
    state = expected_state(unicaen, NOW)
    assert len(state.courses) == 12_600  # every ELP but the 1,400 portés
    assert sum(len(c.students) for c in state.courses.values()) > 300_000


def test_one_elp_gives_the_same_course_as_the_full_pass(unicaen: FactSet) -> None:
    state = expected_state(unicaen, NOW)
    for code in ("E00101", "E00109", "E07000", "E13998"):
        result = expected_for_elp(unicaen, code, NOW)
        assert result.course is not None
        assert result.course == state.courses[result.course.idnumber]


def test_a_shared_context_gives_the_same_course_as_a_fresh_one(unicaen: FactSet) -> None:
    ctx = ModelContext(unicaen, NOW)
    expected_course(ctx, "E00100")
    again = expected_course(ctx, "E00100")
    assert again == expected_for_elp(unicaen, "E00100", NOW).course
