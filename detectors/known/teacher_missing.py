"""``teacher_missing``: teachers meant for a course the sync does not enrol (R6, R7, R9).

Seed sections "Je suis l'enseignant d'un cours, pourtant je n'y suis pas
inscrit" and "Planification ADE non compatible": a teacher is enrolled only
if planned in an ADE session (association is not enough), on a fiche linked
to an APOGÉE ELP, and that ELP is current; a real group created after the
pseudo-group masks the sessions planned on it. The model refuses each teacher
with its cause; one finding per ELP (or per fiche made only in ADE) and cause
lists them. Not reported: association without any planning on a fiche of a
distance ELP with no session at all ("attendue pour les enseignants de cours
intégralement à distance", assumption: ``a_distance`` marks them), sessions
of a closed year (R7), and a teacher Moodle enrols in the course all the same
although the refusal is older than the last run (not missing: the seed's
whole-team association, ``too_many_teachers``'s business). A suspended ELP
(R3.4, "Élément suspendu") also suspends its teachers' enrolments when the
model is so configured: cause ``elp_suspended``. Also ``missing_after_run``
(CEMU): a teacher the model enrols from facts older than the last completed
run (R9) but absent from the course's database enrolments. Moodle users are
named through the accounts (``moodle_roster``); without them, no comparison.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import declared
from detectors.facts import AdeFiche
from detectors.findings import Finding
from detectors.model import CAUSES, Cause, ExpectedCourse, ExpectedTeacher, Refusal
from detectors.model.causes import DECLARED as MODEL_CAUSES
from detectors.model.describe import NOT_THERE, NOT_THERE_ONE, agree, in_sentence, plural
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.moodle_roster import Roster
from detectors.shared.refusal_findings import OWN_CAUSES as ABSENT_CAUSES
from detectors.shared.refusal_findings import (
    AbsentAfterRun,
    RefusalDetector,
    RefusalGroup,
    Wording,
    absent_finding,
    elp_label,
    elp_of,
)
from detectors.state import FactSet

NAME = "teacher_missing"

_VALID_PLANNING = (
    "L'inscription automatique d'un enseignant dans un espace de cours Ecampus se produit "
    "lorsqu'une planification ADE valide existe. 3 conditions sont nécessaires : planifier les "
    "cours avec les enseignants (une simple association d'enseignant ne suffit pas) ; concerner "
    "une fiche ADE relative à un élément issu d'APOGÉE (les fiches créées uniquement dans ADE "
    "n'ont pas d'impact sur Ecampus) ; l'élément issu d'APOGÉE doit être actuel. "
)

REMEDIATION: dict[str, str] = {
    "teacher_associated_not_planned": _VALID_PLANNING
    + "Ici, ces enseignants sont seulement associés à la fiche ADE de {cod_elp} : planifiez-les "
    "dans les séances (ressource « Enseignant » de chaque séance). Ils seront inscrits la nuit suivante.",
    "fiche_not_linked": _VALID_PLANNING + "Ici, la fiche ADE {cod_elp} a été créée uniquement "
    "dans ADE : planifiez ces séances sur la fiche de l'élément APOGÉE du cours.",
    "elp_obsolete": _VALID_PLANNING + "Ici, la fiche ADE concerne l'élément {cod_elp}, obsolète "
    "dans APOGÉE : planifiez ces séances sur la fiche de l'élément actuel.",
    "fiche_on_porte_elp": _VALID_PLANNING + "Ici, la fiche ADE concerne l'élément {cod_elp}, "
    "« porté » : seul l'espace de cours de son porteur existe. Planifiez ces séances sur la "
    "fiche de l'élément porteur.",
    "masked_by_new_group": _VALID_PLANNING + "Ici, l'élément {cod_elp}, sans groupe, a bénéficié "
    "d'un pseudo-groupe automatique (préfixé ELP_) sur lequel les séances ont été planifiées ; "
    "plus tard, un groupe a été créé dans APOGÉE. C'est ce nouveau groupe qui est considéré "
    "prioritairement lors de la synchronisation avec Ecampus ; comme il n'a pas de "
    "planification, il ne génère aucune inscription d'enseignant : il masque les planifications "
    "faites sur le pseudo-groupe. Planifiez les séances sur le nouveau groupe dans ADE (et inscrivez tous les étudiants de "
    "l'élément jusqu'à un groupe réel : ceux restés dans le pseudo-groupe ne sont plus inscrits).",
    "elp_suspended": "Un espace de cours voit ses inscriptions par base de données suspendues "
    "quand l'élément pédagogique associé est suspendu dans APOGÉE, celles des enseignants "
    "comprises. Si la suspension de {cod_elp} n'est pas voulue, rétablissez l'élément : les "
    "inscriptions reprendront la nuit suivante. Si elle l'est, prévenez les enseignants.",
    "missing_after_run": "D'après la planification ADE, antérieure à la dernière "
    "synchronisation, ces enseignants devraient être inscrits par base de données dans ce "
    "cours, mais Ecampus ne les inscrit pas, et aucune situation connue ne l'explique. Examinez "
    "le rapport de lmsjonction et les comptes de ces enseignants.",
}

TEACHER_FAULTS: frozenset[Cause] = frozenset(
    {
        "teacher_associated_not_planned",
        "fiche_not_linked",
        "elp_obsolete",
        "fiche_on_porte_elp",
        "masked_by_new_group",
        "elp_suspended",
    }
)


def _expected_without_planning(facts: FactSet, refusal: Refusal) -> bool:
    """Association on a distance ELP's fiche with no session: a course entirely at distance."""
    if refusal.cause != "teacher_associated_not_planned":
        return False
    elp = elp_of(facts, refusal.cod_elp)
    fiche = next((f for f in refusal.facts if isinstance(f, AdeFiche)), None)
    return (
        elp is not None
        and elp.a_distance
        and fiche is not None
        and not facts.sessions_of_fiche(fiche.fiche_id)
    )


