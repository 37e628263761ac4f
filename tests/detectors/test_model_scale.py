"""The model at the size of Unicaen: 14,000 ELPs, 395,000 IPs, 200,000 ADE sessions.

The university is the simulator's ``unicaen`` (tests/fixtures/university.py), built once.
"""

from __future__ import annotations

from model_builders import NOW
from moodle_builders import LAST_NIGHT

from detectors.model import ExpectedState, ModelContext, expected_course, expected_for_elp
from detectors.state import FactSet
from tests.fixtures.university import UNICAEN_AT, UNICAEN_MARKS

pytestmark = UNICAEN_MARKS

# Timings are benchmark figures (scripts/bench_detectors.py, BENCHMARKS.md), not assertions.


def _sample(facts: FactSet) -> list[str]:
    """The first, a middle and the last ELP with a course, and the first porté (its porteur's)."""
    codes = sorted(c for c, e in facts.elps.items() if e.porteur is None)
    portes = sorted(c for c, e in facts.elps.items() if e.porteur is not None)
    return [codes[0], portes[0], codes[len(codes) // 2], codes[-1]]


def test_the_university_was_generated_before_last_night() -> None:
    assert UNICAEN_AT < LAST_NIGHT.started_at < NOW


def test_a_full_pass_gives_a_course_to_every_elp_but_the_portes(
    unicaen_facts: FactSet, unicaen_state: ExpectedState
) -> None:
    state = unicaen_state  # expected_state(unicaen_facts, NOW), computed once
    portes = [e for e in unicaen_facts.elps.values() if e.porteur is not None]
    assert len(unicaen_facts.elps) > 14_000 and len(portes) > 300
    assert len(state.courses) == len(unicaen_facts.elps) - len(portes)
    assert not {e.cod_elp for e in portes} & set(state.courses)
    assert sum(len(c.students) for c in state.courses.values()) > 300_000


def test_one_elp_gives_the_same_course_as_the_full_pass(
    unicaen_facts: FactSet, unicaen_state: ExpectedState
) -> None:
    state = unicaen_state  # expected_state(unicaen_facts, NOW), computed once
    for code in _sample(unicaen_facts):
        result = expected_for_elp(unicaen_facts, code, NOW)
        assert result.course is not None
        assert result.course == state.courses[result.course.idnumber]


def test_a_shared_context_gives_the_same_course_as_a_fresh_one(unicaen_facts: FactSet) -> None:
    code = _sample(unicaen_facts)[2]
    ctx = ModelContext(unicaen_facts, NOW)
    expected_course(ctx, code)
    again = expected_course(ctx, code)
    assert again is not None and again.students
    assert again == expected_for_elp(unicaen_facts, code, NOW).course
