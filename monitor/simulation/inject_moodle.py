"""Faults people make in Moodle and in accounts: idnumbers edited by hand (R8), forgotten
cohort syncs and open-ended manual or self enrolments, hidden or ended courses, and
guest or vacataire accounts created without an e-mail address.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from detectors.facts import (
    Account,
    AccountKind,
    Elp,
    EnrolMethod,
    MoodleCourse,
    MoodleGroupMember,
)
from monitor.simulation.generate_moodle import add_enrolment, add_instance
from monitor.simulation.injection import Injection

TOO_OLD_DAYS = 730


def _course(inj: Injection, *, visible: bool | None = None) -> tuple[Elp, MoodleCourse]:
    def fits(elp: Elp) -> bool:
        course = inj.uni.live_course(elp.cod_elp)
        return visible is None or (course is not None and course.visible == visible)

    elp = inj.pick(inj.calm_elps(where=fits), "course with students")
    return elp, inj.take_elp(elp)


def _ids(elp: Elp, course: MoodleCourse, **more: Any) -> dict[str, Any]:
    return {"cod_elp": elp.cod_elp, "course_id": course.course_id, "cod_cmp": elp.cod_cmp, **more}


def _edit_idnumber(inj: Injection) -> None:
    """Someone edits a course's idnumber by hand (R8).

    The next night archives the course and creates a new one for the ELP;
    ``course_archived`` leaves idnumbers REFER never showed to
    ``course_idnumber_changed``, so that is the one alert expected.
    """
    elp, course = _course(inj)
    edited = f"{course.idnumber}-BIS"
    inj.uni.write(replace(course, idnumber=edited), inj.at)
    inj.state.untouchable_courses.add(course.course_id)
    inj.state.course_created_for[course.idnumber] = (inj.fault_id, inj.fault)
    detail = f"idnumber {course.idnumber} edited to {edited}; archived tonight"
    inj.record(
        "course_idnumber_changed", "idnumber_edited", edited, **_ids(elp, course, detail=detail)
    )


def idnumber_edited(inj: Injection) -> None:
    _edit_idnumber(inj)


def _other_etape_students(inj: Injection, elp: Elp, course: MoodleCourse) -> tuple[int, list[str]]:
    uni = inj.uni
    own = uni.elp_etape[elp.cod_elp]
    enrolled = uni.database_users(course.course_id)
    etapes = [e for code, e in sorted(uni.etapes.items()) if code != own and e.students]
    etape = etapes[inj.rng.randrange(len(etapes))]
    return etape.cohort_id, [s for s in etape.students if s not in enrolled][:20]


def cohort_redundant(inj: Injection) -> None:
    """A cohort sync whose members are all enrolled by the database method already."""
    elp, course = _course(inj)
    etape = inj.uni.etapes[inj.uni.elp_etape[elp.cod_elp]]
    instance = add_instance(inj.uni, course.course_id, "cohort", "student", inj.at, etape.cohort_id)
    for user in sorted(inj.uni.database_users(course.course_id)):
        add_enrolment(inj.uni, instance, user, inj.at, timestart=inj.at)
    inj.record("forgotten_cohort_sync", "cohort_redundant", elp.cod_elp, **_ids(elp, course))


def cohort_in_archived_course(inj: Injection) -> None:
    uni, used = inj.uni, inj.state.used
    archived = [
        c
        for _, c in sorted(uni.courses.items())
        if c.archived and c.course_id not in used.courses and c.idnumber not in used.elps
    ]
    course = inj.pick(archived, "archived course")
    used.courses.add(course.course_id)
    etape = inj.pick([e for _, e in sorted(uni.etapes.items()) if e.students], "étape")
    instance = add_instance(uni, course.course_id, "cohort", "student", inj.at, etape.cohort_id)
    for user in etape.students[:10]:
        add_enrolment(uni, instance, user, inj.at, timestart=inj.at)
    inj.record(
        "forgotten_cohort_sync",
        "cohort_in_obsolete_course",
        course.idnumber,
        cod_elp=course.idnumber,
        course_id=course.course_id,
    )


def cohort_too_old(inj: Injection) -> None:
    elp, course = _course(inj)
    created = inj.at - timedelta(days=TOO_OLD_DAYS)
    cohort, members = _other_etape_students(inj, elp, course)
    instance = add_instance(inj.uni, course.course_id, "cohort", "student", inj.at, cohort, created)
    for user in members:
        add_enrolment(inj.uni, instance, user, inj.at, timestart=created)
    inj.record(
        "forgotten_cohort_sync",
        "cohort_too_old",
        elp.cod_elp,
        **_ids(elp, course, detail=f"created {created.date().isoformat()}"),
    )
    # Students of another étape: none has an IP on the element (seed: "ne prennent pas en
    # compte le fait que certains étudiants ne font pas toutes les UEs d'un parcours").
    inj.record(
        "forgotten_cohort_sync", "cohort_member_without_ip", elp.cod_elp, primary=False,
        **_ids(elp, course),
    )  # fmt: skip


def cohort_member_without_ip(inj: Injection) -> None:
    """A recent cohort sync bringing in students of another étape, who have no IP on the ELP."""
    elp, course = _course(inj)
    cohort, members = _other_etape_students(inj, elp, course)
    instance = add_instance(inj.uni, course.course_id, "cohort", "student", inj.at, cohort)
    for user in members:
        add_enrolment(inj.uni, instance, user, inj.at, timestart=inj.at)
    inj.record(
        "forgotten_cohort_sync",
        "cohort_member_without_ip",
        elp.cod_elp,
        **_ids(elp, course, detail=f"{len(members)} members of another étape"),
    )


def cohort_partly_redundant(inj: Injection) -> None:
    """A cohort sync of the ELP's étape: its database-enrolled students and a few without IP.

    The étape's students who do not take this ELP have no IP on it (seed: "certains
    étudiants ne font pas toutes les UEs d'un parcours"); they are at most a ninth of
    the database-enrolled ones, so the cohort is redundant at the default share (90 %),
    and they raise ``cohort_member_without_ip`` besides.
    """
    uni = inj.uni

    def others(elp: Elp) -> list[str]:
        course = uni.live_course(elp.cod_elp)
        if course is None:
            return []
        enrolled = uni.database_users(course.course_id)
        etape = uni.etapes[uni.elp_etape[elp.cod_elp]]
        return [s for s in etape.students if s not in enrolled and not _has_ip(inj, s, elp)]

    def fits(elp: Elp) -> bool:
        course = uni.live_course(elp.cod_elp)
        return (
            course is not None
            and len(uni.database_users(course.course_id)) >= 9
            and bool(others(elp))
        )

    elp = inj.pick(inj.calm_elps(where=fits), "course of an étape with students out of it")
    extra = others(elp)
    course = inj.take_elp(elp)
    enrolled = sorted(uni.database_users(course.course_id))
    extra = extra[: max(1, len(enrolled) // 9)]
    etape = uni.etapes[uni.elp_etape[elp.cod_elp]]
    instance = add_instance(uni, course.course_id, "cohort", "student", inj.at, etape.cohort_id)
    for user in [*enrolled, *extra]:
        add_enrolment(uni, instance, user, inj.at, timestart=inj.at)
    detail = f"{len(enrolled)} of {len(enrolled) + len(extra)} members database-enrolled"
    inj.record(
        "forgotten_cohort_sync", "cohort_redundant", elp.cod_elp, **_ids(elp, course, detail=detail)
    )
    inj.record(
        "forgotten_cohort_sync", "cohort_member_without_ip", elp.cod_elp, primary=False,
        **_ids(elp, course),
    )  # fmt: skip


def _has_ip(inj: Injection, cod_etu: str, elp: Elp) -> bool:
    return elp.cod_elp in inj.uni.ips_by_etu.get(cod_etu, ())  # a student's uid is its cod_etu


def _open_ended(inj: Injection, method: EnrolMethod) -> None:
    """A manual (a guest) or self (a student of another étape) enrolment with no end date."""
    uni = inj.uni
    elp, course = _course(inj)
    existing = uni.instances_of(course.course_id, method, "student")
    instance = (
        existing[0] if existing else add_instance(uni, course.course_id, method, "student", inj.at)
    )
    if method == "manual":
        guests = sorted(a.uid for a in uni.accounts.values() if a.kind == "guest" and a.email)
        user = inj.pick(guests, "guest account")
    else:
        user = inj.pick(_other_etape_students(inj, elp, course)[1], "student to self-enrol")
    add_enrolment(uni, instance, user, inj.at, timestart=inj.at)
    ids = _ids(elp, course, uid=user, detail=f"{method} enrolment without end date")
    inj.record("forgotten_cohort_sync", "enrolment_without_end", elp.cod_elp, **ids)


def manual_without_end_date(inj: Injection) -> None:
    _open_ended(inj, "manual")


def self_without_end_date(inj: Injection) -> None:
    _open_ended(inj, "self")


def course_hidden(inj: Injection) -> None:
    """A teacher hides a course of a period already started, students enrolled."""
    elp, course = _course(inj, visible=True)
    inj.uni.write(replace(course, visible=False), inj.at)
    inj.state.untouchable_courses.add(course.course_id)
    inj.record("course_hidden", "hidden_after_start", elp.cod_elp, **_ids(elp, course))


def course_ended_early(inj: Injection) -> None:
    """The course's end date set to yesterday: it leaves the "in progress" dashboard filter."""
    elp, course = _course(inj, visible=True)
    local = inj.at.astimezone(inj.state.cal.zone).date() - timedelta(days=1)
    inj.uni.write(replace(course, enddate=inj.state.cal.at(local)), inj.at)
    inj.state.untouchable_courses.add(course.course_id)
    inj.record("course_ended_early", "enddate_passed", elp.cod_elp, **_ids(elp, course))


