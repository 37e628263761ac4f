"""R4, distance-learning (FOAD) consistency: the seed's table of cases a to f, as data.

Seed section "Mauvaise gestion statut à distance", "Synthèse des conséquences".
Three flags decide: the group is CEMU (G), the ELP is ``a_distance`` (E), the
student's IP/IA is distant (I). A pseudo-group ``ELP_…`` counts as not CEMU.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Literal

from detectors.facts import Elp, Group, Ip

FoadCase = Literal["a", "b", "c", "d", "e", "f", "normal"]


@dataclass(frozen=True, slots=True)
class FoadConsequences:
    """One row's right-hand side: what lmsjonction reports and what the student gets."""

    warning_update_oof: bool
    error_insc_bdd: bool
    warning_update_groups: str | None  # "w9" or None
    not_enrolled: bool
    no_group: bool


_NONE = FoadConsequences(False, False, None, not_enrolled=False, no_group=False)
_GROUP_ONLY = FoadConsequences(False, False, None, not_enrolled=False, no_group=True)

# (G, E, I) -> case and consequences, row by row from the seed's table.
FOAD_TABLE: dict[tuple[bool, bool, bool], tuple[FoadCase, FoadConsequences]] = {
    (True, False, True): (
        "e",
        FoadConsequences(False, True, None, not_enrolled=True, no_group=True),
    ),
    (False, False, True): (
        "a",
        FoadConsequences(False, True, "w9", not_enrolled=True, no_group=True),
    ),
    (False, True, True): (
        "c",
        FoadConsequences(False, False, "w9", not_enrolled=False, no_group=True),
    ),
    (True, False, False): ("d", _GROUP_ONLY),
    (True, True, False): ("f", _GROUP_ONLY),
    (False, False, False): ("normal", _NONE),
    (False, True, False): ("b", _NONE),
    (True, True, True): ("normal", _NONE),
}


@dataclass(frozen=True, slots=True)
class FoadOutcome:
    """The FOAD case of one (group, ELP, IP) and its consequences.

    ``artificial`` marks the seed's "artificially case c": distant students put
    in the automatic pseudo-group of a distance ELP.
    """

    case: FoadCase
    group_cemu: bool
    elp_distance: bool
    ip_distant: bool
    pseudo_group: bool
    consequences: FoadConsequences

    @property
    def not_enrolled(self) -> bool:
        return self.consequences.not_enrolled

    @property
    def no_group(self) -> bool:
        return self.consequences.no_group

    @property
    def artificial(self) -> bool:
        return self.case == "c" and self.pseudo_group


def _outcome(cemu: bool, distance: bool, distant: bool, pseudo: bool) -> FoadOutcome:
    case, consequences = FOAD_TABLE[(cemu and not pseudo, distance, distant)]
    return FoadOutcome(case, cemu and not pseudo, distance, distant, pseudo, consequences)


# Sixteen outcomes, made once: the model classifies every IP of the university.
_OUTCOMES = {(g, e, i, p): _outcome(g, e, i, p) for g, e, i, p in product((False, True), repeat=4)}


def classify_foad(
    group_cemu: bool, elp_distance: bool, ip_distant: bool, *, pseudo_group: bool = False
) -> FoadOutcome:
    """The seed's case for three flags; a pseudo-group is never CEMU, whatever its label."""
    return _OUTCOMES[(group_cemu, elp_distance, ip_distant, pseudo_group)]


def foad_of(group: Group, elp: Elp, ip: Ip) -> FoadOutcome:
    """R4 for a student's IP on ``elp`` placed in ``group``.

    ``I`` is the IP's ``distant`` flag (REFER's ``T_ADE_ACTIVITES_ETUDIANTS.DISTANT``,
    which carries the IA's télé-enseignement), as in the seed's queries.
    """
    return classify_foad(group.is_cemu, elp.a_distance, ip.distant, pseudo_group=group.is_pseudo)


def describe_flags(outcome: FoadOutcome, group_id: str, cod_elp: str) -> str:
    """The three flags in French: ``groupe X non CEMU, élément présentiel, IA en télé-enseignement``."""
    group = f"groupe {group_id} {'CEMU' if outcome.group_cemu else 'non CEMU'}"
    if outcome.pseudo_group:
        group += " (pseudo-groupe automatique)"
    where = "en « enseignement à distance »" if outcome.elp_distance else "présentiel"
    elp = f"élément {cod_elp} {where}"
    ia = "IA en télé-enseignement" if outcome.ip_distant else "IA présentielle"
    return f"{group}, {elp}, {ia}"
