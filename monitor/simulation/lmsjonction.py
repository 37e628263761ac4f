"""The nightly lmsjonction run, simulated: its own plan of the night, applied to Moodle.

The plan (``night_plan``) is a second implementation of the sync rules,
written from the seed alone and independent of the detectors' model
(``detectors.model`` is never imported here: a test checks it), so that a
wrong rule in the model shows as a disagreement instead of scoring 1.0 on
both sides. The night writes the difference into the Moodle tables (courses
created, archived, unarchived; database enrolments added, removed, suspended;
group memberships), and reports what lmsjonction reports: counters, FOAD
warnings and errors from the seed's table, and "group already exists in
another course" for porté students whose collection is not shared (R5).

Changes are stamped one every few milliseconds from the run's start, as the
real job writes them; the run ends after its last change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from detectors.facts import (
    EnrolMethod,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    MoodleGroupMember,
    Role,
)
from monitor.kafka.contracts import RunCounters, RunMessageModel, SyncRunReport
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.night_plan import CoursePlan, Line, NightPlan, plan_night
from monitor.simulation.night_rules import RunSettings, RunSwitches
from monitor.simulation.run_messages import run_messages
from monitor.simulation.university import University

ARCHIVE_CATEGORY = 999
ARCHIVE_PREFIX = "[Archivé] "
CHANGE_STEP = timedelta(milliseconds=3)
DEFAULT_RUN = RunSettings()
MIN_DURATION = timedelta(minutes=6)

Change = tuple[Literal["write", "delete"], object, datetime]


@dataclass(frozen=True, slots=True)
class NightOptions:
    """One night: when it starts, whether it fails, and lmsjonction's known quirks.

    ``team_enrolled_fiches``: fiches whose associated teachers lmsjonction
    enrols although nobody planned them (the seed's "Trop d'enseignants").
    """

    run_id: str
    started_at: datetime
    outcome: Literal["success", "failed"] = "success"
    config: RunSwitches = DEFAULT_RUN
    team_enrolled_fiches: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NightResult:
    """The run's two reports (running, then finished) and what it did to Moodle."""

    started: SyncRunReport
    finished: SyncRunReport
    created_courses: tuple[int, ...] = ()
    changes: int = 0
    lines: tuple[Line, ...] = field(default=())
    # A failed run: the courses (idnumbers) where it would have enrolled students
    # ("student") or the teachers the model plans ("teacher"), enrolled a fiche's team
    # nobody planned ("team", the quirk), or unenrolled teachers ("teacher_removed").
    unapplied: dict[str, frozenset[str]] = field(default_factory=dict)


def _plan(
    uni: University, options: NightOptions, cal: AcademicCalendar
) -> tuple[_Night, NightPlan]:
    plan = plan_night(uni, options.started_at, options.config, options.team_enrolled_fiches)
    night = _Night(uni, options, cal)
    for action, idnumber, course_id in plan.actions:
        night.course_action(action, idnumber, course_id)
    for course in plan.courses.values():
        night.sync_course(course)
    return night, plan


def run_night(uni: University, options: NightOptions, cal: AcademicCalendar) -> NightResult:
    """Apply the model to ``uni``'s Moodle tables at ``options.started_at``."""
    started = SyncRunReport(run_id=options.run_id, started_at=options.started_at, status="running")
    night, plan = _plan(uni, options, cal)
    if options.outcome == "failed":
        failure = RunMessageModel(
            level="error",
            code="run_failed",
            text="Échec de la synchronisation : connexion à la base Moodle perdue",
        )
        finished = started.model_copy(
            update={
                "status": "failed",
                "finished_at": options.started_at + timedelta(minutes=12),
                "messages": [failure],
            }
        )
        return NightResult(started, finished, unapplied=night.enrolments_to_add())
    at = night.apply()
    counters = RunCounters(
        created=night.counts["create"],
        archived=night.counts["archive"],
        unarchived=night.counts["unarchive"],
    )
    finished = started.model_copy(
        update={
            "status": "success",
            "finished_at": max(at, options.started_at + MIN_DURATION),
            "counters": counters,
            "messages": list(run_messages([*plan.lines, *night.enrol_lines])),
        }
    )
    created = tuple(night.created.values())
    return NightResult(started, finished, created, len(night.changes), tuple(plan.lines))


class _Night:
    """Collects one run's Moodle changes, then applies them in order with their times."""

    def __init__(self, uni: University, options: NightOptions, cal: AcademicCalendar) -> None:
        self.uni, self.options, self.cal = uni, options, cal
        self.changes: list[Change] = []
        # The report's line per student enrolled or unenrolled tonight (info level).
        self.enrol_lines: list[Line] = []
        self.created: dict[str, int] = {}
        self.db_instances: dict[int, tuple[int, int]] = {}
        self.counts = {"create": 0, "archive": 0, "unarchive": 0}
        # Per course: teachers enrolled only by the team quirk; idnumbers losing teachers.
        self.team_only: dict[int, set[str]] = {}
        self.teachers_removed: set[str] = set()
        self.at = options.started_at + timedelta(seconds=30)

    def _next(self) -> datetime:
        self.at += CHANGE_STEP
        return self.at

    def write(self, fact: object) -> None:
        """Queue a write of ``fact`` (built with ``as_of=self.at`` after ``_next()``)."""
        self.changes.append(("write", fact, self.at))

    def delete(self, fact: object) -> None:
        self.changes.append(("delete", fact, self._next()))

    def course_action(self, action: str, idnumber: str, course_id: int | None) -> None:
        uni = self.uni
        self.counts[action] += 1
        if action == "create":
            elp = uni.elps[idnumber]
            new_id = uni.new_id("course")
            course = MoodleCourse(
                new_id,
                idnumber,
                idnumber,
                elp.label,
                visible=False,  # R1: created hidden and empty
                category=uni.composantes[elp.cod_cmp].category,
                startdate=self.cal.period_start(elp.period),
                enddate=self.cal.course_end(),
                as_of=self._next(),
            )
            self.write(course)
            self.created[idnumber] = new_id
            self.db_instances[new_id] = (
                self._instance(new_id, "database", "student"),
                self._instance(new_id, "database", "teacher"),
            )
            self._instance(new_id, "manual", "student")
            return
        assert course_id is not None
        course = uni.courses[course_id]
        if action == "archive":
            archived = replace(
                course,
                category=ARCHIVE_CATEGORY,
                archived=True,
                fullname=ARCHIVE_PREFIX + course.fullname.removeprefix(ARCHIVE_PREFIX),
                as_of=self._next(),
            )
            self.write(archived)
        else:
            elp = uni.elps[idnumber]
            restored = replace(
                course,
                category=uni.composantes[elp.cod_cmp].category,
                archived=False,
                fullname=course.fullname.removeprefix(ARCHIVE_PREFIX),
                as_of=self._next(),
            )
            self.write(restored)

    def _instance(self, course_id: int, method: EnrolMethod, role: Role) -> int:
        enrol_id = self.uni.new_id("enrol")
        at = self._next()
        created = at.replace(microsecond=0)  # Moodle keeps seconds
        self.write(MoodleEnrolInstance(enrol_id, course_id, method, role, None, created, at))
        return enrol_id

    def _db_instances(self, course_id: int) -> tuple[int, int]:
        known = self.db_instances.get(course_id)
        if known is None:
            students = self.uni.instances_of(course_id, "database", "student")
            teachers = self.uni.instances_of(course_id, "database", "teacher")
            known = (
                students[0] if students else self._instance(course_id, "database", "student"),
                teachers[0] if teachers else self._instance(course_id, "database", "teacher"),
            )
            self.db_instances[course_id] = known
        return known

    def sync_course(self, course: CoursePlan) -> None:
        course_id = self.created.get(course.idnumber, course.course_id)
        if course_id is None:
            return
        student_instance, teacher_instance = self._db_instances(course_id)
        self._sync_users(
            student_instance, course.students, suspend=course.suspended, course=course.idnumber
        )
        teachers = course.teachers
        self.team_only[course_id] = teachers - course.planned
        suspend_teachers = course.suspended and self.options.config.suspension_covers_teachers
        if self._sync_users(teacher_instance, teachers, suspend=suspend_teachers):
            self.teachers_removed.add(course.idnumber)
        if not course.suspended:
            wanted = {(g, etu) for etu, groups in course.students.items() for g in groups}
            current = self.uni.members_by_course.get(course_id, set())
            for group, user in sorted(wanted - current):
                self.write(MoodleGroupMember(course_id, group, user, self._next()))
            for group, user in sorted(current - wanted):
                self.delete(self.uni.members[(course_id, group, user)])

    def _sync_users(
        self, enrol_id: int, wanted: Iterable[str], *, suspend: bool, course: str | None = None
    ) -> bool:
        """Enrol ``wanted`` by this instance, remove the others; True if someone is removed."""
        current = self.uni.users_by_instance.get(enrol_id, {})
        enrolments = self.uni.enrolments
        if suspend:  # R3.4: suspended, not removed
            for user in sorted(current):
                enrolment = enrolments[current[user]]
                if enrolment.active:
                    self.write(replace(enrolment, active=False, as_of=self._next()))
            return False
        wanted_set = set(wanted)
        for user in sorted(wanted_set - current.keys()):
            new_id = self.uni.new_id("enrolment")
            self.write(MoodleEnrolment(new_id, enrol_id, user, as_of=self._next()))
            if course is not None:
                text = f"Insc. BDD : {user} inscrit au cours {course}"
                self.enrol_lines.append(("info", "enrol", text, course, user))
        removed = False
        for user in sorted(current):
            enrolment = enrolments[current[user]]
            if user not in wanted_set:
                self.delete(enrolment)
                removed = True
                if course is not None:
                    text = f"Insc. BDD : {user} désinscrit du cours {course}"
                    self.enrol_lines.append(("info", "unenrol", text, course, user))
            elif not enrolment.active:
                self.write(replace(enrolment, active=True, as_of=self._next()))
        return removed

    def enrolments_to_add(self) -> dict[str, frozenset[str]]:
        """What this plan would change in existing courses (idnumbers): see ``NightResult``."""
        found: dict[str, set[str]] = {"student": set(), "teacher": set(), "team": set()}
        for kind, fact, _at in self.changes:
            if kind != "write" or not isinstance(fact, MoodleEnrolment):
                continue
            instance = self.uni.instances.get(fact.enrol_id)
            if instance is None or fact.enrolment_id in self.uni.enrolments:
                continue
            role: str = instance.role
            if role == "teacher" and fact.user in self.team_only.get(instance.course_id, ()):
                role = "team"
            found[role].add(self.uni.courses[instance.course_id].idnumber)
        found["teacher_removed"] = self.teachers_removed
        return {role: frozenset(codes) for role, codes in found.items()}

    def apply(self) -> datetime:
        """Write every change at its time; return when the run ends (after the last one)."""
        for kind, fact, at in self.changes:
            if kind == "write":
                self.uni.write(fact, at)
            else:
                self.uni.delete(fact, at)
        return self.at + timedelta(seconds=30)