def _enrolled_all_the_same(model: ModelPass, roster: Roster, refusal: Refusal) -> bool:
    """Refused since before the last run, yet enrolled in the course: not missing."""
    if not roster.available or refusal.course_idnumber is None or model.pending(refusal.as_of):
        return False
    course = model.course(refusal.course_idnumber)
    if course is None or course.course_id is None:
        return False
    return refusal.who in roster.teacher_ids_in(course.course_id)


def _is_fault(model: ModelPass, roster: Roster, refusal: Refusal) -> bool:
    return (
        refusal.role == "teacher"
        and refusal.cause in TEACHER_FAULTS
        and not _expected_without_planning(model.facts, refusal)
        and not _enrolled_all_the_same(model, roster, refusal)
    )


def _say(facts: FactSet, group: RefusalGroup, pending: bool) -> Wording:
    course = group.course_idnumber
    count = len(group.people)
    title = CAUSES[group.cause].title
    if course is not None:
        where = f"l'espace de cours {course}"
        verb = "ne seront pas inscrits cette nuit dans" if pending else "ne sont pas inscrits dans"
        verb_one = "ne sera pas inscrit cette nuit dans" if pending else "n'est pas inscrit dans"
    else:  # « n'est inscrit dans aucun », never « n'est pas inscrit dans aucun »
        where = "aucun espace de cours"
        verb = "ne seront inscrits cette nuit dans" if pending else "ne sont inscrits dans"
        verb_one = "ne sera inscrit cette nuit dans" if pending else "n'est inscrit dans"
    return Wording(
        title=f"{elp_label(facts, group.subject)} : {plural(count, 'enseignant non inscrit')} "
        f"— {title}",
        summary=f"{plural(count, 'enseignant')} de {group.subject} {agree(count, verb_one, verb)} "
        f"{where} ({in_sentence(title)}).",
        remediation=REMEDIATION[group.cause].format(cod_elp=group.subject),
    )


def _missing_finding(
    model: ModelPass,
    course: ExpectedCourse,
    missing: Sequence[ExpectedTeacher],
    config: DetectorConfig,
) -> Finding:
    count = len(missing)
    absent = [
        (t.teacher, f"planifié sur {', '.join(sorted(t.fiche_ids))}", t.as_of) for t in missing
    ]
    wording = Wording(
        title=f"{elp_label(model.facts, course.idnumber)} : "
        f"{plural(count, 'enseignant planifié absent')} d'Ecampus",
        summary=f"{plural(count, 'enseignant planifié')} dans ADE pour le cours "
        f"{course.idnumber} {agree(count, NOT_THERE_ONE, NOT_THERE)} "
        "après la synchronisation ; cause inexpliquée.",
        remediation=REMEDIATION["missing_after_run"],
    )
    return absent_finding(
        NAME, model, course, absent, config, wording, rule="R6", people="enseignant absent"
    )


_REFUSALS: RefusalDetector[ExpectedTeacher] = RefusalDetector(
    name=NAME,
    keep=_is_fault,
    say=_say,
    people="enseignant concerné",
    absent=AbsentAfterRun(
        expected=lambda course: course.teachers.values(),
        name=lambda t: t.teacher,
        present_in=lambda roster: roster.teacher_ids_in,
        finding=_missing_finding,
    ),
)


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Refused teachers per ELP (or fiche) and cause, and unexplained absences after a run."""
    model = model_pass(facts, now, config)
    return _REFUSALS.findings(model, model.around(scope), config)


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"ahead", "after_run"}),
    detect=detect,
    causes=(*declared(MODEL_CAUSES, sorted(TEACHER_FAULTS)), *ABSENT_CAUSES),
)
