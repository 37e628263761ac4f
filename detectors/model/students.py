"""R3 (with R4 FOAD and R5 porteur/porté): does one IP give its student a database enrolment?

Seed sections "Manque inscription jusqu'au groupe", "Mauvaise gestion statut à
distance", "Mauvaise gestion de la relation porteur/porté", "Élément suspendu",
"Étudiant Erasmus", "IA annulée et remplacée". A student may hold several IP
rows on one ELP (one per activity group); ``expected`` merges them.

Choices where the seed is silent: for an IP on a porté, R4's E flag and R3.5's
period are the porté's own; a suspended porté or porteur suspends the IP; an
IP naming a group unknown to the facts counts as a non-CEMU group; a student
without any IA in the facts is not refused by R3.6 (IAs may not be loaded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from detectors.facts import PSEUDO_GROUP_PREFIX, Group, Ip
from detectors.model.causes import FOAD_CAUSES, Cause, Fact, Refusal, refuse
from detectors.model.context import ElpView, ModelContext, StudentStanding
from detectors.model.exchange import departure_covers
from detectors.model.foad import FoadOutcome, classify_foad, describe_flags


@dataclass(frozen=True, slots=True)
class IpVerdict:
    """What one IP gives: an enrolment in ``course_idnumber`` (in ``group_id`` or no group).

    ``refusals`` hold every rule that blocks the enrolment or the group.
    ``as_of`` is the newest fact of the granting path (R9: younger than the
    last completed run means the enrolment is pending). ``overlap_only``: the
    IP belongs to the previous year, active only until the end of the overlap (R7).
    """

    ip: Ip
    course_idnumber: str | None
    enrolled: bool
    group_id: str | None
    refusals: tuple[Refusal, ...]
    as_of: datetime
    overlap_only: bool = False


def _names(group_ids: Iterable[str]) -> str:
    ordered = sorted(group_ids)
    shown = ", ".join(ordered[:5])
    return f"[{shown}{', …' if len(ordered) > 5 else ''}]"


def _pseudo_group_for(ctx: ModelContext, view: ElpView, ip: Ip) -> Group:
    """The pseudo-group holding every IP student of an ELP without groups.

    The IP's own pseudo-group when REFER names it, else the ELP's first one;
    when REFER shows none yet, ``ELP_<cod_elp>`` stands for it (assumption).
    """
    if ip.group_id is not None and ip.group_id.startswith(PSEUDO_GROUP_PREFIX):
        return ctx.facts.groups.get(ip.group_id) or Group(ip.group_id)
    if view.pseudo_groups:
        return view.pseudo_groups[0]
    return Group(f"{PSEUDO_GROUP_PREFIX}{view.cod_elp}")


def _refusal(
    view: ElpView,
    ip: Ip,
    path: tuple[Fact, ...],
    cause: Cause,
    detail: str,
    *,
    shown: tuple[Fact, ...] = (),
    group_id: str | None = None,
    foad: FoadOutcome | None = None,
) -> Refusal:
    return refuse(
        cause,
        "student",
        ip.cod_etu,
        cod_elp=ip.cod_elp,
        course_idnumber=view.course_idnumber,
        detail=detail,
        facts=(*path, *shown),
        group_id=group_id,
        foad=foad,
    )


def _group_of(ctx: ModelContext, view: ElpView, ip: Ip) -> Group | tuple[Cause, str]:
    """R3.2 and R5: the group the IP puts the student in, or why there is none."""
    group_id = ip.group_id
    if view.standing == "porte":
        known = ctx.facts.groups.get(group_id) if group_id is not None else None
        if group_id is None:
            return "ip_without_group", (
                f"l'inscription pédagogique à l'élément porté {ip.cod_elp} n'a pas de groupe : "
                f"seul un groupe d'une collection partagée avec le porteur "
                f"{view.course_idnumber} mène à son espace de cours"
            )
        if known is None or known.collection not in view.shared_collections:
            return "porte_collection_not_shared", _not_shared(ctx, view, ip, known)
        return known
    if view.real_groups:
        if group_id is None or group_id.startswith(PSEUDO_GROUP_PREFIX):
            named = f"ne nomme que le pseudo-groupe {group_id}" if group_id else "n'a pas de groupe"
            groups = _names(view.real_groups)
            return (
                "ip_without_group",
                f"l'inscription pédagogique à {ip.cod_elp} {named}, alors que l'élément a les "
                f"groupes {groups}",
            )
        real = view.real_groups.get(group_id)
        return real or ctx.facts.groups.get(group_id) or Group(group_id)
    assert view.elp is not None
    if not view.elp.has_teaching_load:
        return "no_pseudo_group", (
            f"l'élément {ip.cod_elp} n'a ni groupe ni charges d'enseignement : aucun "
            f"pseudo-groupe {PSEUDO_GROUP_PREFIX}{ip.cod_elp}_… n'est créé"
        )
    return _pseudo_group_for(ctx, view, ip)


def _not_shared(ctx: ModelContext, view: ElpView, ip: Ip, group: Group | None) -> str:
    if group is None or group.collection is None:
        return (
            f"le groupe {ip.group_id} de l'élément porté {ip.cod_elp} n'est dans aucune collection"
        )
    elps = [view.porteur, *view.portes] if view.porteur is not None else list(view.portes)
    missing = [
        ("au porteur " if e.porteur is None else "au porté ") + e.cod_elp
        for e in elps
        if group.collection not in ctx.facts.collections_of_elp(e.cod_elp)
    ]
    return f"la collection {group.collection} n'est pas associée {', '.join(missing)}"


def _unreachable(ctx: ModelContext, view: ElpView, ip: Ip) -> IpVerdict:
    """R1/R5/R7 refusals that end the evaluation: no course to reach, or a closed year."""
    elp = view.elp
    path: tuple[Fact, ...] = (ip,) if elp is None else (ip, elp)
    cause: Cause
    if view.standing == "obsolete" or elp is None:
        gone = "supprimé de REFER" if elp is not None else "inconnu de REFER"
        cause, detail = "elp_obsolete", f"l'élément {ip.cod_elp} est {gone}"
    elif view.standing == "porteur_not_current":
        cause = "porteur_not_current"
        detail = f"{ip.cod_elp} est porté par {elp.porteur}, qui n'est pas un élément actuel"
    else:
        ended = ip.year is not None and ip.year < ctx.current_year
        state = "close" if ended else "pas encore ouverte"
        cause, detail = (
            "year_inactive",
            (f"inscription pédagogique de l'année {ip.year} à {ip.cod_elp} : année {state}"),
        )
    refusal = _refusal(view, ip, path, cause, detail)
    return IpVerdict(ip, view.course_idnumber, False, None, (refusal,), ip.as_of)


def evaluate_ip(ctx: ModelContext, ip: Ip) -> IpVerdict:
    """Apply R1/R5 reachability, R7, R3.2, R4, R3.4, R3.5 and R3.6 to one IP, in that order.

    Hot path of the full pass (one call per IP): refusals are built only when needed.
    """
    view = ctx.elp(ip.cod_elp)
    elp = view.elp
    standing_ok = view.standing == "current" or view.standing == "porte"
    if not standing_ok or elp is None or (ip.year is not None and ip.year not in ctx.years):
        return _unreachable(ctx, view, ip)
    porteur = view.porteur
    path: tuple[Fact, ...] = (ip, elp) if porteur is None else (ip, elp, porteur)
    refusals: list[Refusal] = []
    blocked = False

    found = _group_of(ctx, view, ip)
    group_in_course: str | None = None
    if isinstance(found, Group):
        path = (*path, found)
        group_in_course = found.group_id
        outcome = classify_foad(
            ctx.is_cemu(found), elp.a_distance, ip.distant, pseudo_group=found.is_pseudo
        )
        if outcome.not_enrolled or outcome.no_group:
            cause = "distant_in_pseudo_group" if outcome.artificial else FOAD_CAUSES[outcome.case]
            detail = f"cas {outcome.case} : {describe_flags(outcome, found.group_id, ip.cod_elp)}"
            refusals.append(
                _refusal(view, ip, path, cause, detail, group_id=found.group_id, foad=outcome)
            )
            blocked = outcome.not_enrolled
            group_in_course = None
    else:
        refusals.append(_refusal(view, ip, path, *found))
        blocked = True

    for carrier in (elp, porteur):
        if carrier is not None and carrier.status == "suspended":
            detail = (
                f"l'élément {carrier.cod_elp} est suspendu dans APOGÉE : les inscriptions par "
                f"base de données du cours {view.course_idnumber} sont suspendues"
            )
            refusals.append(_refusal(view, ip, path, "elp_suspended", detail))
            blocked = True

    registrations = ctx.student(ip.cod_etu, ip.year)
    if registrations.outgoing or registrations.replaced or not registrations.active:
        student_refusals = _administrative(ctx, view, ip, path, registrations)
        refusals.extend(student_refusals)
        blocked = blocked or bool(student_refusals)

    as_of = ip.as_of
    for fact in path:
        if fact.as_of > as_of:
            as_of = fact.as_of
    return IpVerdict(
        ip,
        view.course_idnumber,
        not blocked,
        None if blocked else group_in_course,
        tuple(refusals),
        as_of,
        ctx.overlap_only(ip.year),
    )


def _administrative(
    ctx: ModelContext, view: ElpView, ip: Ip, path: tuple[Fact, ...], student: StudentStanding
) -> list[Refusal]:
    """R3.5 outgoing exchange and R3.6 cancelled (and replaced) IAs."""
    assert view.elp is not None
    period = view.elp.period
    refusals: list[Refusal] = []
    for ia, exchange in student.outgoing:
        if departure_covers(exchange.period, period, ctx.config):
            detail = (
                f"départ en échange {exchange.programme or ''} ({exchange.period}) couvrant "
                f"{ip.cod_elp} (période {period}) : voulu, pas une anomalie"
            )
            refusals.append(_refusal(view, ip, path, "outgoing_exchange", detail, shown=(ia,)))
            break
    if ctx.config.ia_replacement_defect and student.replaced:
        cancelled, replacement = student.replaced[0]
        detail = (
            f"IA {cancelled.ia_id} annulée et remplacée par l'IA {replacement.ia_id} : "
            "les tables intermédiaires perdraient ses inscriptions (hypothèse en cours d'analyse)"
        )
        shown: tuple[Fact, ...] = (cancelled, replacement)
        refusals.append(_refusal(view, ip, path, "ia_cancelled_replaced", detail, shown=shown))
    elif student.ias and not student.active:
        detail = f"aucune IA active pour l'étudiant {ip.cod_etu} en {ip.year}"
        refusals.append(_refusal(view, ip, path, "ia_cancelled", detail, shown=student.ias))
    return refusals
