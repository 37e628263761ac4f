"""Factories shared by the alert tests: a fault, alert records, a notifier.

``make_finding`` (a course_archived finding) is shared by every area: tests/fixtures/findings.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from alerts.notify.outbox import Notifier
from alerts.repository import AlertRecord
from alerts.routing import Composante, Router
from detectors.findings import Evidence, Finding
from monitor.cause_catalogue import CAUSES
from tests.fixtures.findings import COURSE_ARCHIVED as _FINDING
from tests.fixtures.findings import NIGHT, labelled

PUBLIC_URL = "https://ecampus-monitor.example.org"
CEMU = "cemu.assistance@example.org"
SCOLARITE_HSS = "scolarite.hss@example.org"

_FAULT = Finding(
    detector="teacher_missing",
    subject="HSS-L2-SOC",
    cause="teacher_associated_not_planned",
    title="Cours HSS-L2-SOC « Sociologie urbaine » : 2 enseignant(s) non inscrit(s)",
    summary="2 enseignant(s) de HSS-L2-SOC ne sont pas inscrits dans le cours Moodle.",
    remediation="Planifiez les enseignants dans ADE sur les séances de HSS-L2-SOC.",
    severity="warning",
    audience="scolarite",
    phase="occurred",
    cod_cmp="12",
    cod_elp="HSS-L2-SOC",
    course_id=5151,
    affected_count=2,
    evidence=(Evidence("R6", "enseignant 12345 associé mais non planifié"),),
)


@pytest.fixture
def make_fault() -> Callable[..., Finding]:
    """A teacher_missing fault on HSS-L2-SOC (UFR HSS, occurred, warning): waits for the digest."""

    def make(**overrides: Any) -> Finding:
        return labelled(replace(_FAULT, **overrides))

    return make


@pytest.fixture
def make_alert() -> Callable[..., AlertRecord]:
    """An open alert record built from the default finding; keyword arguments override fields."""

    def make(**overrides: Any) -> AlertRecord:
        record = AlertRecord(
            id=7,
            fingerprint=_FINDING.fingerprint,
            detector=_FINDING.detector,
            subject=_FINDING.subject,
            cause=_FINDING.cause,
            status="open",
            severity=_FINDING.severity,
            audience=_FINDING.audience,
            phase=_FINDING.phase,
            cod_cmp=_FINDING.cod_cmp,
            cod_elp=_FINDING.cod_elp,
            course_id=_FINDING.course_id,
            title=_FINDING.title,
            summary=_FINDING.summary,
            remediation=_FINDING.remediation,
            affected_count=_FINDING.affected_count,
            evidence=_FINDING.evidence,
            episode=1,
            first_seen=NIGHT,
            last_seen=NIGHT,
            opened_at=NIGHT,
            acknowledged_at=None,
            acknowledged_by=None,
            resolved_at=None,
            snoozed_until=None,
            updated_at=NIGHT,
        )
        record = replace(record, **overrides)
        declared = CAUSES.get(record.cause)
        if declared is not None and "cause_label" not in overrides:
            record = replace(record, cause_label=declared.shown)  # as reconciliation stores it
        return record

    return make


@pytest.fixture
def router() -> Router:
    return Router(cemu=CEMU, composantes={"12": Composante("12", "UFR HSS", (SCOLARITE_HSS,))})


@pytest.fixture
def notifier(router: Router) -> Notifier:
    return Notifier(router, PUBLIC_URL)
