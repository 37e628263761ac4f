"""Factories shared by the alert tests: findings, alert records, a notifier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.notify.outbox import Notifier
from alerts.repository import AlertRecord
from alerts.routing import Composante, Router
from detectors.findings import Evidence, Finding

PUBLIC_URL = "https://ecampus-monitor.example.org"
CEMU = "cemu.assistance@example.org"
SCOLARITE_HSS = "scolarite.hss@example.org"
NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)

_FINDING = Finding(
    detector="course_archived",
    subject="RCAED334",
    cause="elp_removed",
    title="Cours RCAED334 « Droit civil » : sera archivé cette nuit",
    summary="L'ELP RCAED334 a disparu de l'offre de formation dans APOGÉE.",
    remediation="Si le cours doit continuer, rétablissez l'ELP RCAED334 dans APOGÉE avant 22 h.",
    severity="warning",
    audience="scolarite",
    phase="predicted",
    cod_cmp="12",
    cod_elp="RCAED334",
    course_id=4242,
    affected_count=37,
    evidence=(
        Evidence(
            "R2", "RCAED334 absent de T_ADE_ACTIVITES", datetime(2026, 11, 29, 16, 40, tzinfo=UTC)
        ),
        Evidence("R1", "le cours 4242 a l'idnumber RCAED334"),
    ),
)


@pytest.fixture
def make_finding() -> Callable[..., Finding]:
    """A course_archived finding on RCAED334 (UFR HSS); keyword arguments override fields."""

    def make(**overrides: Any) -> Finding:
        return replace(_FINDING, **overrides)

    return make


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
        return replace(_FAULT, **overrides)

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
        return replace(record, **overrides)

    return make


@pytest.fixture
def router() -> Router:
    return Router(cemu=CEMU, composantes={"12": Composante("12", "UFR HSS", (SCOLARITE_HSS,))})


@pytest.fixture
def notifier(router: Router) -> Notifier:
    return Notifier(router, PUBLIC_URL)
