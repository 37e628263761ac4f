"""Who Moodle has in each course by the database method, named as the model names people.

The model speaks of students by ``cod_etu`` and of teachers by their ADE id;
Moodle enrolments name a ``user``. The join goes through the digital accounts
(``FactSet.accounts``, synced to Moodle users), under this assumption, which
the ingest and the simulator must honour: a Moodle enrolment's ``user`` is the
account's ``uid``; a student account carries its ``cod_etu``; an ADE teacher
id is the account's ``staff_id`` or its ``uid``. Without any account loaded
nobody can be named: ``available`` is False and detectors skip the comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from detectors.facts import MoodleEnrolInstance, MoodleEnrolment, Role
from detectors.state import FactSet

_NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Placed:
    """An active database enrolment: the course, the Moodle user and the role."""

    course_id: int
    user: str
    role: Role
    enrolment: MoodleEnrolment


@dataclass(frozen=True)
class Roster:
    """Active database enrolments per course, and the identities of Moodle users."""

    available: bool
    cod_etu_of_user: Mapping[str, str] = field(default_factory=dict)
    teacher_ids_of_user: Mapping[str, frozenset[str]] = field(default_factory=dict)
    students_by_course: Mapping[int, AbstractSet[str]] = field(default_factory=dict)
    teachers_by_course: Mapping[int, tuple[Placed, ...]] = field(default_factory=dict)
    account_as_of: Mapping[str, datetime] = field(default_factory=dict)

    def students(self, course_id: int) -> AbstractSet[str]:
        """``cod_etu`` of the students the database method has in the course."""
        return self.students_by_course.get(course_id, _NOBODY)

    def teachers(self, course_id: int) -> tuple[Placed, ...]:
        """Teacher enrolments the database method holds in the course."""
        return self.teachers_by_course.get(course_id, ())

    def teacher_ids(self, user: str) -> frozenset[str]:
        """The ADE ids a Moodle user may carry (``staff_id``, ``uid``)."""
        return self.teacher_ids_of_user.get(user, _NOBODY)

    def enrollable_since(self, person: str, granted: datetime) -> datetime | None:
        """Since when the sync could enrol a ``cod_etu`` or ADE teacher id granted at ``granted``.

        The later of the grant and the person's account (R9 compares it with the
        last run); None without an account: no Moodle user to enrol, no sync fault.
        """
        since = self.account_as_of.get(person)
        return None if since is None else max(since, granted)

    def teacher_ids_in(self, course_id: int) -> frozenset[str]:
        return frozenset(
            i for placed in self.teachers(course_id) for i in self.teacher_ids(placed.user)
        )


def database_instances(facts: FactSet) -> Mapping[int, MoodleEnrolInstance]:
    """The ``database`` enrolment method instances, by ``enrol_id``."""
    return facts.memo(
        "database_instances",
        lambda: {i.enrol_id: i for i in facts.enrol_instances.values() if i.method == "database"},
    )


def _build(facts: FactSet) -> Roster:
    if not facts.accounts:
        return Roster(available=False)
    cod_etu_of_user: dict[str, str] = {}
    teacher_ids: dict[str, frozenset[str]] = {}
    account_as_of: dict[str, datetime] = {}
    for uid, account in facts.accounts.items():
        if account.cod_etu is not None:
            cod_etu_of_user[uid] = account.cod_etu
        ids = {uid} if account.staff_id is None else {uid, account.staff_id}
        teacher_ids[uid] = frozenset(ids)
        for person in (*ids, account.cod_etu):
            if person is not None:
                account_as_of[person] = account.as_of
    database = database_instances(facts)
    students: dict[int, set[str]] = {}
    teachers: dict[int, list[Placed]] = {}
    for enrolment in facts.enrolments:
        instance = database.get(enrolment.enrol_id)
        if instance is None or not enrolment.active:
            continue
        if instance.role == "student":
            cod_etu = cod_etu_of_user.get(enrolment.user)
            if cod_etu is not None:
                course = students.get(instance.course_id)
                if course is None:
                    course = students[instance.course_id] = set()
                course.add(cod_etu)
        else:
            placed = Placed(instance.course_id, enrolment.user, instance.role, enrolment)
            teachers.setdefault(instance.course_id, []).append(placed)
    return Roster(
        available=True,
        cod_etu_of_user=cod_etu_of_user,
        teacher_ids_of_user=teacher_ids,
        students_by_course=students,
        teachers_by_course={c: tuple(t) for c, t in teachers.items()},
        account_as_of=account_as_of,
    )


def moodle_roster(facts: FactSet) -> Roster:
    """The roster of these facts, built once and shared by the detectors of a pass."""
    return facts.memo("moodle_roster", lambda: _build(facts))
