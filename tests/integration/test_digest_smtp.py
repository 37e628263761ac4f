"""A simulated night with faults for two composantes: one French digest per concerned scolarité,
delivered to a real SMTP server (aiosmtpd), checked for recipients, grouping, text and links.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine

from alerts.notify.digest import DigestJob
from alerts.notify.outbox import Notifier
from alerts.notify.smtp import DeliveryOutcome, SmtpSender, SmtpTarget
from alerts.policy import NotificationPolicy
from alerts.reconcile import reconcile
from alerts.repository import AlertFilter, list_alerts
from alerts.routing import Router
from detectors.findings import Evidence, Finding
from monitor.simulation.mailsink import MailSink
from tests.fixtures.findings import labelled

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://ecm.univ-test.fr"
HSS = "scolarite.hss@univ-test.fr"
DROIT = "scolarite.droit@univ-test.fr"
SCIENCES = "scolarite.sciences@univ-test.fr"
CEMU = "cemu@univ-test.fr"
ROUTING = f"""\
cemu: {CEMU}
composantes:
  "12": {{name: UFR HSS, scolarite: [{HSS}]}}
  "13": {{name: UFR Droit, scolarite: [{DROIT}]}}
  "14": {{name: UFR Sciences, scolarite: [{SCIENCES}]}}
rules:
  - match: {{detector: sync_run_health}}
    to: [cemu]
