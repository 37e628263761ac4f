"""From the outbox to a real SMTP server (the MailSink), with retries."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from alerts.notify.outbox import Notifier
from alerts.notify.smtp import (
    DeliveryOutcome,
    SmtpSender,
    SmtpTarget,
    describe_error,
    message_id,
    pending_count,
    retry_delay,
)
from alerts.repository import get_alert
from alerts.routing import Composante, Router
from alerts.tables import outbox
from detectors.findings import Finding
from monitor.kafka.broker import free_port
from monitor.simulation.mailsink import MailSink
from tests.fixtures.findings import queue

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
SENDER = "ecampus-monitor@unicaen.example.org"
SCRIPT_TITLE = "Cours RCAED334 « Droit <script>alert(1)</script> » : sera archivé cette nuit"

MakeFinding = Callable[..., Finding]


def target(port: int, **overrides: Any) -> SmtpTarget:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": SENDER,
        "timeout_seconds": 5.0,
        "retry_initial_seconds": 30.0,
        "retry_max_seconds": 3600.0,
    }
    return SmtpTarget(**(settings | overrides))


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    # The .eml keeps the wire's CRLF line ends.
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_email_reaches_the_scolarite_in_french(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding, smtp_sink: MailSink
) -> None:
    queue(store_engine, notifier, make_finding(title=SCRIPT_TITLE))
    sender = SmtpSender(target(smtp_sink.port))

    assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(sent=1)

    [message] = smtp_sink.messages()
    [row] = outbox_rows(store_engine)
    assert message["To"] == "scolarite.hss@example.org"
    assert message["X-Envelope-To"] == "<scolarite.hss@example.org>"
    assert message["From"] == SENDER
    assert message["Subject"] == f"[Ecampus] {SCRIPT_TITLE}"
    assert message["Message-ID"] == message_id(row.dedup_key, SENDER)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert "Ce qui va se passer" in text
    assert "Élément pédagogique : RCAED334" in text
    assert "Personnes concernées : 37" in text
    assert "Que faire\nSi le cours doit continuer" in text
    assert "<script>" not in html
    assert "Droit &lt;script&gt;alert(1)&lt;/script&gt;" in html
    with store_engine.connect() as conn:
        record = get_alert(conn, row.alert_id)
        assert pending_count(conn) == 0
    assert record is not None
    assert f"https://ecampus-monitor.example.org/alerts/{record.id}" in text
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at == NIGHT.replace(tzinfo=None)

    assert sender.deliver_due(store_engine, NIGHT + timedelta(hours=1)) == DeliveryOutcome()
    assert len(smtp_sink.messages()) == 1


def test_same_notification_is_queued_once(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    queue(store_engine, notifier, make_finding())
    [row] = outbox_rows(store_engine)
    with store_engine.begin() as conn:
        record = get_alert(conn, row.alert_id)
        assert record is not None
        assert notifier.enqueue(conn, record, "new-open", NIGHT + timedelta(days=1)) is False
    assert len(outbox_rows(store_engine)) == 1


def test_relay_down_keeps_the_email_and_a_later_run_sends_it_once(
    store_engine: Engine,
    notifier: Notifier,
    make_finding: MakeFinding,
    smtp_sink: MailSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue(store_engine, notifier, make_finding(), make_finding(subject="X", cod_elp="X"))
    sender = SmtpSender(target(smtp_sink.port))
    smtp_sink.stop()

    with caplog.at_level(logging.WARNING, logger="alerts.notify.smtp"):
        assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(failed=1)

    first, second = outbox_rows(store_engine)
    assert (first.status, first.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in first.last_error
    assert first.next_attempt_at == (NIGHT + timedelta(seconds=30)).replace(tzinfo=None)
    # The relay is down: the second email was not tried, so it lost no attempt.
    assert (second.status, second.attempts, second.last_error) == ("queued", 0, None)
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert "attempt 1 failed" in warning.getMessage()
    assert "@" not in warning.getMessage()

    # One connection attempt per round while the relay is down: now the second email's turn.
    assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(failed=1)
    assert sender.deliver_due(store_engine, NIGHT + timedelta(seconds=10)) == DeliveryOutcome()
    smtp_sink.start()
    assert sender.deliver_due(store_engine, NIGHT + timedelta(seconds=31)) == DeliveryOutcome(
        sent=2
    )
    assert sender.deliver_due(store_engine, NIGHT + timedelta(hours=2)) == DeliveryOutcome()
    assert len(smtp_sink.messages()) == 2
    assert [(row.status, row.attempts) for row in outbox_rows(store_engine)] == [
        ("sent", 2),
        ("sent", 2),
    ]


def test_a_relay_down_for_longer_than_the_maximum_age_gives_up(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    queue(store_engine, notifier, make_finding())
    sender = SmtpSender(target(free_port(), max_age=timedelta(hours=2)))

    assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(failed=1)
    assert sender.deliver_due(store_engine, NIGHT + timedelta(hours=1)) == DeliveryOutcome(failed=1)
    # The backoff would wait past the maximum age: the last attempt is at the age itself.
    [row] = outbox_rows(store_engine)
    assert row.next_attempt_at == (NIGHT + timedelta(hours=1, seconds=60)).replace(tzinfo=None)
    assert sender.deliver_due(store_engine, NIGHT + timedelta(hours=2)) == DeliveryOutcome(
        gave_up=1, refused=1
    )
    [row] = outbox_rows(store_engine)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.refused_recipients == ["scolarite.hss@example.org"]
    with store_engine.connect() as conn:
        assert pending_count(conn) == 0
    assert sender.deliver_due(store_engine, NIGHT + timedelta(days=1)) == DeliveryOutcome()


def test_many_temporary_failures_are_not_a_reason_to_give_up(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    queue(store_engine, notifier, make_finding())
    sender = SmtpSender(target(free_port()))  # the default maximum age: 3 days

    for hour in range(0, 70, 2):
        assert sender.deliver_due(store_engine, NIGHT + timedelta(hours=hour)).gave_up == 0
    [row] = outbox_rows(store_engine)
    assert (row.status, row.attempts) == ("queued", 35)


class _ScriptedRelay:
    """A relay answering as told: ``refuse*`` addresses 550 always, ``busy*`` addresses 451
    ``busy_times`` times then OK, and the DATA of the first ``data_busy`` messages 451."""

    def __init__(self, *, busy_times: int = 1, data_busy: int = 0) -> None:
        self.delivered: list[list[str]] = []
        self.busy_left = busy_times
        self.data_busy = data_busy

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("refuse"):
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if address.startswith("busy") and self.busy_left > 0:
            self.busy_left -= 1
            return f"451 4.7.1 <{address}>: greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_busy > 0:
            self.data_busy -= 1
            return "451 4.3.0 Mail server temporarily rejected message"
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def relay(handler: _ScriptedRelay) -> Iterator[Controller]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def routed(*addresses: str, other: tuple[str, ...] = ()) -> Notifier:
    router = Router(
        cemu="cemu.assistance@example.org",
        composantes={
            "13": Composante("13", "UFR Droit", addresses),
            "14": Composante("14", "UFR Sciences", other or ("ok.sciences@example.org",)),
        },
    )
    return Notifier(router, "https://ecampus-monitor.example.org")


def test_a_451_is_retried_and_delivered_once_the_relay_recovers(
    store_engine: Engine, make_finding: MakeFinding
) -> None:
    handler = _ScriptedRelay(data_busy=2)
    with contextlib.contextmanager(relay)(handler) as controller:
        queue(store_engine, routed("ok.droit@example.org"), make_finding(cod_cmp="13"))
        sender = SmtpSender(target(controller.port))

        assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(failed=1)
        [row] = outbox_rows(store_engine)
        assert (row.status, row.attempts) == ("queued", 1)
        assert "451" in row.last_error
        assert sender.deliver_due(store_engine, NIGHT + timedelta(seconds=30)) == DeliveryOutcome(
            failed=1
        )
        assert sender.deliver_due(store_engine, NIGHT + timedelta(seconds=90)) == DeliveryOutcome(
            sent=1
        )

    assert handler.delivered == [["ok.droit@example.org"]]
    [row] = outbox_rows(store_engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_a_550_gives_the_recipient_up_at_once(
    store_engine: Engine, make_finding: MakeFinding
) -> None:
    handler = _ScriptedRelay()
    with contextlib.contextmanager(relay)(handler) as controller:
        queue(store_engine, routed("refuse.droit@example.org"), make_finding(cod_cmp="13"))
        sender = SmtpSender(target(controller.port))

        assert sender.deliver_due(store_engine, NIGHT) == DeliveryOutcome(gave_up=1, refused=1)
        assert sender.deliver_due(store_engine, NIGHT + timedelta(days=1)) == DeliveryOutcome()

    assert handler.delivered == []
    [row] = outbox_rows(store_engine)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.refused_recipients == ["refuse.droit@example.org"]
    assert "550" in row.last_error and "@" not in row.last_error


def test_several_recipients_are_each_delivered_retried_or_given_up(
    store_engine: Engine, make_finding: MakeFinding
) -> None:
    handler = _ScriptedRelay(busy_times=1)
    notifier = routed("refuse.droit@example.org", "busy.droit@example.org", "ok.droit@example.org")
    with contextlib.contextmanager(relay)(handler) as controller:
        queue(
            store_engine,
            notifier,
            make_finding(subject="A", cod_cmp="13"),
            make_finding(subject="B", cod_cmp="14"),
        )
        sender = SmtpSender(target(controller.port))

        first = sender.deliver_due(store_engine, NIGHT)
        assert first == DeliveryOutcome(sent=1, failed=1, refused=1)
        mixed, fine = outbox_rows(store_engine)
        assert mixed.status == "queued"
        assert mixed.pending_recipients == ["busy.droit@example.org"]
        assert mixed.refused_recipients == ["refuse.droit@example.org"]
        assert (fine.status, fine.refused_recipients) == ("sent", None)

        second = sender.deliver_due(store_engine, NIGHT + timedelta(seconds=30))
        assert second == DeliveryOutcome(sent=1)

    # The one accepted at once got it once; the greylisted one got it on the retry only.
    assert handler.delivered == [
        ["ok.droit@example.org"],
        ["ok.sciences@example.org"],
        ["busy.droit@example.org"],
    ]
    mixed, _ = outbox_rows(store_engine)
    assert (mixed.status, mixed.pending_recipients) == ("sent", None)
    assert mixed.refused_recipients == ["refuse.droit@example.org"]
    assert mixed.last_error.startswith("1 of 3 recipients given up")
    assert "550" in mixed.last_error
    assert "@" not in mixed.last_error


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (30, 3600)]
)
def test_retry_delay_doubles_up_to_the_cap(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts, 30.0, 3600.0) == timedelta(seconds=seconds)


def test_errors_are_described_without_addresses() -> None:
    refused = smtplib.SMTPRecipientsRefused(
        {"jean.dupont@etu.example.org": (550, b"5.1.1 <jean.dupont@etu.example.org> unknown")}
    )
    assert describe_error(refused) == (
        "SMTPRecipientsRefused: all recipients refused (codes [550])"
    )
    data = smtplib.SMTPDataError(554, b"rejected: message for bob@example.org looks like spam")
    assert (
        describe_error(data) == "SMTPDataError: 554 rejected: message for <address> looks like spam"
    )


def test_message_id_is_stable_per_notification() -> None:
    assert message_id("abc:1:open", SENDER) == message_id("abc:1:open", SENDER)
    assert message_id("abc:1:open", SENDER) != message_id("abc:2:open", SENDER)
    assert message_id("abc:1:open", SENDER).endswith("@unicaen.example.org>")


def test_smtp_target_hides_the_password() -> None:
    assert "s3cret" not in repr(target(25, username="relay", password="s3cret"))