def _account_without_email(inj: Injection, kind: AccountKind) -> None:
    uni = inj.uni
    number = sum(1 for a in uni.accounts.values() if a.kind == kind) + 1
    uid = f"{'invite' if kind == 'guest' else 'vacat'}{number:04d}"
    # The alert is per composante: a composante of its own for each fault, while there are some.
    taken = inj.state.used.composantes
    fresh = [c for c in sorted(uni.composantes) if c not in taken]
    cod_cmp = inj.pick(fresh or sorted(uni.composantes), "composante")
    taken.add(cod_cmp)
    first, last = "Camille", f"Sansmail{number}"
    uni.write(Account(uid, kind, None, None, last, first, None, cod_cmp), inj.at)
    inj.record(
        "account_missing_email", "missing_email", cod_cmp, uid=uid, cod_cmp=cod_cmp, detail=kind
    )


def guest_without_email(inj: Injection) -> None:
    _account_without_email(inj, "guest")


def vacataire_without_email(inj: Injection) -> None:
    _account_without_email(inj, "vacataire")


def wrong_group(inj: Injection) -> None:
    """A student moved by hand to another group of the course (seed FAQ "Je ne suis pas
    affecté dans le bon groupe dans le cours"): APOGÉE is right, Ecampus differs."""
    uni = inj.uni

    def fits(elp: Elp) -> bool:
        course = uni.live_course(elp.cod_elp)
        members = uni.members_by_course.get(course.course_id, set()) if course else set()
        return len({group for group, _ in members}) >= 2

    elp = inj.pick(inj.calm_elps(("real",), where=fits), "course with two groups")
    course = inj.take_elp(elp)
    members = sorted(uni.members_by_course[course.course_id])
    group, user = members[0]
    other = next(g for g in sorted({g for g, _ in members}) if g != group)
    uni.delete(uni.members[(course.course_id, group, user)], inj.at)
    uni.write(MoodleGroupMember(course.course_id, other, user, inj.at), inj.at)
    detail = f"{user} moved from {group} to {other}"
    inj.record("group_missing", "wrong_group", elp.cod_elp, **_ids(elp, course, detail=detail))