"""
AFTERNOON = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
DIGEST_TIME = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # 07:30 in Paris


def finding(detector: str, cod_elp: str, cod_cmp: str, cause: str, **overrides: object) -> Finding:
    values: dict[str, object] = {
        "detector": detector,
        "subject": cod_elp,
        "cause": cause,
        "title": f"Cours {cod_elp} : {cause.replace('_', ' ')}",
        "summary": f"Constat sur {cod_elp}.",
        "remediation": f"Corrigez {cod_elp} dans APOGÉE.",
        "severity": "warning",
        "audience": "scolarite",
        "phase": "occurred",
        "cod_cmp": cod_cmp,
        "cod_elp": cod_elp,
        "affected_count": 4,
        "evidence": (Evidence("R3", "étudiant 21609846 sans groupe"),),
    }
    # Labelled as the pipeline labels a detector's findings.
    return labelled(Finding(**(values | overrides)))  # type: ignore[arg-type]


def reconcile_pass(
    engine: Engine, notifier: Notifier, findings: list[Finding], detectors: set[str], now: datetime
) -> None:
    with engine.begin() as conn:
        reconcile(conn, findings, detectors=detectors, subjects=None, now=now, notifier=notifier)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def test_a_night_of_faults_gives_one_digest_per_concerned_scolarite(
    store_engine: Engine, smtp_sink: MailSink, tmp_path: Path
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    router = Router.load(routing, cemu_fallback="fallback@univ-test.fr")
    policy = NotificationPolicy()
    notifier = Notifier(router, PUBLIC_URL, policy=policy)
    sender = SmtpSender(SmtpTarget(host="127.0.0.1", port=smtp_sink.port, sender=CEMU))

    # The afternoon: a course will be archived tonight; the HSS scolarité is told at once.
    archived = finding(
        "course_archived",
        "HSS-L3-ANT",
        "12",
        "removed_from_offer",
        phase="predicted",
        title="Cours HSS-L3-ANT « Anthropologie » : sera archivé cette nuit",
    )
    reconcile_pass(store_engine, notifier, [archived], {"course_archived"}, AFTERNOON)
    assert sender.deliver_due(store_engine, AFTERNOON) == DeliveryOutcome(sent=1)

    # The night's run: faults for UFR HSS (two courses, two causes on one) and UFR Droit.
    night = [
        finding("teacher_missing", "HSS-L2-SOC", "12", "teacher_associated_not_planned"),
        finding("group_missing", "HSS-L2-SOC", "12", "foad_case_c"),
        finding("teacher_missing", "HSS-L1-HIS", "12", "teacher_associated_not_planned"),
        finding("students_not_enrolled", "DRT-L1-CIV", "13", "ip_without_group"),
    ]
    detectors = {"teacher_missing", "group_missing", "students_not_enrolled"}
    reconcile_pass(store_engine, notifier, night, detectors, NIGHT)
    # Waiting for the digest: nothing sent in the night.
    assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome()

    # 07:30: the digest job runs; a restart runs it again; then the outbox is delivered.
    job = DigestJob(router, policy, PUBLIC_URL)
    assert job.run(store_engine, DIGEST_TIME) == 2
    assert job.run(store_engine, DIGEST_TIME + timedelta(seconds=2)) == 0
    assert DigestJob(router, policy, PUBLIC_URL).run(store_engine, DIGEST_TIME) == 0
    assert sender.deliver_due(store_engine, DIGEST_TIME) == DeliveryOutcome(sent=2)

    immediate, *digests = smtp_sink.messages()
    assert immediate["To"] == HSS
    assert sorted(m["To"] for m in digests) == [DROIT, HSS]
    assert SCIENCES not in {m["To"] for m in digests}
    by_recipient = {m["X-Envelope-To"]: m for m in digests}
    hss, droit = by_recipient[f"<{HSS}>"], by_recipient[f"<{DROIT}>"]
    assert hss["Subject"] == "[Ecampus] Récapitulatif du 30/11/2026 : 3 alertes nouvelles"
    assert droit["Subject"] == "[Ecampus] Récapitulatif du 30/11/2026 : 1 alerte nouvelle"
    assert hss["Auto-Submitted"] == "auto-generated"

    with store_engine.connect() as conn:
        ids = {(a.detector, a.cod_elp): a.id for a in list_alerts(conn, AlertFilter())}
    text = text_of(hss)
    assert text.startswith("Bonjour,\n\nVoici le récapitulatif du suivi de l'Ecampus du 30/11/2026")
    # Grouped by course (news first), then cause; the one already emailed is not news again.
    his = text.index("== Élément pédagogique HSS-L1-HIS — composante 12 UFR HSS ==")
    soc = text.index("== Élément pédagogique HSS-L2-SOC — composante 12 UFR HSS ==")
    ant = text.index("== Élément pédagogique HSS-L3-ANT — composante 12 UFR HSS ==")
    assert his < soc < ant
    soc_part = text[soc:ant]
    assert soc_part.index("Cause : FOAD cas c : groupe non CEMU, tout à distance") < soc_part.index(
        "Cause : Enseignant associé mais non planifié dans ADE"
    )
    assert "* [Nouveau] Cours HSS-L2-SOC : foad case c" in soc_part
    assert "Que faire : Corrigez HSS-L2-SOC dans APOGÉE." in soc_part
    assert (
        "* [Toujours ouverte] Cours HSS-L3-ANT « Anthropologie » : sera archivé cette nuit" in text
    )
    assert "(signalée par courriel le 29/11/2026 à 15:00)" in text
    for key in [
        ("teacher_missing", "HSS-L2-SOC"),
        ("group_missing", "HSS-L2-SOC"),
        ("teacher_missing", "HSS-L1-HIS"),
        ("course_archived", "HSS-L3-ANT"),
    ]:
        link = f"{PUBLIC_URL}/alerts/{ids[key]}"
        assert f"Suivre cette alerte : {link}" in text
        assert f'<a href="{link}">' in html_of(hss)
    assert "DRT-L1-CIV" not in text
    assert f"{PUBLIC_URL}/alerts/{ids[('students_not_enrolled', 'DRT-L1-CIV')]}" in text_of(droit)
    assert "Cause : Inscription pédagogique sans groupe" in text_of(droit)
    # Student numbers stay behind the links.
    assert all("21609846" not in text_of(m) + html_of(m) for m in digests)

    # The next morning, nothing new and no reminder due: no digest at all.
    reconcile_pass(store_engine, notifier, night, detectors, NIGHT + timedelta(days=1))
    assert job.run(store_engine, DIGEST_TIME + timedelta(days=1)) == 0
    assert sender.deliver_due(store_engine, DIGEST_TIME + timedelta(days=1)) == DeliveryOutcome()
    assert len(smtp_sink.messages()) == 3
