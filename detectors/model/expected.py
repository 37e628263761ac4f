"""What Ecampus must contain after the next night: courses, students, teachers, and refusals.

Entry points, from the smallest to the whole university (all pure; ``now`` and
the config are passed in; lower-level ``evaluate_ip``/``evaluate_fiche`` take a
shared ``ModelContext``):

- ``expected_for_elp`` / ``expected_for_elps``: one ELP or a batch, for dirty keys;
- ``expected_for_student``: one student's courses, for tickets and dirty students;
- ``expected_state``: every course, every course action, every refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from detectors.facts import AdeFiche, Elp
from detectors.model.causes import Refusal
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.model.context import ElpStanding, ModelContext
from detectors.model.courses import CourseAction, course_actions, course_actions_for
from detectors.model.students import IpVerdict, evaluate_ip
from detectors.model.teachers import ExpectedTeacher, FicheVerdict, evaluate_fiche
from detectors.state import FactSet


@dataclass(frozen=True, slots=True)
class ExpectedStudent:
    """A student the model enrols in a course (method database, role student).

    ``group_ids`` are the course groups they belong to (empty: enrolled without
    group, FOAD cases c, d, f); ``via_elps`` the ELPs whose IPs lead there (the
    course's own, or a porté's); ``as_of`` the oldest granting path (R9);
    ``overlap_only``: only previous-year IPs, kept until the overlap ends (R7).
    """

    cod_etu: str
    group_ids: frozenset[str]
    via_elps: frozenset[str]
    as_of: datetime
    overlap_only: bool = False


@dataclass(frozen=True, slots=True)
class ExpectedCourse:
    """One course space of R1 and what the next night must put in it.

    ``course_id`` is the existing Moodle course with that idnumber, if any.
    ``suspended`` (R3.4): its database enrolments are suspended, so
    ``students`` is empty and each student shows as an ``elp_suspended`` refusal.
    ``refusals``: intended accesses refused (students and teachers not
    enrolled, and students enrolled without their group).
    """

    idnumber: str
    elp: Elp
    portes: tuple[str, ...]
    course_id: int | None
    suspended: bool
    students: Mapping[str, ExpectedStudent]
    teachers: Mapping[str, ExpectedTeacher]
    refusals: tuple[Refusal, ...]

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(g for s in self.students.values() for g in s.group_ids)


@dataclass(frozen=True, slots=True)
class ElpExpectation:
    """The model around one ELP: its course (its own, or its porteur's), actions, refusals.

    ``refusals`` are those about this ELP's own IPs and fiches.
    """

    cod_elp: str
    standing: ElpStanding
    course: ExpectedCourse | None
    course_actions: tuple[CourseAction, ...]
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True)
class StudentExpectation:
    """One student's expected courses (by idnumber) and refused accesses."""

    cod_etu: str
    courses: Mapping[str, ExpectedStudent]
    refusals: tuple[Refusal, ...]
    verdicts: tuple[IpVerdict, ...]


@dataclass(frozen=True, slots=True)
class ExpectedState:
    """The whole university after the next night; ``orphan_refusals`` reach no course."""

    now: datetime
    courses: Mapping[str, ExpectedCourse]
    course_actions: tuple[CourseAction, ...]
    orphan_refusals: tuple[Refusal, ...]

    def refusals(self) -> Iterator[Refusal]:
        for course in self.courses.values():
            yield from course.refusals
        yield from self.orphan_refusals


def _order(refusal: Refusal) -> tuple[str, str, str, str]:
    return (refusal.role, refusal.who, refusal.cod_elp or "", refusal.cause)


def merge_students(
    verdicts: Iterable[IpVerdict],
) -> tuple[dict[str, ExpectedStudent], list[Refusal]]:
    """Merge the IP verdicts of one course by student: enrolled if any IP row grants access.

    Enrolment refusals of a student enrolled through another row are dropped;
    group refusals stay (the student lacks that group).
    """
    granted: dict[str, list[IpVerdict]] = {}
    refused: list[IpVerdict] = []
    for verdict in verdicts:
        if not verdict.enrolled:
            refused.append(verdict)
            continue
        rows = granted.get(verdict.ip.cod_etu)
        if rows is None:
            granted[verdict.ip.cod_etu] = [verdict]
        else:
            rows.append(verdict)
    singletons: dict[str, frozenset[str]] = {}
    students = {cod_etu: _student(rows, singletons) for cod_etu, rows in granted.items()}
    refusals = [r for rows in granted.values() for v in rows if v.refusals for r in v.refusals]
    for verdict in refused:
        elsewhere = verdict.ip.cod_etu in granted
        refusals.extend(r for r in verdict.refusals if r.blocks == "group" or not elsewhere)
    return students, refusals


_NO_GROUP: frozenset[str] = frozenset()


def _singleton(code: str | None, singletons: dict[str, frozenset[str]]) -> frozenset[str]:
    if code is None:
        return _NO_GROUP
    made = singletons.get(code)
    if made is None:
        made = singletons[code] = frozenset((code,))
    return made


def _student(rows: list[IpVerdict], singletons: dict[str, frozenset[str]]) -> ExpectedStudent:
    first = rows[0]
    if len(rows) == 1:  # the common case, kept cheap: one shared frozenset per code
        groups = _singleton(first.group_id, singletons)
        via = _singleton(first.ip.cod_elp, singletons)
        return ExpectedStudent(first.ip.cod_etu, groups, via, first.as_of, first.overlap_only)
    return ExpectedStudent(
        first.ip.cod_etu,
        frozenset(v.group_id for v in rows if v.group_id is not None),
        frozenset(v.ip.cod_elp for v in rows),
        min(v.as_of for v in rows),
        all(v.overlap_only for v in rows),
    )


def merge_teachers(
    verdicts: Iterable[FicheVerdict],
) -> tuple[dict[str, ExpectedTeacher], list[Refusal]]:
    """Merge fiche verdicts of one course: a teacher planned on any fiche is enrolled.

    The refusals of an enrolled teacher are dropped; so is "associated, not
    planned" for a teacher planned on another fiche of the course whose planning
    is suspended or masked (the lecture fiche associates the tutors planned on
    the tutorial fiche): that planning's own refusal says why.
    """
    teachers: dict[str, ExpectedTeacher] = {}
    planned: set[str] = set()
    pending: list[Refusal] = []
    for verdict in verdicts:
        for name, teacher in verdict.teachers.items():
            known = teachers.get(name)
            teachers[name] = teacher if known is None else _join(known, teacher)
        planned.update(verdict.planned)
        pending.extend(verdict.refusals)
    return teachers, [
        r
        for r in pending
        if r.who not in teachers
        and not (r.cause == "teacher_associated_not_planned" and r.who in planned)
    ]


def _join(a: ExpectedTeacher, b: ExpectedTeacher) -> ExpectedTeacher:
    return ExpectedTeacher(
        a.teacher,
        a.fiche_ids | b.fiche_ids,
        min(a.as_of, b.as_of),
        a.overlap_only and b.overlap_only,
    )


def expected_course(ctx: ModelContext, idnumber: str) -> ExpectedCourse | None:
    """R1/R3-R6 for the course of a current ELP; None when ``idnumber`` is not one."""
    view = ctx.elp(idnumber)
    if view.standing != "current" or view.elp is None:
        return None
    facts = ctx.facts
    codes = [idnumber, *(p.cod_elp for p in view.portes)]
    ips = [ip for code in codes for ip in facts.ips_of_elp(code)]
    students, student_refusals = merge_students([evaluate_ip(ctx, ip) for ip in ips])
    fiches = [fiche for code in codes for fiche in facts.fiches_of_elp(code)]
    teachers, teacher_refusals = merge_teachers(evaluate_fiche(ctx, f) for f in fiches)
    existing = sorted(
        facts.courses_by_idnumber(idnumber), key=lambda c: (not c.archived, c.course_id)
    )
    return ExpectedCourse(
        idnumber,
        view.elp,
        tuple(codes[1:]),
        existing[-1].course_id if existing else None,
        view.elp.status == "suspended",
        students,
        teachers,
        tuple(sorted((*student_refusals, *teacher_refusals), key=_order)),
    )


def _for_elp(ctx: ModelContext, cod_elp: str) -> ElpExpectation:
    view = ctx.elp(cod_elp)
    actions = course_actions_for(ctx.facts, cod_elp, ctx.config)
    course = expected_course(ctx, view.course_idnumber) if view.course_idnumber else None
    if course is not None:
        own = tuple(r for r in course.refusals if r.cod_elp == cod_elp)
        return ElpExpectation(cod_elp, view.standing, course, actions, own)
    refusals = _orphan_refusals(ctx, [cod_elp], ctx.facts.fiches_of_elp(cod_elp))
    return ElpExpectation(cod_elp, view.standing, None, actions, refusals)


def expected_for_elp(
    facts: FactSet, cod_elp: str, now: datetime, config: ModelConfig = DEFAULT_CONFIG
) -> ElpExpectation:
    """The model around one ELP (its course, or its porteur's), for detectors on dirty keys."""
    return _for_elp(ModelContext(facts, now, config), cod_elp)


def expected_for_elps(
    facts: FactSet, cod_elps: Iterable[str], now: datetime, config: ModelConfig = DEFAULT_CONFIG
) -> dict[str, ElpExpectation]:
    """``expected_for_elp`` for a batch of dirty ELPs, sharing one context."""
    ctx = ModelContext(facts, now, config)
    return {code: _for_elp(ctx, code) for code in dict.fromkeys(cod_elps)}


def expected_for_student(
    facts: FactSet, cod_etu: str, now: datetime, config: ModelConfig = DEFAULT_CONFIG
) -> StudentExpectation:
    """Every IP of one student, merged per course: where they must be, and what is refused."""
    ctx = ModelContext(facts, now, config)
    verdicts = tuple(evaluate_ip(ctx, ip) for ip in facts.ips_of_student(cod_etu))
    per_course: dict[str | None, list[IpVerdict]] = {}
    for verdict in verdicts:
        per_course.setdefault(verdict.course_idnumber, []).append(verdict)
    courses: dict[str, ExpectedStudent] = {}
    refusals: list[Refusal] = []
    for course, rows in per_course.items():
        students, refused = merge_students(rows)
        if course is not None and cod_etu in students:
            courses[course] = students[cod_etu]
        refusals.extend(refused)
    return StudentExpectation(cod_etu, courses, tuple(sorted(refusals, key=_order)), verdicts)


def _orphan_refusals(
    ctx: ModelContext, codes: Iterable[str], fiches: Iterable[AdeFiche]
) -> tuple[Refusal, ...]:
    """Refusals of IPs and fiches that reach no course (obsolete ELP, porteur gone, ADE only)."""
    refusals: list[Refusal] = []
    for code in codes:
        for ip in ctx.facts.ips_of_elp(code):
            refusals.extend(evaluate_ip(ctx, ip).refusals)
    for fiche in fiches:
        refusals.extend(evaluate_fiche(ctx, fiche).refusals)
    return tuple(sorted(refusals, key=_order))


_NO_COURSE: tuple[ElpStanding, ...] = ("obsolete", "porteur_not_current")


def expected_state(
    facts: FactSet, now: datetime, config: ModelConfig = DEFAULT_CONFIG
) -> ExpectedState:
    """The full pass: every current ELP's course, R1/R2 actions, and orphan refusals."""
    ctx = ModelContext(facts, now, config)
    courses: dict[str, ExpectedCourse] = {}
    for code in facts.elps:
        if ctx.elp(code).standing == "current":
            course = expected_course(ctx, code)
            if course is not None:
                courses[code] = course
    ip_codes = {ip.cod_elp for ip in facts.ips}
    orphan_codes = sorted(c for c in ip_codes if ctx.elp(c).standing in _NO_COURSE)
    orphan_fiches = [
        fiche
        for fiche in facts.fiches.values()
        if fiche.cod_elp is None or ctx.elp(fiche.cod_elp).standing in _NO_COURSE
    ]
    orphans = _orphan_refusals(ctx, orphan_codes, orphan_fiches)
    return ExpectedState(now, courses, course_actions(facts, config), orphans)
