"""The people of an alert reach the scolarité as a CSV joined to the email (issue 11, point 4).

Through the real outbox and a real SMTP server (the MailSink, aiosmtpd): the
email names how many and the first five, the whole list is attached, UTF-8
with a BOM and semicolons so French Excel opens it; no student number in the
subject, and no personal data in any log line above DEBUG.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, select

from alerts.notify.attachments import BOM, CSV_HEADER
from alerts.notify.digest_compose import CauseGroup, CourseGroup, Digest, DigestItem
from alerts.notify.outbox import Notifier
from alerts.notify.render_digest import render_digest
from alerts.notify.smtp import DeliveryOutcome, SmtpSender, SmtpTarget
from alerts.reconcile import reconcile
from alerts.repository import AlertRecord
from alerts.tables import outbox
from detectors.findings import Evidence, Finding
from monitor.simulation.mailsink import MailSink

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
SINCE = datetime(2026, 11, 28, 16, 40, tzinfo=UTC)  # 17:40 in Paris
SENDER = "ecampus-monitor@unicaen.example.org"
STUDENTS = [
    (f"22{300027 + n * 7}", f"Éloïse N{n:02d} DUPRÉ-ÇA", f"M.1.MS03TD{1 + n % 2}")
    for n in range(24)
]
REASON = "l'élément M.1.MS03 est suspendu dans APOGÉE"

MakeFinding = Callable[..., Finding]


def _suspended(make_finding: MakeFinding, students: list[tuple[str, str, str]]) -> Finding:
    """An immediate (critical) alert listing ``students`` as people rows."""
    return make_finding(
        detector="students_not_enrolled",
        subject="M.1.MS03",
        cause="elp_suspended",
        cod_elp="M.1.MS03",
        title="M.1.MS03 « Théories chang. social » : 24 étudiants non inscrits",
        severity="critical",
        phase="occurred",
        affected_count=len(students),
        evidence=(
            Evidence("R3.4", "24 étudiants concernés : 22300027, 22300034 et 22 autres"),
            *(
                Evidence("R3.4", REASON, SINCE, who=who, name=name, group=group)
                for who, name, group in students
            ),
        ),
    )


def _send(engine: Engine, notifier: Notifier, finding: Finding, sink: MailSink) -> EmailMessage:
    with engine.begin() as conn:
        reconcile(
            conn,
            [finding],
            detectors={finding.detector},
            subjects=None,
            now=NIGHT,
            notifier=notifier,
        )
    sender = SmtpSender(SmtpTarget("127.0.0.1", sink.port, SENDER, timeout_seconds=5.0))
    assert sender.deliver_due(engine, NIGHT) == DeliveryOutcome(sent=1)
    [message] = sink.messages()
    return message


def test_the_email_attaches_every_person_as_a_csv_french_excel_opens(
    store_engine: Engine,
    notifier: Notifier,
    make_finding: MakeFinding,
    smtp_sink: MailSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    message = _send(store_engine, notifier, _suspended(make_finding, STUDENTS), smtp_sink)

    assert message.get_content_type() == "multipart/mixed"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    with store_engine.connect() as conn:
        alert_id = conn.execute(select(outbox.c.alert_id)).scalar_one()
    assert attachment.get_filename() == f"alerte-{alert_id}-personnes.csv"
    raw = attachment.get_payload(decode=True)
    assert isinstance(raw, bytes)
    assert raw.startswith(BOM.encode("utf-8")), "French Excel needs the BOM to read UTF-8"
    text = raw.decode("utf-8").removeprefix(BOM)
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == [
        [who, name, group, "28/11/2026 17:40", REASON] for who, name, group in sorted(STUDENTS)
    ]

    # The body names how many and the first five, says the file is joined, links the page.
    plain = message.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "24 personnes concernées, dont les 5 premières" in body
    assert STUDENTS[0][0] in body and STUDENTS[5][0] not in body
    assert f"alerte-{alert_id}-personnes.csv" in body
    assert f"/alerts/{alert_id}" in body
    for who, _, _ in STUDENTS:
        assert who not in str(message["Subject"])

    personal = [who for who, _, _ in STUDENTS] + [name for _, name, _ in STUDENTS]
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG]
    assert loud, "the delivery logs something above DEBUG: the check below is not vacuous"
    for record in loud:
        line = record.getMessage()
        assert not any(value in line for value in personal), (record.name, line)


def test_an_alert_listing_nobody_has_no_attachment(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding, smtp_sink: MailSink
) -> None:
    message = _send(store_engine, notifier, make_finding(severity="critical"), smtp_sink)

    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []
    with store_engine.connect() as conn:
        assert conn.execute(select(outbox.c.attachments)).scalar_one() is None


def test_the_teachers_of_a_changed_code_are_in_copy_of_the_scolarites_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding, smtp_sink: MailSink
) -> None:
    teachers = ("AMorin@univ.example", "BLecomte@univ.example")
    finding = make_finding(
        cause="code_changed",
        severity="critical",
        evidence=tuple(
            Evidence("R6", "enseignant planifié dans ADE pour ce cours", who=f"T{n}", email=a)
            for n, a in enumerate(teachers)
        ),
    )
    message = _send(store_engine, notifier, finding, smtp_sink)

    assert message["To"] == "scolarite.hss@example.org"
    assert message["Cc"] == ", ".join(teachers)
    assert message["X-Envelope-To"] == ", ".join(
        f"<{a}>" for a in ("scolarite.hss@example.org", *teachers)
    )


def test_the_digest_joins_the_people_of_its_news_not_of_what_is_still_open(
    make_alert: Callable[..., AlertRecord],
) -> None:
    people = tuple(
        Evidence("compte", "compte invité sans adresse électronique", SINCE, who=f"inv.{n}")
        for n in range(3)
    )
    news = make_alert(id=12, cause="missing_email", evidence=people, affected_count=3)
    still = make_alert(id=13, cause="missing_email", evidence=people, affected_count=3)
    groups = (
        CauseGroup("missing_email", "Compte sans adresse", (DigestItem(news, "new"),)),
        CauseGroup("missing_email", "Compte sans adresse", (DigestItem(still, "still_open"),)),
    )
    digest = Digest(
        "scolarite.hss@example.org",
        NIGHT.date(),
        NIGHT,
        NIGHT,
        (CourseGroup(None, "12", groups),),
    )
    email = render_digest(
        digest, public_url="https://m.example", contact="c@x", composante_name=lambda _: None
    )

    [attachment] = email.attachments
    assert attachment.filename == "alerte-12-personnes.csv"
    assert attachment.content.count("\r\n") == 4  # the header and three accounts
    assert "3 personnes concernées : fichier joint alerte-12-personnes.csv" in email.text
    assert "alerte-13-personnes.csv" not in email.text
    assert "inv.0" not in email.text  # the digest's text names nobody
