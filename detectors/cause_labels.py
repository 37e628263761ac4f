"""Every cause of every detector: its French label and who acts on it.

Digests, the on-call page, Alertmanager annotations and diagnosis show a
cause through ``cause_label``; a raw code (``without_planning``) never reaches
a person. The model's causes keep their titles in ``detectors.model.causes``;
the detectors' own are here. ``tests/alerts/test_every_cause_in_french.py`` fails on
a cause without a label or without a remediation.
"""

from __future__ import annotations

from collections.abc import Mapping

from detectors.model.causes import CAUSES as MODEL_CAUSES
from detectors.model.describe import capitalised

Fixer = str  # a key of FIXERS

FIXERS: Mapping[Fixer, str] = {
    "scolarite": "la scolarité de la composante",
    "cemu": "le CEMU",
    "cemu_dsi": "le CEMU, avec la DSI (hypothèse sur les tables intermédiaires)",
    "teachers": "les enseignants du cours",
    "inscriptions": "le bureau des inscriptions (SI-Scol, DEVE)",
    "oncall": "l'astreinte du CEMU (exploitation de lmsjonction)",
    "nobody": "personne : situation voulue",
    "tonight": "personne : la synchronisation de cette nuit s'en charge",
}

_OWN: Mapping[str, tuple[str, Fixer]] = {
    # course_archived
    "removed_from_offer": ("Élément supprimé de l'offre de formation", "scolarite"),
    "code_changed": ("Code APOGÉE changé", "scolarite"),
    "became_porte": ("Élément devenu porté", "scolarite"),
    "course_not_created": ("Cours non créé : élément sans groupe ni charge d'enseignement",
                           "scolarite"),
    "archived_course_deleted": ("Cours archivé bientôt supprimé", "scolarite"),
    # account_missing_email
    "missing_email": ("Compte invité ou vacataire sans adresse électronique", "scolarite"),
    # course_ended_early
    "enddate_passed": ("Date de fin du cours échue en cours de période", "teachers"),
    # course_hidden
    "hidden_after_start": ("Cours toujours caché après le début de la période", "teachers"),
    # course_idnumber_changed
    "idnumber_edited": ("Numéro d'identification du cours modifié à la main", "cemu"),
    # students_not_enrolled (exchange_hint)
    "exchange_contradiction": ("Départ en échange à l'année mais groupes des deux semestres",
                               "inscriptions"),
    # forgotten_cohort_sync
    "cohort_in_obsolete_course": ("Synchronisation de cohorte dans un cours obsolète", "teachers"),
    "cohort_redundant": ("Synchronisation de cohorte devenue inutile", "teachers"),
    "cohort_too_old": ("Synchronisation de cohorte ancienne", "teachers"),
    "cohort_member_without_ip": ("Cohorte donnant accès à des étudiants sans inscription "
                                 "pédagogique", "teachers"),
    "enrolment_without_end": ("Inscriptions manuelles sans date de fin", "teachers"),
    # group_missing (group_placement)
    "wrong_group": ("Étudiants dans un autre groupe que celui d'APOGÉE", "cemu"),
    "group_membership_missing": ("Étudiants inscrits sans le groupe d'APOGÉE", "cemu"),
    # sync_run_health
    "run_missing": ("Synchronisation de la nuit absente", "oncall"),
    "run_late": ("Synchronisation de la nuit en retard", "oncall"),
    "run_failed": ("Synchronisation de la nuit en échec", "oncall"),
    "warnings_spike": ("Pic d'avertissements de lmsjonction", "oncall"),
    "errors_spike": ("Pic d'erreurs de lmsjonction", "oncall"),
    "source_silent": ("Source de données silencieuse", "oncall"),
    "model_run_divergence": ("Le modèle et lmsjonction divergent", "cemu"),
    # too_many_teachers
    "without_planning": ("Enseignants inscrits sans planification ADE", "scolarite"),
    # students_not_enrolled, teacher_missing, enrolments_lost
    "missing_after_run": ("Absents d'Ecampus sans cause connue", "cemu"),
    "unexplained": ("Inscriptions perdues sans cause connue", "cemu"),
    # diagnosis' own points
    "elp_became_porte": ("Élément devenu porté", "scolarite"),
    "hidden_before_start": ("Cours caché avant le début de sa période (normal)", "teachers"),
    "pending": ("Modification récente, propagée cette nuit", "tonight"),
    "not_expected": ("Inscription que les données ne justifient plus", "cemu"),
    "teacher_not_planned_enrolled": ("Enseignant inscrit sans planification valide", "scolarite"),
    "no_ip": ("Pas d'inscription pédagogique à l'élément", "scolarite"),
    "no_planning": ("Enseignant non planifié dans ADE", "scolarite"),
    # the monitor's own alerts: dead letters, given-up emails, source drift
    "dead_lettered": ("Changements de la source refusés à l'entrée du suivi", "cemu"),
    "notifications_failed": ("Courriels abandonnés après refus du serveur de messagerie", "cemu"),
    "drift": ("Écart entre l'état du suivi et la table source", "cemu"),
}  # fmt: skip

# Who acts on the model's causes (the default is the scolarité, in APOGÉE or ADE).
_MODEL_FIXERS: Mapping[str, Fixer] = {
    "ia_cancelled_replaced": "cemu_dsi",
    "outgoing_exchange": "nobody",
    "year_inactive": "nobody",
}

LABELS: Mapping[str, str] = {
    **{str(cause): info.title for cause, info in MODEL_CAUSES.items()},
    **{cause: label for cause, (label, _) in _OWN.items()},
}


def cause_label(cause: str) -> str:
    """The French label of a cause; an unknown one says so in French, never as a code."""
    label = LABELS.get(cause)
    return capitalised(label) if label is not None else "Autre cause"


def is_labelled(cause: str) -> bool:
    return cause in LABELS


def fixer_of(cause: str) -> Fixer:
    """Who acts on ``cause`` (a key of FIXERS)."""
    if cause in _OWN:
        return _OWN[cause][1]
    return _MODEL_FIXERS.get(cause, "scolarite")
