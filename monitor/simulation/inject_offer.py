"""Faults in the teaching offer: ELPs removed, recoded or made porté (``course_archived``, R2, R5),
and an ELP removed while ADE still plans it (``teacher_missing``, elp_obsolete).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from detectors.facts import CollectionLink, Elp, Group, Ip
from monitor.simulation.injection import Injection


def _presential(inj: Injection, elp: Elp) -> bool:
    return not elp.a_distance and inj.etape_kind(elp.cod_elp) == "presential"


def remove_from_refer(inj: Injection, elp: Elp, *, keep_ade: bool) -> None:
    """Delete the ELP and its REFER rows (IPs, collection, groups); ADE's too unless kept."""
    uni, at, code = inj.uni, inj.at, elp.cod_elp
    for cod_etu in sorted(uni.ips_by_elp.get(code, ())):
        uni.delete(uni.ips[(cod_etu, code)], at)
    for collection in sorted(uni.links_by_elp.get(code, ())):
        uni.delete(uni.links[(collection, code)], at)
        if collection == f"{code}TD":
            for group_id in sorted(uni.groups_by_collection.get(collection, ())):
                uni.delete(uni.groups[group_id], at)
    pseudo = uni.groups.get(f"ELP_{code}_CM")
    if pseudo is not None:
        uni.delete(pseudo, at)
    if not keep_ade:
        for fiche_id in sorted(uni.fiches_by_elp.get(code, ())):
            for session_id in sorted(uni.sessions_by_fiche.get(fiche_id, ())):
                uni.delete(uni.sessions[session_id], at)
            uni.delete(uni.fiches[fiche_id], at)
    uni.delete(elp, at)


def removed(inj: Injection) -> None:
    """The ELP is removed from the offer (REFER and ADE): its course is archived tonight."""
    elp = inj.pick(inj.calm_elps(), "ELP with students")
    course = inj.take_elp(elp)
    remove_from_refer(inj, elp, keep_ade=False)
    inj.record(
        "course_archived",
        "removed_from_offer",
        elp.cod_elp,
        cod_elp=elp.cod_elp,
        course_id=course.course_id,
        cod_cmp=elp.cod_cmp,
    )


def code_changed(inj: Injection) -> None:
    """Same ELP under a new code: groups, IPs and ADE fiches move; the old course is archived."""
    uni, at = inj.uni, inj.at
    elp = inj.pick(inj.calm_elps(where=lambda e: _presential(inj, e)), "presential ELP")
    course = inj.take_elp(elp)
    old, new = elp.cod_elp, f"{elp.cod_elp}N"
    uni.elp_kind[new] = uni.elp_kind[old]
    uni.elp_etape[new] = uni.elp_etape[old]
    uni.etapes[uni.elp_etape[old]].elps.append(new)
    inj.state.used.elps.add(new)
    inj.state.course_created_for[new] = (inj.fault_id, inj.fault)
    uni.write(replace(elp, cod_elp=new), at)
    renamed: dict[str, str] = {}
    pseudo = uni.groups.get(f"ELP_{old}_CM")
    if pseudo is not None:
        renamed[pseudo.group_id] = f"ELP_{new}_CM"
        uni.write(replace(pseudo, group_id=f"ELP_{new}_CM"), at)
    if f"{old}TD" in uni.links_by_elp.get(old, ()):
        uni.write(CollectionLink(f"{new}TD", new), at)
        for group_id in sorted(uni.groups_by_collection.get(f"{old}TD", ())):
            group = uni.groups[group_id]
            renamed[group_id] = new + group_id[len(old) :]
            uni.write(Group(renamed[group_id], group.label, f"{new}TD"), at)
    for cod_etu in sorted(uni.ips_by_elp.get(old, ())):
        ip = uni.ips[(cod_etu, old)]
        new_group = renamed.get(ip.group_id, ip.group_id) if ip.group_id else None
        uni.write(Ip(cod_etu, new, new_group, ip.distant, ip.year), at)
    for fiche_id in sorted(uni.fiches_by_elp.get(old, ())):
        for session_id in sorted(uni.sessions_by_fiche.get(fiche_id, ())):
            session = uni.sessions[session_id]
            groups = tuple(renamed.get(g, g) for g in session.group_ids)
            uni.write(replace(session, group_ids=groups), at)
        uni.write(replace(uni.fiches[fiche_id], cod_elp=new), at)
    remove_from_refer(inj, uni.elps[old], keep_ade=True)
    inj.record(
        "course_archived",
        "code_changed",
        old,
        cod_elp=old,
        course_id=course.course_id,
        cod_cmp=elp.cod_cmp,
        detail=f"new code {new}",
    )


def became_porte(inj: Injection) -> None:
    """The ELP becomes porté, its collection shared with the porteur (done right): archived."""
    uni, at = inj.uni, inj.at
    porte = inj.pick(
        inj.calm_elps(("real",), where=lambda e: _presential(inj, e)), "presential ELP with groups"
    )
    porteur = inj.pick(
        inj.calm_elps(
            ("real",),
            where=lambda e: (
                _presential(inj, e)
                and e.cod_cmp == porte.cod_cmp
                and e.cod_elp != porte.cod_elp
                and uni.elp_etape[e.cod_elp] != uni.elp_etape[porte.cod_elp]
            ),
        ),
        "porteur for a new porté",
    )
    course = inj.take_elp(porte)
    inj.take_elp(porteur)
    uni.write(CollectionLink(f"{porte.cod_elp}TD", porteur.cod_elp), at)
    uni.write(replace(porte, porteur=porteur.cod_elp), at)
    uni.elp_kind[porte.cod_elp] = "porte"
    for fiche_id in sorted(uni.fiches_by_elp.get(porte.cod_elp, ())):
        uni.write(replace(uni.fiches[fiche_id], cod_elp=porteur.cod_elp), at)
    inj.record(
        "course_archived",
        "became_porte",
        porte.cod_elp,
        cod_elp=porte.cod_elp,
        course_id=course.course_id,
        cod_cmp=porte.cod_cmp,
        detail=f"porté by {porteur.cod_elp}",
    )


def elp_obsolete(inj: Injection) -> None:
    """The ELP leaves REFER but its ADE fiches stay planned: teachers not enrolled (R6)."""
    elp = inj.pick(
        inj.calm_elps(where=lambda e: bool(inj.planned_teachers(e.cod_elp))), "planned ELP"
    )
    teachers = ",".join(sorted(inj.planned_teachers(elp.cod_elp)))
    course = inj.take_elp(elp)
    remove_from_refer(inj, elp, keep_ade=True)
    ids: dict[str, Any] = {
        "cod_elp": elp.cod_elp,
        "course_id": course.course_id,
        "cod_cmp": elp.cod_cmp,
    }
    inj.record("teacher_missing", "elp_obsolete", elp.cod_elp, teacher=teachers, **ids)
    inj.record("course_archived", "removed_from_offer", elp.cod_elp, primary=False, **ids)
