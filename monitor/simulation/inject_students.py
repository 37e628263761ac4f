"""Faults that keep students out of a course or out of their group (R3, R4, R5).

``students_not_enrolled`` (the student loses the course, so ``enrolments_lost``
follows after the night) and ``group_missing`` (enrolled, but without group).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from detectors.facts import Elp, Ip, MoodleCourse
from monitor.simulation.injection import Injection


def enrolled_ips(inj: Injection, elp: Elp, *, distant: bool | None = None) -> list[Ip]:
    """IPs of the ELP whose student is enrolled in its course by the database method."""
    uni = inj.uni
    course = uni.live_course(elp.porteur or elp.cod_elp)
    enrolled = uni.database_users(course.course_id) if course is not None else {}
    ips = [uni.ips[(etu, elp.cod_elp)] for etu in sorted(uni.ips_by_elp.get(elp.cod_elp, ()))]
    return [
        ip for ip in ips if ip.cod_etu in enrolled and (distant is None or ip.distant == distant)
    ]


def lost_access(
    inj: Injection, cause: str, elp: Elp, course_id: int, *, primary: bool = True, **ids: Any
) -> None:
    """Not enrolled, and the enrolment lost tonight; both about the IP's ELP (a porté's own)."""
    where = {"cod_elp": elp.cod_elp, "course_id": course_id, "cod_cmp": elp.cod_cmp, **ids}
    inj.record("students_not_enrolled", cause, elp.cod_elp, primary=primary, **where)
    inj.record("enrolments_lost", cause, elp.cod_elp, primary=False, **where)


def _is_cemu(inj: Injection, group_id: str | None) -> bool:
    group = inj.uni.groups.get(group_id) if group_id else None
    return group is not None and group.is_cemu


def _distant_in_cemu(inj: Injection, elp: Elp) -> int:
    return sum(1 for ip in enrolled_ips(inj, elp, distant=True) if _is_cemu(inj, ip.group_id))


def ip_without_group(inj: Injection) -> None:
    elp = inj.pick(inj.calm_elps(("real", "no_load")), "ELP with groups")
    course = inj.take_elp(elp)
    ip = inj.pick(enrolled_ips(inj, elp), "enrolled IP")
    inj.uni.write(replace(ip, group_id=None), inj.at)
    lost_access(inj, "ip_without_group", elp, course.course_id, cod_etu=ip.cod_etu)


def no_pseudo_group(inj: Injection) -> None:
    elp = inj.pick(inj.calm_elps(("pseudo",)), "ELP with a pseudo-group")
    course = inj.take_elp(elp)
    inj.uni.write(replace(elp, has_teaching_load=False), inj.at)
    inj.uni.delete(inj.uni.groups[f"ELP_{elp.cod_elp}_CM"], inj.at)
    lost_access(inj, "no_pseudo_group", elp, course.course_id)


def foad_case_a(inj: Injection) -> None:
    """IP in télé-enseignement on a presential ELP, in a non-CEMU group: Insc. BDD, w9."""
    elp = inj.pick(
        inj.calm_elps(
            where=lambda e: not e.a_distance and inj.etape_kind(e.cod_elp) == "presential"
        ),
        "presential ELP",
    )
    course = inj.take_elp(elp)
    ip = inj.pick(enrolled_ips(inj, elp), "enrolled IP")
    inj.uni.write(replace(ip, distant=True), inj.at)
    lost_access(inj, "foad_case_a", elp, course.course_id, cod_etu=ip.cod_etu)


# Few enough "Insc. BDD" errors a night not to look like an errors spike (sync_run_health: 50).
FOAD_E_MAX_STUDENTS = 30


def foad_case_e(inj: Injection) -> None:
    """A distance ELP declared presential: its distant students in CEMU groups are case e."""
    elp = inj.pick(
        inj.calm_elps(
            ("real",),
            where=lambda e: (
                e.a_distance
                and inj.etape_kind(e.cod_elp) != "presential"
                and 0 < _distant_in_cemu(inj, e) <= FOAD_E_MAX_STUDENTS
            ),
        ),
        "distance ELP with distant students",
    )
    course = inj.take_elp(elp)
    inj.uni.write(replace(elp, a_distance=False), inj.at)
    lost_access(inj, "foad_case_e", elp, course.course_id)


def porte_collection_not_shared(inj: Injection) -> None:
    """The porteur's collection is detached from the porté: its students lose the course (R5)."""
    uni, used = inj.uni, inj.state.used
    candidates = []
    for code in sorted(uni.elps):
        elp = uni.elps[code]
        if elp.porteur is None or code in used.elps or elp.porteur in used.elps:
            continue
        if f"{elp.porteur}TD" in uni.links_by_elp.get(code, ()) and enrolled_ips(inj, elp):
            candidates.append(elp)
    porte = inj.pick(candidates, "porté ELP with enrolled students")
    assert porte.porteur is not None
    course = inj.take_elp(uni.elps[porte.porteur])
    used.elps.add(porte.cod_elp)
    used.students.update(uni.ips_by_elp.get(porte.cod_elp, ()))
    unshare_collection(inj, porte, f"{porte.porteur}TD", course)


