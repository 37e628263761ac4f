"""Builders of Moodle facts, accounts and sync runs for the enrolment detectors' tests.

Dates sit around ``model_builders.NOW`` (Monday 17 November 2025, 10:00 UTC):
last night's run started at 01:00 and finished at 02:30, so R9 holds facts
of ``LAST_WEEK`` as applied and facts of ``THIS_MORNING`` as pending.
A Moodle user is the account's ``uid`` (``u<cod_etu>`` for a student, ``t-<ADE id>``
for a teacher whose ``staff_id`` is the ADE id).
"""

from __future__ import annotations

from datetime import UTC, datetime

from detectors.base import DetectorConfig
from detectors.facts import (
    Account,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    Role,
    SyncRun,
)

LAST_WEEK = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)
NIGHT_START = datetime(2025, 11, 17, 1, 0, tzinfo=UTC)
NIGHT_END = datetime(2025, 11, 17, 2, 30, tzinfo=UTC)
DURING_THE_RUN = datetime(2025, 11, 17, 1, 40, tzinfo=UTC)
THIS_MORNING = datetime(2025, 11, 17, 8, 0, tzinfo=UTC)
LAST_NIGHT = SyncRun("run-2025-11-17", NIGHT_START, NIGHT_END, "success")
CONFIG = DetectorConfig()


def course(course_id: int, idnumber: str, *, startdate: datetime | None = None) -> MoodleCourse:
    return MoodleCourse(course_id, idnumber, idnumber, f"Cours {idnumber}", startdate=startdate)


def instances(course_id: int) -> list[MoodleEnrolInstance]:
    """The course's database method, for students (``course_id*10+1``) and teachers (``+2``)."""
    return [
        MoodleEnrolInstance(course_id * 10 + 1, course_id, "database", "student"),
        MoodleEnrolInstance(course_id * 10 + 2, course_id, "database", "teacher"),
    ]


def student_user(cod_etu: str) -> str:
    return f"u{cod_etu}"


def teacher_user(ade_id: str) -> str:
    return f"t-{ade_id}"


def enrolled(
    course_id: int,
    role: Role,
    *people: str,
    active: bool = True,
    as_of: datetime = LAST_WEEK,
) -> list[MoodleEnrolment]:
    """Database enrolments of ``people`` (cod_etu or ADE ids) in the course."""
    enrol_id = course_id * 10 + (1 if role == "student" else 2)
    user = student_user if role == "student" else teacher_user
    return [
        MoodleEnrolment(
            enrol_id * 1000 + n, enrol_id, user(who), LAST_WEEK, None, active, as_of=as_of
        )
        for n, who in enumerate(people)
    ]


def accounts(students: tuple[str, ...] = (), teachers: tuple[str, ...] = ()) -> list[Account]:
    return [Account(student_user(s), "student", cod_etu=s) for s in students] + [
        Account(teacher_user(t), "staff", staff_id=t) for t in teachers
    ]
