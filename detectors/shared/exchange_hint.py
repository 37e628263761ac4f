"""The one exchange case worth a hint: a yearly departure that the student's activity contradicts.

Seed section "Étudiant Erasmus": an outgoing student is deliberately not
enrolled (R3.5, not a fault). But "il arrive que des étudiants lors de leur IA
s'inscrivent par erreur dans un programme d'échange international alors qu'ils
sont bien présents en cours", and a student leaving for one semester may have
ticked the yearly programme by mistake. Assumption: registration in real
groups (not pseudo-groups) of ELPs of both semesters, in the departure's year,
shows presence for the year. Low severity (info): one finding per étape of the
IA, as the bureau des inscriptions fixes IAs; subject is the ``cod_etp``.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.causes import DeclaredCause
from detectors.facts import Ia, Ip
from detectors.findings import Finding
from detectors.model import Refusal
from detectors.model.describe import agree, plural
from detectors.model.exchange import exchange_of
from detectors.shared.model_bridge import Around, ModelPass
from detectors.shared.people import people_summary, person_row
from detectors.shared.refusal_findings import elp_of, phase_of

CAUSE = "exchange_contradiction"
OWN_CAUSES = (
    DeclaredCause(
        CAUSE, "Départ en échange à l'année mais groupes des deux semestres", "inscriptions"
    ),
)

REMEDIATION = (
    "Ces étudiants ont une inscription administrative avec un programme d'échange "
    "international au départ pour l'année : ils ne sont donc inscrits dans aucun cours "
    "d'Ecampus, car ils suivent des cours considérés comme équivalents dans une université "
    "étrangère. Pourtant ils sont inscrits dans des groupes des deux semestres. Il arrive que "
    "des étudiants s'inscrivent par erreur dans un programme d'échange alors qu'ils sont bien "
    "présents en cours ; un étudiant qui ne part qu'un semestre doit sélectionner le programme "
    "du semestre 1 ou du semestre 2. Si la modalité annuelle a été cochée par erreur, alertez le "
    "bureau des inscriptions (SI-Scol) pour supprimer l'information erronée. Si l'étudiant est "
    "réellement à l'étranger et a besoin d'accéder à un cours, demandez à l'enseignant de "
    "l'inscrire manuellement, pour une durée limitée."
)


@dataclass(frozen=True, slots=True)
class _Contradiction:
    cod_etu: str
    ia: Ia
    by_semester: dict[str, list[Ip]]


def _departure(refusal: Refusal) -> Ia | None:
    """The IA of a yearly outgoing exchange the model refuses the student for."""
    for fact in refusal.facts:
        if isinstance(fact, Ia):
            exchange = exchange_of(fact)
            if exchange is not None and exchange.period == "year":
                return fact
    return None


def _contradiction(model: ModelPass, cod_etu: str, ia: Ia) -> _Contradiction | None:
    facts = model.facts
    by_semester: dict[str, list[Ip]] = {"S1": [], "S2": []}
    for ip in facts.ips_of_student(cod_etu):
        group = facts.groups.get(ip.group_id) if ip.group_id is not None else None
        elp = facts.elps.get(ip.cod_elp)
        same_year = ip.year is None or ia.year is None or ip.year == ia.year
        if group is None or group.is_pseudo or elp is None or not same_year:
            continue
        if elp.period in by_semester:
            by_semester[elp.period].append(ip)
    if by_semester["S1"] and by_semester["S2"]:
        return _Contradiction(cod_etu, ia, by_semester)
    return None


def exchange_contradictions(model: ModelPass, around: Around, *, detector: str) -> list[Finding]:
    """Hints for yearly departures contradicted by groups of both semesters, per étape."""
    departures: dict[str, Ia] = {}
    for refusal in around.refusals():
        if refusal.cause == "outgoing_exchange" and refusal.who not in departures:
            ia = _departure(refusal)
            if ia is not None:
                departures[refusal.who] = ia
    by_etape: dict[str, list[_Contradiction]] = {}
    for cod_etu, ia in sorted(departures.items()):
        found = _contradiction(model, cod_etu, ia)
        if found is not None:
            by_etape.setdefault(ia.cod_etp, []).append(found)
    return [_finding(model, etape, found, detector) for etape, found in sorted(by_etape.items())]


def _finding(model: ModelPass, cod_etp: str, found: list[_Contradiction], detector: str) -> Finding:
    people = [c.cod_etu for c in found]
    evidence = [people_summary("R3.5", "étudiant concerné", people)]
    as_ofs = []
    for c in found:
        groups = "; ".join(
            f"{semester} : {ips[0].cod_elp}, groupe {ips[0].group_id}"
            for semester, ips in c.by_semester.items()
        )
        reason = f"IA {c.ia.ia_id} en départ {c.ia.exchange_programme} ; {groups}"
        evidence.append(person_row(model.facts, "R3.5", c.cod_etu, reason, c.ia.as_of))
        as_ofs.extend([c.ia.as_of, *(ip.as_of for ips in c.by_semester.values() for ip in ips)])
    pending = all(model.pending(a) for a in as_ofs)
    first_ip = found[0].by_semester["S1"][0]
    elp = elp_of(model.facts, first_ip.cod_elp)
    etape = cod_etp or "sans étape"
    return Finding(
        detector=detector,
        subject=etape,
        cause=CAUSE,
        title=f"Étape {etape} : {plural(len(people), 'étudiant')} en départ à l'année mais "
        f"{agree(len(people), 'inscrit')} dans des groupes des deux semestres",
        summary=f"{plural(len(people), 'étudiant')} de l'étape {etape} "
        f"{agree(len(people), 'a', 'ont')} un programme d'échange au départ pour l'année, ce "
        "qui exclut d'Ecampus, alors que des groupes du premier et du second semestre leur sont "
        "attribués.",
        remediation=REMEDIATION,
        severity="info",
        audience="scolarite",
        phase=phase_of(pending),
        cod_cmp=elp.cod_cmp if elp is not None else None,
        affected_count=len(people),
        pending_until_next_run=pending,
        evidence=tuple(evidence),
    )
