"""Faults that leave students enrolled but without their group (``group_missing``, R4).

The seed's FOAD cases c, d and f, the "artificial case c" of distant students
in the pseudo-group of a distance ELP, and the warnings spike: many CEMU groups
losing their label at once, a night full of ``w9`` warnings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from detectors.facts import Elp
from monitor.simulation.inject_students import enrolled_ips
from monitor.simulation.injection import Injection, SimState


def _mixed(inj: Injection, elp: Elp) -> bool:
    return elp.a_distance and inj.etape_kind(elp.cod_elp) == "mixed"


def _td_groups(inj: Injection, elp: Elp) -> list[str]:
    members = sorted(inj.uni.groups_by_collection.get(f"{elp.cod_elp}TD", ()))
    return [g for g in members if not inj.uni.groups[g].is_cemu]


def _em_groups(inj: Injection, elp: Elp) -> list[str]:
    members = sorted(inj.uni.groups_by_collection.get(f"{elp.cod_elp}TD", ()))
    return [g for g in members if inj.uni.groups[g].is_cemu]


def _group_missing(inj: Injection, cause: str, elp: Elp, course_id: int, **ids: Any) -> None:
    inj.record(
        "group_missing",
        cause,
        elp.cod_elp,
        cod_elp=elp.cod_elp,
        course_id=course_id,
        cod_cmp=elp.cod_cmp,
        **ids,
    )


def _move_to_group(inj: Injection, cause: str, *, distant: bool) -> None:
    """Move one student of a mixed ELP to the other kind of group (CEMU <-> presential)."""
    kind = "distant" if distant else "presential"
    elp = inj.pick(
        inj.calm_elps(
            ("real",),
            where=lambda e: _mixed(inj, e) and bool(enrolled_ips(inj, e, distant=distant)),
        ),
        f"mixed ELP with {kind} students",
    )
    course = inj.take_elp(elp)
    ip = inj.pick(enrolled_ips(inj, elp, distant=distant), f"{kind} IP")
    group = (_td_groups(inj, elp) if distant else _em_groups(inj, elp))[0]
    inj.uni.write(replace(ip, group_id=group), inj.at)
    _group_missing(inj, cause, elp, course.course_id, cod_etu=ip.cod_etu, group_id=group)


def foad_case_c(inj: Injection) -> None:
    """A distant student moved to a presential group of a distance ELP: no group, w9."""
    _move_to_group(inj, "foad_case_c", distant=True)


def foad_case_d(inj: Injection) -> None:
    """A presential group labelled CEMU on a presential ELP: its students lose the group."""
    elp = inj.pick(
        inj.calm_elps(
            ("real", "no_load"),
            where=lambda e: not e.a_distance and inj.etape_kind(e.cod_elp) == "presential",
        ),
        "presential ELP",
    )
    course = inj.take_elp(elp)
    used_groups = sorted({ip.group_id for ip in enrolled_ips(inj, elp) if ip.group_id})
    group = inj.uni.groups[inj.pick(used_groups, "group with students")]
    inj.uni.write(replace(group, label=f"{group.label} CEMU"), inj.at)
    _group_missing(inj, "foad_case_d", elp, course.course_id, group_id=group.group_id)


def foad_case_f(inj: Injection) -> None:
    """A presential student put in the CEMU group of a distance ELP."""
    _move_to_group(inj, "foad_case_f", distant=False)


def distant_in_pseudo_group(inj: Injection) -> None:
    """The seed's artificial case c: distant students in the pseudo-group of a distance ELP."""
    elp = inj.pick(inj.calm_elps(("pseudo",)), "ELP with a pseudo-group")
    course = inj.take_elp(elp)
    inj.uni.write(replace(elp, a_distance=True), inj.at)
    ips = enrolled_ips(inj, elp)[:3]
    for ip in ips:
        inj.uni.write(replace(ip, distant=True), inj.at)
    _group_missing(
        inj,
        "distant_in_pseudo_group",
        elp,
        course.course_id,
        detail="distant: " + ",".join(ip.cod_etu for ip in ips),
    )


def warnings_spike(inj: Injection, run_id: str, spike_students: int) -> list[str]:
    """CEMU groups relabelled without "CEMU": a night full of w9 warnings (case c).

    Returns the relabelled groups: the scolarité fixes them the next day.
    """
    affected = 0
    relabelled: list[str] = []
    while affected < spike_students:
        elp = inj.pick(
            inj.calm_elps(
                ("real",),
                where=lambda e: e.a_distance and bool(enrolled_ips(inj, e, distant=True)),
            ),
            "distance ELP for the warnings spike",
        )
        course = inj.take_elp(elp)
        for group_id in _em_groups(inj, elp):
            group = inj.uni.groups[group_id]
            inj.uni.write(replace(group, label=group.label.replace("CEMU", "EAD")), inj.at)
            relabelled.append(group_id)
        affected += len(enrolled_ips(inj, elp, distant=True))
        inj.record(
            "group_missing",
            "foad_case_c",
            elp.cod_elp,
            primary=False,
            cod_elp=elp.cod_elp,
            course_id=course.course_id,
            cod_cmp=elp.cod_cmp,
        )
    inj.record(
        "sync_run_health",
        "warnings_spike",
        run_id,
        run_id=run_id,
        detail=f"{affected} distant students left without group (w9)",
    )
    return relabelled


def restore_cemu_labels(state: SimState, at: datetime, *, group_ids: list[str]) -> None:
    """The scolarité puts "CEMU" back in the group labels (the spike lasts one night)."""
    for group_id in group_ids:
        group = state.uni.groups.get(group_id)
        if group is not None:
            state.uni.write(replace(group, label=group.label.replace("EAD", "CEMU")), at)
