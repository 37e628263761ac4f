"""``students_not_enrolled``: students with an IP but no (expected) enrolment (R3, R4, R5, R7, R9).

Seed sections "Pourquoi les étudiants ne sont pas inscrits dans mon cours ?"
and the situations it lists: "Manque inscription jusqu'au groupe" (R3.2),
"Mauvaise gestion statut à distance" (R4, cases a and e), "Mauvaise gestion de
la relation porteur/porté" (R5), "Élément suspendu" (R3.4), "IA annulée et
remplacée" (R3.6), "Étudiant Erasmus" (R3.5), "Désynchronisation temporaire"
(R9). The model says why each student is refused; one finding per ELP and
cause lists them. Not faults: outgoing exchange students (deliberate, R3.5),
registrations of a closed or unopened year and previous-year IPs during the
overlap (R7), students whose only IA is cancelled, IPs on an ELP gone from
REFER (``course_archived`` reports those). Two more causes:

- ``exchange_contradiction`` (info, full passes only: it needs all the
  student's IPs): a yearly outgoing exchange while the student is registered
  in groups of both semesters, as the seed's "modalité annuelle cochée par
  erreur"; one finding per étape of the IA (see ``exchange_hint``);
- ``missing_after_run`` (CEMU): a student the model enrols, whose granting
  facts are older than the last completed run (R9), absent from the course's
  database enrolments in Moodle: nothing known explains it. Needs the
  accounts to name Moodle users (``moodle_roster``); skipped without them.
  Younger absences (IP, group or account newer than the last run's start)
  are tonight's normal propagation, not findings; a student without any
  account has no Moodle user to enrol, not a sync fault.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import declared
from detectors.findings import Finding
from detectors.model import CAUSES, Cause, ExpectedCourse, ExpectedStudent, Refusal
from detectors.model.causes import DECLARED as MODEL_CAUSES
from detectors.model.describe import NOT_THERE, NOT_THERE_ONE, agree, in_sentence, plural
from detectors.shared.exchange_hint import OWN_CAUSES as EXCHANGE_CAUSES
from detectors.shared.exchange_hint import REMEDIATION as EXCHANGE_REMEDIATION
from detectors.shared.exchange_hint import exchange_contradictions
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.refusal_findings import OWN_CAUSES as ABSENT_CAUSES
from detectors.shared.refusal_findings import (
    AbsentAfterRun,
    RefusalDetector,
    RefusalGroup,
    Wording,
    absent_finding,
    elp_label,
)
from detectors.state import FactSet

NAME = "students_not_enrolled"

_GROUP_RULE = (
    "Quand il existe des groupes dans APOGÉE, l'inscription pédagogique doit être faite "
    "jusqu'au groupe. Sinon l'inscription des étudiants à un espace de cours dans Ecampus n'a "
    "pas lieu."
)
_FOAD_RULE = (
    "Dans APOGÉE, les déclarations de statut « à distance » doivent être cohérentes pour "
    "l'étudiant (IA en « télé-enseignement »), l'élément pédagogique (« enseignement à "
    "distance ») et les groupes dont il est membre (libellés, au moins partiellement, « CEMU » "
    "pour les étudiants à distance). Si l'IA est en télé-enseignement, tous les éléments "
    "pédagogiques doivent être en « enseignement à distance »."
)

REMEDIATION: dict[str, str] = {
    "ip_without_group": _GROUP_RULE
    + " Complétez dans APOGÉE l'inscription pédagogique de ces étudiants jusqu'au groupe : ils "
    "seront inscrits dans l'espace de cours la nuit suivante.",
    "no_pseudo_group": "Cet élément n'a aucun groupe dans APOGÉE. Un pseudo-groupe (préfixé "
    "ELP_) n'est alors créé automatiquement qu'à condition qu'il y ait bien des charges "
    "d'enseignement définies ; c'est lui qui génère les inscriptions dans l'espace de cours. "
    "Définissez les charges d'enseignement de l'élément (ou créez des groupes et faites "
    "l'inscription pédagogique jusqu'au groupe).",
    "foad_case_a": _FOAD_RULE + " Ici (situation a), l'IA est en télé-enseignement mais ni "
    "l'élément ni le groupe ne sont à distance : cela provoque une erreur « Insc. BDD » et un "
    "avertissement w9, donc ni inscription dans l'espace de cours, ni groupe. Déclarez "
    "l'élément en « enseignement à distance » dans APOGÉE : ces étudiants seront inscrits dans "
    "l'espace de cours la nuit suivante (les étudiants présentiels de l'élément ne sont pas "
    "concernés : situation b, sans conséquence) ; placez ensuite les étudiants à distance dans "
    "un groupe « CEMU » de l'élément s'il en a un. Ne corrigez l'IA que si le télé-enseignement "
    "est une erreur : elle vaut pour tous les éléments de l'étudiant.",
    "foad_case_e": _FOAD_RULE + " Ici (situation e), l'IA est en télé-enseignement et le groupe "
    "est « CEMU », mais l'élément n'est pas déclaré en « enseignement à distance » : ni "
    "inscription, ni groupe. Déclarez l'élément en « enseignement à distance » dans APOGÉE.",
    "porte_collection_not_shared": "L'élément {cod_elp} est « porté » par {course} : l'élément "
    "porté disparaît de REFER et c'est l'espace de cours du porteur qui accueille tous les "
    "étudiants. Pour que les inscriptions pédagogiques de l'élément porté y soient créées, il "
    "faut que ces étudiants soient inscrits dans un groupe, que ce ou ces groupes soient dans "
    "une collection de groupes, et que cette collection soit associée à tous les éléments "
    "concernés, porteur et portés (la collection doit être mutualisée). Associez la collection "
    "au porteur et à chaque porté dans APOGÉE.",
    "porteur_not_current": "L'élément {cod_elp} est déclaré « porté » par un élément absent de "
    "l'offre actuelle : ses étudiants n'ont plus d'espace de cours. Vérifiez la relation "
    "porteur/porté dans APOGÉE (porteur supprimé, ou code du porteur changé).",
    "elp_suspended": "Un espace de cours voit ses inscriptions par base de données suspendues "
    "quand l'élément pédagogique associé est suspendu dans APOGÉE. Si la suspension n'est pas "
    "voulue, rétablissez l'élément (statut « ouvert à l'inscription ») : les inscriptions "
    "reprendront la nuit suivante. Si l'élément a été remplacé sur la maquette, inscrivez ces "
    "étudiants au nouvel élément, dont l'espace de cours est distinct, et prévenez les "
    "enseignants : ils y copient le contenu du cours. Si la suspension est voulue, prévenez les "
    "enseignants et les étudiants concernés.",
    "ia_cancelled_replaced": "Ces étudiants ont une inscription administrative annulée puis "
    "remplacée par une nouvelle en cours d'année. Ce problème n'est aujourd'hui qu'une "
    "hypothèse en cours d'analyse : la construction des tables intermédiaires qui fournissent "
    "les données d'APOGÉE à Ecampus ne prendrait pas en charge ce remplacement. Rien à corriger "
    "dans APOGÉE par la scolarité : au CEMU de vérifier avec la DSI les tables intermédiaires "
    "pour ces étudiants, et de les inscrire manuellement, pour une durée limitée, s'ils en ont "
    "besoin d'ici là.",
    "exchange_contradiction": EXCHANGE_REMEDIATION,
    "missing_after_run": "D'après les données d'APOGÉE, antérieures à la dernière "
    "synchronisation, ces étudiants devraient être inscrits par base de données dans ce cours, "
    "mais Ecampus ne les inscrit pas, et aucune situation connue (groupe, statut à distance, "
    "porteur/porté, élément suspendu, IA, Erasmus) ne l'explique. Examinez le rapport de "
    "lmsjonction (erreurs « Insc. BDD ») et le numéro d'identification du cours.",
}

ENROLMENT_FAULTS: frozenset[Cause] = frozenset(
    {
        "ip_without_group",
        "no_pseudo_group",
        "foad_case_a",
        "foad_case_e",
        "porte_collection_not_shared",
        "porteur_not_current",
        "elp_suspended",
        "ia_cancelled_replaced",
    }
)


def _say(facts: FactSet, group: RefusalGroup, pending: bool) -> Wording:
    course = group.course_idnumber
    count = len(group.people)
    if course is not None:
        where = f"l'espace de cours {course}"
        verb = "ne seront pas inscrits cette nuit dans" if pending else "ne sont pas inscrits dans"
        verb_one = "ne sera pas inscrit cette nuit dans" if pending else "n'est pas inscrit dans"
    else:  # « n'est inscrit dans aucun », never « n'est pas inscrit dans aucun »
        where = "aucun espace de cours"
        verb = "ne seront inscrits cette nuit dans" if pending else "ne sont inscrits dans"
        verb_one = "ne sera inscrit cette nuit dans" if pending else "n'est inscrit dans"
    title = CAUSES[group.cause].title
    return Wording(
        title=f"{elp_label(facts, group.subject)} : {plural(count, 'étudiant non inscrit')} "
        f"— {title}",
        summary=f"{plural(count, 'étudiant inscrit')} pédagogiquement à {group.subject} "
        f"{agree(count, verb_one, verb)} {where} ({in_sentence(title)}).",
        remediation=REMEDIATION[group.cause].format(cod_elp=group.subject, course=course),
    )


def _is_fault(model: ModelPass, refusal: Refusal) -> bool:
    return (
        refusal.role == "student"
        and refusal.cause in ENROLMENT_FAULTS
        and not model.overlap_refusal(refusal)
    )


def _missing_finding(
    model: ModelPass,
    course: ExpectedCourse,
    missing: Sequence[ExpectedStudent],
    config: DetectorConfig,
) -> Finding:
    count = len(missing)
    absent = [
        (
            s.cod_etu,
            f"attendu via {', '.join(sorted(s.via_elps))}, "
            f"groupes {', '.join(sorted(s.group_ids)) or 'aucun'}",
            s.as_of,
        )
        for s in missing
    ]
    wording = Wording(
        title=f"{elp_label(model.facts, course.idnumber)} : "
        f"{plural(count, 'étudiant attendu absent')} d'Ecampus",
        summary=f"{plural(count, 'étudiant')} que les données d'APOGÉE inscrivent dans le cours "
        f"{course.idnumber} {agree(count, NOT_THERE_ONE, NOT_THERE)} "
        "après la synchronisation ; cause inexpliquée.",
        remediation=REMEDIATION["missing_after_run"],
    )
    return absent_finding(
        NAME, model, course, absent, config, wording, rule="R3", people="étudiant absent"
    )


_REFUSALS: RefusalDetector[ExpectedStudent] = RefusalDetector(
    name=NAME,
    keep=lambda model, _roster, refusal: _is_fault(model, refusal),
    say=_say,
    people="étudiant concerné",
    absent=AbsentAfterRun(
        expected=lambda course: course.students.values(),
        name=lambda p: p.cod_etu,
        present_in=lambda roster: roster.students,
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
    """Refused students per ELP and cause, unexplained absences, and exchange hints."""
    model = model_pass(facts, now, config)
    around = model.around(scope)
    findings = _REFUSALS.findings(model, around, config)
    if scope is None:
        findings.extend(exchange_contradictions(model, around, detector=NAME))
    return findings


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"ahead", "after_run"}),
    detect=detect,
    causes=(
        *declared(MODEL_CAUSES, sorted(ENROLMENT_FAULTS)),
        *EXCHANGE_CAUSES,
        *ABSENT_CAUSES,
    ),
)
