"""Why the model refuses an access someone intends: the catalogue of causes and ``Refusal``.

Every cause is one entry of the ``Cause`` literal (a typo fails type-checking)
with the rule it comes from, its French title and who acts on it; detectors
group their alerts by these codes. ``OWN_CAUSES`` declares them to the
registry (``detectors.causes``) like every other module's causes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from detectors.causes import DeclaredCause, Fixer
from detectors.facts import (
    EPOCH,
    AdeFiche,
    AdeSession,
    CollectionLink,
    Elp,
    Group,
    Ia,
    Ip,
    Role,
)
from detectors.findings import Evidence
from detectors.model.describe import describe_fact
from detectors.model.foad import FoadCase, FoadOutcome

Fact = Elp | Group | CollectionLink | Ip | Ia | AdeFiche | AdeSession

Cause = Literal[
    "elp_obsolete",
    "porteur_not_current",
    "ip_without_group",
    "no_pseudo_group",
    "foad_case_a",
    "foad_case_e",
    "foad_case_c",
    "foad_case_d",
    "foad_case_f",
    "distant_in_pseudo_group",
    "porte_collection_not_shared",
    "elp_suspended",
    "outgoing_exchange",
    "ia_cancelled_replaced",
    "ia_cancelled",
    "year_inactive",
    "teacher_associated_not_planned",
    "fiche_not_linked",
    "fiche_on_porte_elp",
    "masked_by_new_group",
]

# What a refusal takes away: the enrolment in the course, or only the group in it.
Blocks = Literal["enrolment", "group"]


@dataclass(frozen=True, slots=True)
class CauseInfo:
    """The rule a cause applies, what it blocks, a French title for alerts, and who acts
    on it (the scolarité, in APOGÉE or ADE, unless said otherwise)."""

    rule: str
    blocks: Blocks
    title: str
    fixer: Fixer = "scolarite"


CAUSES: Mapping[Cause, CauseInfo] = {
    "elp_obsolete": CauseInfo("R1", "enrolment", "Élément absent de l'offre actuelle (REFER)"),
    "porteur_not_current": CauseInfo("R5", "enrolment", "Élément porteur absent de l'offre"),
    "ip_without_group": CauseInfo("R3.2", "enrolment", "Inscription pédagogique sans groupe"),
    "no_pseudo_group": CauseInfo("R3.2", "enrolment", "Ni groupe ni charges d'enseignement"),
    "foad_case_a": CauseInfo("R4", "enrolment", "FOAD cas a : IA à distance, ELP présentiel"),
    "foad_case_e": CauseInfo("R4", "enrolment", "FOAD cas e : groupe CEMU, ELP présentiel"),
    "foad_case_c": CauseInfo("R4", "group", "FOAD cas c : groupe non CEMU, tout à distance"),
    "foad_case_d": CauseInfo("R4", "group", "FOAD cas d : groupe CEMU, IA et ELP présentiels"),
    "foad_case_f": CauseInfo("R4", "group", "FOAD cas f : groupe CEMU, IA présentielle"),
    "distant_in_pseudo_group": CauseInfo(
        "R4", "group", "Étudiants à distance dans le pseudo-groupe ELP_ (cas c)"
    ),
    "porte_collection_not_shared": CauseInfo(
        "R5", "enrolment", "Collection de groupes non partagée porteur/porté"
    ),
    "elp_suspended": CauseInfo("R3.4", "enrolment", "Élément suspendu dans APOGÉE"),
    "outgoing_exchange": CauseInfo(
        "R3.5", "enrolment", "Étudiant en échange (Erasmus) sortant", "nobody"
    ),
    "ia_cancelled_replaced": CauseInfo(
        "R3.6", "enrolment", "IA annulée puis remplacée", "cemu_dsi"
    ),
    "ia_cancelled": CauseInfo("R3.6", "enrolment", "IA annulée"),
    "year_inactive": CauseInfo(
        "R7", "enrolment", "Année universitaire close ou non ouverte", "nobody"
    ),
    "teacher_associated_not_planned": CauseInfo(
        "R6", "enrolment", "Enseignant associé mais non planifié dans ADE"
    ),
    "fiche_not_linked": CauseInfo("R6", "enrolment", "Fiche ADE sans élément APOGÉE"),
    "fiche_on_porte_elp": CauseInfo("R6", "enrolment", "Fiche ADE d'un élément porté"),
    "masked_by_new_group": CauseInfo(
        "R6", "enrolment", "Planification du pseudo-groupe masquée par un groupe"
    ),
}

OWN_CAUSES: tuple[DeclaredCause, ...] = tuple(
    DeclaredCause(cause, info.title, info.fixer) for cause, info in CAUSES.items()
)
DECLARED: Mapping[str, DeclaredCause] = {cause.code: cause for cause in OWN_CAUSES}

FOAD_CAUSES: Mapping[FoadCase, Cause] = {
    "a": "foad_case_a",
    "e": "foad_case_e",
    "c": "foad_case_c",
    "d": "foad_case_d",
    "f": "foad_case_f",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """An intended access the model refuses: who, where, which rule, and the facts showing it.

    ``who`` is a ``cod_etu`` (role student) or an ADE teacher id (role teacher);
    ``cod_elp`` is the ELP of the IP or fiche; ``course_idnumber`` the course the
    access would reach (the porteur's for a porté), None when there is none.
    """

    cause: Cause
    role: Role
    who: str
    cod_elp: str | None
    course_idnumber: str | None
    text: str
    facts: tuple[Fact, ...] = ()
    group_id: str | None = None
    foad: FoadOutcome | None = None

    @property
    def rule(self) -> str:
        return CAUSES[self.cause].rule

    @property
    def blocks(self) -> Blocks:
        return CAUSES[self.cause].blocks

    @property
    def as_of(self) -> datetime:
        """The newest fact shown: R9 compares it with the last completed run's start."""
        return max((fact.as_of for fact in self.facts), default=EPOCH)

    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(Evidence(self.rule, describe_fact(f), f.as_of) for f in self.facts)


def refuse(
    cause: Cause,
    role: Role,
    who: str,
    *,
    cod_elp: str | None,
    course_idnumber: str | None,
    detail: str,
    facts: tuple[Fact, ...],
    group_id: str | None = None,
    foad: FoadOutcome | None = None,
) -> Refusal:
    """Build a refusal; ``detail`` is French (the rule is shown beside it, not inside it)."""
    return Refusal(cause, role, who, cod_elp, course_idnumber, detail, facts, group_id, foad)
