"""Faults in ADE planning (R6): teachers not enrolled (``teacher_missing``) or enrolled
without a valid planning (``too_many_teachers``), from the seed's "Planification ADE
non compatible" and "Trop d'enseignants".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from detectors.facts import AdeFiche, CollectionLink, Elp, Group, Ip
from monitor.simulation.generate_ade import add_session, fiche_id, planned_groups
from monitor.simulation.injection import Injection


def _planned_elp(inj: Injection, kinds: tuple[str, ...] = ("real", "pseudo")) -> Elp:
    elps = inj.calm_elps(kinds, where=lambda e: bool(inj.planned_teachers(e.cod_elp)))  # type: ignore[arg-type]
    return inj.pick(elps, "ELP planned in ADE")


def _ids(elp: Elp, course_id: int, **more: Any) -> dict[str, Any]:
    return {"cod_elp": elp.cod_elp, "course_id": course_id, "cod_cmp": elp.cod_cmp, **more}


def _associate_a_stranger(inj: Injection) -> tuple[Elp, int, str, AdeFiche]:
    """A teacher of the composante associated with a fiche of a planned ELP, planned nowhere."""
    elp = _planned_elp(inj)
    course = inj.take_elp(elp)
    teacher = inj.stranger_teacher(elp)
    fiche = inj.uni.fiches[inj.pick(sorted(inj.uni.fiches_by_elp[elp.cod_elp]), "fiche")]
    inj.uni.write(replace(fiche, teachers=(*fiche.teachers, teacher)), inj.at)
    return elp, course.course_id, teacher, fiche


def associated_not_planned(inj: Injection) -> None:
    """A teacher associated with a fiche but planned in no session: not enrolled."""
    elp, course_id, teacher, fiche = _associate_a_stranger(inj)
    inj.record(
        "teacher_missing",
        "teacher_associated_not_planned",
        elp.cod_elp,
        **_ids(elp, course_id, teacher=teacher, fiche_id=fiche.fiche_id),
    )


def fiche_not_linked(inj: Injection) -> None:
    """A fiche made directly in ADE for an ELP's teaching, linked to no APOGÉE ELP."""
    elp = _planned_elp(inj)
    course = inj.take_elp(elp)
    teacher = inj.stranger_teacher(elp)
    fiche = AdeFiche(fiche_id(inj.uni.new_id("fiche")), None, (teacher,))
    inj.uni.write(fiche, inj.at)
    groups = planned_groups(inj.uni, elp)
    for _ in range(inj.rng.randint(2, 4)):
        session = add_session(
            inj.uni,
            inj.rng,
            inj.state.cal,
            fiche.fiche_id,
            elp.period,
            groups,
            (teacher,),
            inj.at,
            load=False,
        )
        inj.uni.write(session, inj.at)
    inj.record(
        "teacher_missing",
        "fiche_not_linked",
        fiche.fiche_id,
        **_ids(elp, course.course_id, teacher=teacher, fiche_id=fiche.fiche_id),
    )


def masked_by_new_group(inj: Injection) -> None:
    """A real group created on an ELP planned on its pseudo-group: the planning is masked."""
    uni, at = inj.uni, inj.at
    elp = _planned_elp(inj, ("pseudo",))
    course = inj.take_elp(elp)
    teachers = ",".join(sorted(inj.planned_teachers(elp.cod_elp)))
    collection = f"{elp.cod_elp}TD"
    group = Group(f"{collection}1", "TD 1", collection)
    uni.write(group, at)
    uni.write(CollectionLink(collection, elp.cod_elp), at)
    uni.elp_kind[elp.cod_elp] = "real"
    for cod_etu in sorted(uni.ips_by_elp.get(elp.cod_elp, ())):
        ip: Ip = uni.ips[(cod_etu, elp.cod_elp)]
        uni.write(replace(ip, group_id=group.group_id), at)
    ids = _ids(elp, course.course_id, teacher=teachers, group_id=group.group_id)
    inj.record("teacher_missing", "masked_by_new_group", elp.cod_elp, **ids)
    # The teachers enrolled so far lose the course tonight.
    inj.record("enrolments_lost", "masked_by_new_group", elp.cod_elp, primary=False, **ids)


def too_many_teachers(inj: Injection) -> None:
    """The whole team associated with a fiche, and lmsjonction enrols them without planning."""
    elp, course_id, teacher, fiche = _associate_a_stranger(inj)
    inj.state.team_enrolled_fiches.add(fiche.fiche_id)
    inj.record(
        "too_many_teachers",
        "without_planning",
        elp.cod_elp,
        **_ids(elp, course_id, teacher=teacher, fiche_id=fiche.fiche_id),
    )