def unshare_collection(inj: Injection, porte: Elp, collection: str, course: MoodleCourse) -> None:
    """Detach the porteur's ``collection`` from the porté (R5); ``course`` is the porteur's."""
    inj.uni.delete(inj.uni.links[(collection, porte.cod_elp)], inj.at)
    lost_access(
        inj,
        "porte_collection_not_shared",
        porte,
        course.course_id,
        detail=f"collection {collection} not attached to {porte.cod_elp}",
    )


def elp_suspended(inj: Injection) -> None:
    elp = inj.pick(inj.calm_elps(), "ELP with students")
    suspend(inj, elp, inj.take_elp(elp))


def suspend(inj: Injection, elp: Elp, course: MoodleCourse) -> None:
    """Suspend the ELP (R3.4): its students, and its planned teachers, lose the course."""
    teachers = sorted(inj.planned_teachers(elp.cod_elp))
    inj.uni.write(replace(elp, status="suspended"), inj.at)
    ids: dict[str, Any] = {
        "cod_elp": elp.cod_elp,
        "course_id": course.course_id,
        "cod_cmp": elp.cod_cmp,
    }
    inj.record("students_not_enrolled", "elp_suspended", elp.cod_elp, **ids)
    # Suspended enrolments count as lost (enrolments_lost: "deleted or suspended").
    inj.record("enrolments_lost", "elp_suspended", elp.cod_elp, primary=False, **ids)
    if teachers and inj.state.model_config.suspension_covers_teachers:
        inj.record(
            "teacher_missing",
            "elp_suspended",
            elp.cod_elp,
            primary=False,
            teacher=",".join(teachers),
            **ids,
        )


def ia_cancelled_replaced(inj: Injection) -> None:
    """The IA is cancelled and redone: with lmsjonction's defect the student loses every course."""
    uni, used = inj.uni, inj.state.used
    candidates = []
    for cod_etu in sorted(uni.ips_by_etu):
        ia = uni.active_ia(cod_etu) if cod_etu not in used.students else None
        if ia is None or ia.exchange_programme or ia.replaces or len(uni.ips_by_etu[cod_etu]) < 3:
            continue
        if any(code in used.elps for code in uni.ips_by_etu[cod_etu]):
            continue
        candidates.append(ia)
    ia = inj.pick(candidates, "student with an active IA")
    used.students.add(ia.cod_etu)
    # Every course of the student carries this fault's alerts: no other fault may touch them.
    codes = uni.ips_by_etu[ia.cod_etu]
    used.elps.update(codes)
    used.elps.update(p for p in (uni.elps[c].porteur for c in codes) if p is not None)
    uni.write(replace(ia, status="cancelled", cancelled_at=inj.at), inj.at)
    redone = replace(ia, ia_id=ia.ia_id.rsplit("-", 1)[0] + "-2", replaces=ia.ia_id)
    uni.write(redone, inj.at)
    # The student loses every course: one alert per ELP (and per course), the first primary.
    first = True
    for code in sorted(uni.ips_by_etu[ia.cod_etu]):
        elp = uni.elps[code]
        course = uni.live_course(elp.porteur or code)
        if course is None or ia.cod_etu not in uni.database_users(course.course_id):
            continue
        lost_access(
            inj,
            "ia_cancelled_replaced",
            elp,
            course.course_id,
            primary=first,
            cod_etu=ia.cod_etu,
            detail=f"IA {ia.ia_id} replaced by {redone.ia_id}",
        )
        first = False
