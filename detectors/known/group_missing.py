"""``group_missing``: students enrolled in a course but not in their group (R4, R7, R9).

Seed section "Mauvaise gestion statut à distance": the table's cases that
"n'impactent que les groupes" (c, d, f: the student is enrolled, without the
group) and the automatic pseudo-group ``ELP_…``, "réputé groupe présentiel",
holding distant students of a distance ELP ("artificiellement dans la
situation c"). Symptom in the seed's FAQ: "Je ne suis pas affecté dans le bon
groupe dans le cours". One finding per ELP and case, listing the students;
the students keep their access, so severity never goes above ``warning``.
Previous-year IPs during the overlap are expected (R7); facts younger than
the last completed run are pending (R9). Besides, Moodle's group memberships
are compared with the groups APOGÉE implies (``group_placement``): a student
in the wrong group (``wrong_group``) or in none (``group_membership_missing``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import declared
from detectors.findings import Finding
from detectors.model import CAUSES, Cause, ExpectedStudent, Refusal
from detectors.model.causes import DECLARED as MODEL_CAUSES
from detectors.model.describe import agree, in_sentence, plural
from detectors.shared.group_placement import OWN_CAUSES as PLACEMENT_CAUSES
from detectors.shared.group_placement import REMEDIATION as PLACEMENT_REMEDIATION
from detectors.shared.group_placement import placement_findings
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.refusal_findings import RefusalDetector, RefusalGroup, Wording, elp_label
from detectors.state import FactSet

NAME = "group_missing"

_FOAD_RULE = (
    "Dans APOGÉE, les déclarations de statut « à distance » doivent être cohérentes pour "
    "l'étudiant (IA en « télé-enseignement »), l'élément pédagogique (« enseignement à "
    "distance ») et les groupes dont il est membre, qui doivent être au moins partiellement "
    "libellés « CEMU » pour les étudiants à distance. "
)

_PSEUDO_GROUP_CAUTION = (
    " Ne créez pas dans APOGÉE un groupe « CEMU » isolé sur cet élément : un groupe créé à côté "
    "du pseudo-groupe ELP_ est considéré prioritairement par la synchronisation, il masque les "
    "séances ADE planifiées sur le pseudo-groupe (les enseignants perdent leur inscription) et "
    "les étudiants restés dans le pseudo-groupe ne sont plus inscrits. Si des groupes sont "
    "nécessaires, créez-les pour tout l'élément (un groupe « CEMU » pour les étudiants à "
    "distance, un groupe présentiel pour les autres), inscrivez tous les étudiants jusqu'au "
    "groupe et faites planifier les séances ADE sur ces groupes, le même jour."
)

REMEDIATION: dict[str, str] = {
    "foad_case_c": _FOAD_RULE + "Ici (situation c), l'IA est en télé-enseignement et l'élément "
    "en « enseignement à distance », mais le groupe n'est pas libellé « CEMU » : les étudiants "
    "sont inscrits dans l'espace de cours, sans groupe (avertissement w9). Placez ces étudiants "
    "dans un groupe libellé « CEMU ».",
    "foad_case_d": _FOAD_RULE + "Ici (situation d), le groupe est libellé « CEMU » alors que ni "
    "l'IA ni l'élément ne sont à distance : les étudiants sont inscrits, sans groupe. Placez ces "
    "étudiants présentiels dans un groupe non « CEMU ». Ne passez pas leur IA seule en "
    "télé-enseignement : avec un élément présentiel, ce serait la situation e et ils perdraient "
    "leur inscription au cours. S'ils suivent réellement l'enseignement à distance, il faut à la "
    "fois l'IA en télé-enseignement et l'élément en « enseignement à distance ».",
    "foad_case_f": _FOAD_RULE + "Ici (situation f), le groupe est « CEMU » et l'élément à "
    "distance, mais l'IA n'est pas en « télé-enseignement » : les étudiants sont inscrits, sans "
    "groupe. S'ils suivent l'enseignement à distance, corrigez leur IA en « télé-enseignement » ; "
    "l'IA vaut pour tous leurs éléments, qui doivent alors tous être « enseignement à "
    "distance » (sinon ils perdraient leur inscription aux autres cours). Sinon, placez-les dans "
    "un groupe non « CEMU ».",
    "distant_in_pseudo_group": _FOAD_RULE + "Ici, l'élément n'a pas de groupe : ses étudiants "
    "sont automatiquement affectés au pseudo-groupe ELP_, qui n'est pas libellé « CEMU » et "
    "est donc réputé groupe présentiel. Ces étudiants ont une IA en télé-enseignement et "
    "l'élément est déclaré faisable à distance : nous sommes artificiellement dans la "
    "situation c : ils sont bien inscrits dans l'espace de cours, seul leur groupe manque."
    + _PSEUDO_GROUP_CAUTION,
    **PLACEMENT_REMEDIATION,
}

GROUP_FAULTS: frozenset[Cause] = frozenset(
    {"foad_case_c", "foad_case_d", "foad_case_f", "distant_in_pseudo_group"}
)


def _is_fault(model: ModelPass, refusal: Refusal) -> bool:
    return (
        refusal.role == "student"
        and refusal.cause in GROUP_FAULTS
        and not model.overlap_refusal(refusal)
    )


def _say(facts: FactSet, group: RefusalGroup, pending: bool) -> Wording:
    count = len(group.people)
    title = CAUSES[group.cause].title
    verb = "seront inscrits cette nuit" if pending else "sont inscrits"
    verb_one = "sera inscrit cette nuit" if pending else "est inscrit"
    return Wording(
        title=f"{elp_label(facts, group.subject)} : {plural(count, 'étudiant')} sans {agree(count, 'son', 'leur')} groupe "
        f"— {title}",
        summary=f"{plural(count, 'étudiant')} de {group.subject} {agree(count, verb_one, verb)} "
        f"dans l'espace de cours {group.course_idnumber} sans y être "
        f"{agree(count, 'affecté')} à {agree(count, 'son groupe', 'leur groupe')} "
        f"({in_sentence(title)}).",
        remediation=REMEDIATION[group.cause],
    )


_REFUSALS: RefusalDetector[ExpectedStudent] = RefusalDetector(
    name=NAME,
    keep=lambda model, _roster, refusal: _is_fault(model, refusal),
    say=_say,
    people="étudiant concerné",
    ceiling="warning",
)


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """FOAD cases c, d, f and distant students in a pseudo-group, per ELP and case."""
    model = model_pass(facts, now, config)
    around = model.around(scope)
    return [
        *_REFUSALS.findings(model, around, config),
        *placement_findings(model, around.courses, config),
    ]


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"ahead", "after_run"}),
    detect=detect,
    causes=(*declared(MODEL_CAUSES, sorted(GROUP_FAULTS)), *PLACEMENT_CAUSES),
)
