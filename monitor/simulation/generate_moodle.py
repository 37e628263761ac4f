"""The Moodle side of a clean university: what past nights and careful people left there.

Courses, database enrolments and groups come from running the simulated
lmsjonction once on an empty Moodle (so they agree with the model by
construction). Then what people did by hand, each done the hygienic way:
teachers showed the courses whose period has started; old courses sit in the
archive category; teachers of distance courses (not planned in ADE) are
enrolled by hand with an end date (no cohort sync: see ``_cohort_syncs``);
manual or self enrolments with an end date.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from detectors.facts import EnrolMethod, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, Role
from detectors.model import ModelConfig
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.lmsjonction import ARCHIVE_CATEGORY, ARCHIVE_PREFIX, NightOptions, run_night
from monitor.simulation.scale import Scale
from monitor.simulation.seed_cases import SEED_ELPS
from monitor.simulation.university import University

# Assumption: the forgotten_cohort_sync detector's age limit is above this.
CLEAN_COHORT_MAX_AGE_DAYS = 120
COHORT_MEMBERS = 80
SELF_ENROLMENTS = 15
ARCHIVED_ENROLMENTS = 60


def add_instance(
    uni: University,
    course_id: int,
    method: EnrolMethod,
    role: Role,
    at: datetime,
    cohort_id: int | None = None,
    created: datetime | None = None,
) -> int:
    enrol_id = uni.new_id("enrol")
    uni.write(
        MoodleEnrolInstance(enrol_id, course_id, method, role, cohort_id, created or at, at), at
    )
    return enrol_id


def add_enrolment(
    uni: University,
    enrol_id: int,
    user: str,
    at: datetime,
    *,
    timestart: datetime | None = None,
    timeend: datetime | None = None,
) -> int:
    enrolment_id = uni.new_id("enrolment")
    uni.write(MoodleEnrolment(enrolment_id, enrol_id, user, timestart, timeend, True, at), at)
    return enrolment_id


def generate_moodle(
    uni: University,
    scale: Scale,
    rng: random.Random,
    cal: AcademicCalendar,
    at: datetime,
    config: ModelConfig,
) -> None:
    run_night(uni, NightOptions("lmsjonction-initial", at, config=config), cal)
    for course in list(uni.courses.values()):
        elp = uni.elps[course.idnumber]
        if cal.period_started(elp.period, at):
            uni.write(replace(course, visible=True), at)
    # The seed's cases are as the seed shows them: no hand-made extras in their courses.
    current = sorted(
        (c for c in uni.courses.values() if c.idnumber not in SEED_ELPS),
        key=lambda c: c.course_id,
    )
    _archived_courses(uni, scale, rng, cal, at, current)
    _distance_teachers(uni, rng, cal, at, current)
    with_students = [c for c in current if uni.database_users(c.course_id)]
    _cohort_syncs(uni, scale, rng, at, with_students)
    _manual_and_self(uni, scale, rng, cal, at, with_students)


def _archived_courses(
    uni: University,
    scale: Scale,
    rng: random.Random,
    cal: AcademicCalendar,
    at: datetime,
    current: list[MoodleCourse],
) -> None:
    """Courses of ELPs replaced in earlier years, archived long ago, still holding enrolments."""
    previous = AcademicCalendar(cal.year - 1, cal.zone)
    for course in rng.sample(current, round(scale.archived_courses_share * len(current))):
        old = MoodleCourse(
            uni.new_id("course"),
            f"{course.idnumber}R",
            f"{course.idnumber}R",
            ARCHIVE_PREFIX + course.fullname,
            visible=True,
            category=ARCHIVE_CATEGORY,
            archived=True,
            startdate=previous.period_start("S1"),
            enddate=previous.course_end(),
        )
        uni.write(old, at)
        students = add_instance(uni, old.course_id, "database", "student", at)
        add_instance(uni, old.course_id, "database", "teacher", at)
        for user in sorted(uni.database_users(course.course_id))[
            : rng.randint(0, ARCHIVED_ENROLMENTS)
        ]:
            add_enrolment(uni, students, user, at)


def _distance_teachers(
    uni: University,
    rng: random.Random,
    cal: AcademicCalendar,
    at: datetime,
    current: list[MoodleCourse],
) -> None:
    for course in current:
        etape = uni.etapes[uni.elp_etape[course.idnumber]]
        if etape.kind != "distance":
            continue
        pool = uni.teachers_by_cmp[etape.cod_cmp]
        instance = add_instance(uni, course.course_id, "manual", "teacher", at)
        for teacher in sorted(set(rng.sample(pool, k=min(2, len(pool))))):
            add_enrolment(uni, instance, teacher, at, timestart=at, timeend=cal.course_end())


def _cohort_syncs(
    uni: University, scale: Scale, rng: random.Random, at: datetime, courses: list[MoodleCourse]
) -> None:
    """Recent cohort syncs bringing in students of another étape (none at the default share).

    Such members have no IP on the element: ``forgotten_cohort_sync`` raises
    ``cohort_member_without_ip`` for them, so only a scale that wants them adds these.
    """
    etapes = sorted(uni.etapes)
    for course in rng.sample(courses, round(scale.cohort_sync_share * len(courses))):
        own = uni.elp_etape[course.idnumber]
        other = uni.etapes[rng.choice([e for e in etapes if e != own])]
        enrolled = uni.database_users(course.course_id)
        members = [s for s in other.students if s not in enrolled][:COHORT_MEMBERS]
        created = at - timedelta(days=rng.randint(7, CLEAN_COHORT_MAX_AGE_DAYS))
        instance = add_instance(
            uni, course.course_id, "cohort", "student", at, other.cohort_id, created
        )
        for user in members:
            add_enrolment(uni, instance, user, at, timestart=created)


def _manual_and_self(
    uni: University,
    scale: Scale,
    rng: random.Random,
    cal: AcademicCalendar,
    at: datetime,
    courses: list[MoodleCourse],
) -> None:
    """Manual and self enrolments, each limited in time as the seed recommends."""
    guests = sorted(a.uid for a in uni.accounts.values() if a.kind in ("guest", "vacataire"))
    for course in rng.sample(courses, round(scale.manual_share * len(courses))):
        manual = uni.instances_of(course.course_id, "manual", "student")
        instance = (
            manual[0] if manual else add_instance(uni, course.course_id, "manual", "student", at)
        )
        for user in rng.sample(guests, k=min(len(guests), rng.randint(1, 3))):
            start = at - timedelta(days=rng.randint(1, 30))
            add_enrolment(
                uni, instance, user, at, timestart=start, timeend=start + timedelta(days=90)
            )
    students = sorted(uni.ips_by_etu)
    for course in rng.sample(courses, round(scale.self_share * len(courses))):
        instance = add_instance(uni, course.course_id, "self", "student", at)
        enrolled = uni.database_users(course.course_id)
        for user in rng.sample(students, k=SELF_ENROLMENTS):
            if user not in enrolled:
                add_enrolment(uni, instance, user, at, timestart=at, timeend=cal.course_end())
