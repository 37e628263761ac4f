"""French words for the page: states, severities, actions of the audit trail."""

from __future__ import annotations

STATUS_LABELS = {
    "pending": "À confirmer",
    "open": "Ouverte",
    "acknowledged": "Prise en charge",
    "snoozed": "En attente",
    "resolved": "Résolue",
}
STATUS_HINTS = {
    "pending": "La synchronisation de la nuit peut encore régler la différence.",
    "open": "Personne ne l'a encore prise en charge.",
    "acknowledged": "Quelqu'un s'en occupe ; plus de notification sauf aggravation.",
    "snoozed": "Mise en attente jusqu'à une date.",
    "resolved": "Le problème n'est plus constaté, ou a été déclaré résolu.",
}
SEVERITY_LABELS = {"info": "Information", "warning": "À traiter", "critical": "Urgent"}
PHASE_LABELS = {"predicted": "Prévu", "occurred": "Constaté"}
AUDIENCE_LABELS = {
    "scolarite": "Scolarité",
    "teachers": "Enseignants",
    "cemu": "CEMU",
    "oncall": "Astreinte",
}
EVENT_LABELS = {
    "seen": "Détection",
    "gone": "Condition disparue",
    "acknowledge": "Prise en charge",
    "comment": "Commentaire",
    "snooze": "Mise en attente",
    "resolve": "Résolution à la main",
}
# Shown after a successful form, chosen by a fixed key: the URL cannot inject text.
DONE_MESSAGES = {
    "acknowledged": "L'alerte est prise en charge à votre nom.",
    "commented": "Votre commentaire est ajouté à l'historique.",
    "snoozed": "L'alerte est mise en attente.",
    "resolved": "L'alerte est déclarée résolue.",
}
INVALID_MESSAGES = {
    "expected_until_past": "La date « attendu jusqu'au » est déjà passée.",
    "snooze_past": "La fin de la mise en attente est déjà passée.",
    "empty_comment": "Le commentaire est vide.",
    "no_reason": "La raison de la mise en attente est obligatoire.",
}
