"""The five enrolment detectors at Unicaen's size: 14,000 ELPs, 395,000 IPs, a Moodle in step.

The university is the simulator's ``unicaen`` (tests/fixtures/university.py, built once);
its Moodle is replaced by what the model expects (every expected student and teacher
enrolled by the database method), plus a few faults for each detector to find.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from model_builders import NOW
from moodle_builders import (
    CONFIG,
    DURING_THE_RUN,
    LAST_NIGHT,
    accounts,
    course,
    instances,
    student_user,
    teacher_user,
)

from detectors.facts import MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, MoodleGroupMember
from detectors.findings import Finding
from detectors.known import (
    enrolments_lost,
    group_missing,
    students_not_enrolled,
    teacher_missing,
    too_many_teachers,
)
from detectors.model import ExpectedState
from detectors.state import FactSet
from tests.fixtures.university import UNICAEN_MARKS

pytestmark = UNICAEN_MARKS

DETECTORS = (
    students_not_enrolled.DETECTOR,
    enrolments_lost.DETECTOR,
    group_missing.DETECTOR,
    teacher_missing.DETECTOR,
    too_many_teachers.DETECTOR,
)


@dataclasses.dataclass(frozen=True)
class Unicaen:
    facts: FactSet
    lost: int  # students enrolled last week, deleted during the run
    left_out: int  # courses missing expected students after the run (the lost one included)
    extra_teachers: int  # courses with a teacher enrolled without planning


def _with_moodle(base: FactSet, state: ExpectedState) -> Unicaen:
    """``base``'s Moodle in step with ``state`` (the model's full pass on it at NOW), with faults."""
    left_out = extra_teachers = 0
    courses: list[MoodleCourse] = []
    enrol_instances: list[MoodleEnrolInstance] = []
    enrolments: list[MoodleEnrolment] = []
    deleted: list[MoodleEnrolment] = []
    members: list[MoodleGroupMember] = []
    for n, (idnumber, expected) in enumerate(sorted(state.courses.items()), start=1):
        courses.append(course(n, idnumber))
        enrol_instances.extend(instances(n))
        users = [student_user(s) for s in sorted(expected.students)]
        # Each student in the groups the model gives them, as lmsjonction leaves it.
        members.extend(
            MoodleGroupMember(n, group, student_user(cod_etu))
            for cod_etu, student in sorted(expected.students.items())
            for group in sorted(student.group_ids)
        )
        if n % 1000 == 1 and users:  # faults: one student lost, one left out, per 1000 courses
            left_out += 1
            lost, users = users[0], users[2:]
            deleted.append(MoodleEnrolment(len(deleted), n * 10 + 1, lost, as_of=DURING_THE_RUN))
        teachers = [teacher_user(t) for t in sorted(expected.teachers)]
        if n % 1000 == 2:
            teachers.append(teacher_user(UNPLANNED))  # enrolled without planning
            extra_teachers += 1
        for role, people in ((1, users), (2, teachers)):
            enrolments.extend(
                MoodleEnrolment(len(enrolments), n * 10 + role, user) for user in people
            )
    students = tuple(sorted({ip.cod_etu for ip in base.ips}))
    staff = {t for expected in state.courses.values() for t in expected.teachers}
    facts = dataclasses.replace(
        base,
        courses={c.course_id: c for c in courses},
        enrol_instances={i.enrol_id: i for i in enrol_instances},
        enrolments=tuple(enrolments),
        deleted_enrolments=tuple(deleted),
        group_members=tuple(members),
        accounts={a.uid: a for a in accounts(students, (*sorted(staff), UNPLANNED))},
        runs=(LAST_NIGHT,),
    )
    return Unicaen(facts, len(deleted), left_out, extra_teachers)


UNPLANNED = "t-unplanned"  # an account of the staff that ADE plans nowhere


@pytest.fixture(scope="module")
def unicaen(unicaen_facts: FactSet, unicaen_state: ExpectedState) -> Unicaen:
    return _with_moodle(unicaen_facts, unicaen_state)


def _fresh(facts: FactSet) -> FactSet:
    """The same facts without any index or memo: a pass as the pipeline makes it."""
    return dataclasses.replace(facts)


# Timings are benchmark figures (scripts/bench_detectors.py, BENCHMARKS.md), not assertions.


@dataclasses.dataclass(frozen=True)
class FullPass:
    facts: FactSet  # indexed and memoised by the pass, as the pipeline leaves them
    found: list[Finding]


@pytest.fixture(scope="module")
def full_pass(unicaen: Unicaen) -> FullPass:
    """One full pass of the five detectors on fresh facts, shared by the tests below."""
    facts = _fresh(unicaen.facts)
    found = [f for d in DETECTORS for f in d.detect(facts, now=NOW, scope=None, config=CONFIG)]
    return FullPass(facts, found)


def test_a_full_pass_of_the_five_detectors_finds_each_injected_cause(
    unicaen: Unicaen, full_pass: FullPass
) -> None:
    by_cause = Counter((f.detector, f.cause) for f in full_pass.found)
    print(sorted(by_cause.items()))
    assert unicaen.lost >= 13 and unicaen.left_out >= 13 and unicaen.extra_teachers >= 13
    # The simulator's university is clean: the injected faults and nothing else.
    assert by_cause == {
        ("enrolments_lost", "unexplained"): unicaen.lost,
        ("students_not_enrolled", "missing_after_run"): unicaen.left_out,
        ("too_many_teachers", "without_planning"): unicaen.extra_teachers,
    }


def test_one_dirty_elp_finds_what_the_full_pass_finds_on_it(full_pass: FullPass) -> None:
    facts = full_pass.facts
    ahead = [d for d in DETECTORS if "ahead" in d.moments]
    names = {d.name for d in ahead}
    whole = [f for f in full_pass.found if f.detector in names]
    assert whole  # the ahead detectors find the injected causes: the scoped passes compare
    seen = 0
    codes = sorted(facts.elps)
    portes = sorted(c for c, e in facts.elps.items() if e.porteur is not None)
    for code in (
        codes[0],
        portes[0],
        codes[len(codes) // 2],
        codes[-1],
        *sorted({f.cod_elp or "" for f in whole})[:20],
    ):
        scoped = [f for d in ahead for f in d.detect(facts, now=NOW, scope=[code], config=CONFIG)]
        assert all(f in whole for f in scoped), code
        seen += len(scoped)
    assert seen > 0
