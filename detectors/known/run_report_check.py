"""``run_report_check``: the nightly run's report lines the model contradicts go to CEMU.

Seed, "Synthèse des conséquences": the "Détectabilité" columns (``Erreur Insc.
BDD``, ``warning update_groups`` w9) and the porteur/porté alert ("il n'arrive
pas à créer un groupe car celui-ci existe déjà") are what lmsjonction says
about each element and student. ``detectors.shared.run_lines`` compares them with the
model; a line the model contradicts is one finding per element, cause
``model_run_divergence`` (« Le modèle et lmsjonction divergent »), audience
CEMU, with both versions. Runs after a run report and daily, on the whole
state only: the continuous pass's light view has no REFER rows to judge with.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.findings import Finding
from detectors.shared.run_lines import CAUSE, OWN_CAUSES, REMEDIATION, divergences
from detectors.state import FactSet

NAME = "run_report_check"
__all__ = ["CAUSE", "DETECTOR", "NAME", "OWN_CAUSES", "REMEDIATION", "detect"]


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Report lines of the last successful run that the model contradicts (whole state only)."""
    if scope is not None:
        return []
    return divergences(facts, now, config, NAME)


DETECTOR = Detector(
    name=NAME, moments=frozenset({"after_run", "daily"}), detect=detect, causes=OWN_CAUSES
)
