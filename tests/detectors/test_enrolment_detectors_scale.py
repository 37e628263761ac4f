"""The five enrolment detectors at Unicaen's size: 14,000 ELPs, 390,000 IPs, a Moodle in step.

Moodle holds what the model expects (every expected student and teacher
enrolled by the database method), plus a few faults for each detector to find.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from model_builders import NOW, university
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

from detectors import (
    enrolments_lost,
    group_missing,
    students_not_enrolled,
    teacher_missing,
    too_many_teachers,
)
from detectors.facts import MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.findings import Finding
from detectors.model import expected_state
from detectors.state import FactSet

DETECTORS = (
    students_not_enrolled.DETECTOR,
    enrolments_lost.DETECTOR,
    group_missing.DETECTOR,
    teacher_missing.DETECTOR,
    too_many_teachers.DETECTOR,
)


def _with_moodle(base: FactSet) -> FactSet:
    state = expected_state(base, NOW)
    courses: list[MoodleCourse] = []
    enrol_instances: list[MoodleEnrolInstance] = []
    enrolments: list[MoodleEnrolment] = []
    deleted: list[MoodleEnrolment] = []
    for n, (idnumber, expected) in enumerate(sorted(state.courses.items()), start=1):
        courses.append(course(n, idnumber))
        enrol_instances.extend(instances(n))
        users = [student_user(s) for s in sorted(expected.students)]
        if n % 1000 == 1 and users:  # faults: one student lost, one left out, per 1000 courses
            lost, users = users[0], users[2:]
            deleted.append(MoodleEnrolment(len(deleted), n * 10 + 1, lost, as_of=DURING_THE_RUN))
        teachers = [teacher_user(t) for t in sorted(expected.teachers)]
        if n % 1000 == 2:
            teachers.append(teacher_user("t2"))  # enrolled without planning
        for role, people in ((1, users), (2, teachers)):
            enrolments.extend(
                MoodleEnrolment(len(enrolments), n * 10 + role, user) for user in people
            )
    students = tuple(sorted({ip.cod_etu for ip in base.ips}))
    return dataclasses.replace(
        base,
        courses={c.course_id: c for c in courses},
        enrol_instances={i.enrol_id: i for i in enrol_instances},
        enrolments=tuple(enrolments),
        deleted_enrolments=tuple(deleted),
        accounts={a.uid: a for a in accounts(students, ("t1", "t2"))},
        runs=(LAST_NIGHT,),
    )


@pytest.fixture(scope="module")
def unicaen() -> FactSet:
    return _with_moodle(university(elps=14_000, students=30_000))


def _fresh(facts: FactSet) -> FactSet:
    """The same facts without any index or memo: a pass as the pipeline makes it."""
    return dataclasses.replace(facts)


# Timings are benchmark figures (scripts/bench_detectors.py, BENCHMARKS.md), not assertions.


def test_a_full_pass_of_the_five_detectors_finds_each_injected_cause(unicaen: FactSet) -> None:
    facts = _fresh(unicaen)
    found: list[Finding] = []
    for detector in DETECTORS:
        found.extend(detector.detect(facts, now=NOW, scope=None, config=CONFIG))
    by_cause = Counter((f.detector, f.cause) for f in found)
    print(sorted(by_cause.items()))
    assert by_cause[("enrolments_lost", "unexplained")] == 13
    assert by_cause[("students_not_enrolled", "missing_after_run")] == 13
    assert by_cause[("too_many_teachers", "without_planning")] == 13
    assert by_cause[("students_not_enrolled", "porte_collection_not_shared")] > 500


def test_one_dirty_elp_finds_what_the_full_pass_finds_on_it(unicaen: FactSet) -> None:
    facts = _fresh(unicaen)
    ahead = [d for d in DETECTORS if "ahead" in d.moments]
    whole = [f for d in ahead for f in d.detect(facts, now=NOW, scope=None, config=CONFIG)]
    seen = 0
    for code in (
        "E00101",
        "E00109",
        "E07000",
        "E13998",
        *sorted({f.cod_elp or "" for f in whole})[:20],
    ):
        scoped = [f for d in ahead for f in d.detect(facts, now=NOW, scope=[code], config=CONFIG)]
        assert all(f in whole for f in scoped), code
        seen += len(scoped)
    assert seen > 0
