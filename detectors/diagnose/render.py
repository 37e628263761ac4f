"""The diagnosis in French, as the CLI prints it and the ticket's answer quotes it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from detectors.diagnose.text import render_point, when
from detectors.model.describe import plural

if TYPE_CHECKING:
    from detectors.diagnose import Diagnosis


def render_text(d: Diagnosis) -> str:
    """The diagnosis in French, for the CLI and the answer to the ticket."""
    zone = ZoneInfo(d.timezone)
    asked = [
        f"{label} {value}"
        for label, value in (
            ("cours", d.cod_elp),
            ("étudiant", d.cod_etu),
            ("enseignant", d.teacher),
        )
        if value
    ]
    lines = [f"Diagnostic — {', '.join(asked)} — au {when(d.now, zone)} ({d.timezone})"]
    if d.last_run is not None:
        lines.append(
            f"Dernière synchronisation réussie : {d.last_run}, commencée le "
            f"{when(d.horizon, zone)} ; tout changement postérieur sera propagé cette nuit (R9)."
        )
    else:
        lines.append("Aucune synchronisation réussie connue : tout écart est en attente (R9).")
    faults = len(d.faults)
    if faults:
        verdict = f"{plural(faults, 'point')} à corriger"
    else:
        verdict = "aucun problème : conforme aux règles de synchronisation"
        if any(p.cause == "hidden_before_start" for p in d.points):
            # Seed « Cours cachés »: normal, but the students do not see it: say why.
            verdict = (
                "rien à corriger : le cours est caché jusqu'au début de sa période, ce qui est "
                "normal (l'équipe enseignante le rend visible)"
            )
    if d.pending_tonight:
        verdict += " ; des écarts seront corrigés par la synchronisation de cette nuit"
    lines += [f"Verdict : {verdict}.", ""]
    for number, point in enumerate(d.points, start=1):
        lines += render_point(number, point, zone)
    lines.append("")
    if d.alerts:
        lines.append("Alertes ouvertes concernées :")
        lines += [f"- n°{a.id} [{a.status}] {a.title} ({a.detector})" for a in d.alerts]
    else:
        lines.append("Aucune alerte ouverte ne concerne ce ticket.")
    return "\n".join(lines)
