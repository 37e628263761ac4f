"""The outbox across failures and restarts: visible errors, nothing lost, nothing sent twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from alerts.notify import smtp as smtp_module
from alerts.notify.outbox import Notifier
from alerts.notify.smtp import DeliveryOutcome, SmtpSender, SmtpTarget
from alerts.repository import OutboxError, OutboxStatus, outbox_status
from alerts.tables import outbox
from detectors.findings import Finding
from monitor.kafka.broker import free_port
from monitor.simulation.mailsink import MailSink
from tests.fixtures.findings import queue

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
SENDER = "ecampus-monitor@unicaen.example.org"

MakeFinding = Callable[..., Finding]


def target(port: int, **overrides: Any) -> SmtpTarget:
    return SmtpTarget(
        **(
            {"host": "127.0.0.1", "port": port, "sender": SENDER, "timeout_seconds": 5.0}
            | overrides
        )
    )


def courses(make_finding: MakeFinding, count: int) -> list[Finding]:
    return [make_finding(subject=f"ELP{n}", cod_elp=f"ELP{n}") for n in range(count)]


def status(engine: Engine) -> OutboxStatus:
    with engine.connect() as conn:
        return outbox_status(conn)


def test_outbox_status_shows_waiting_mail_and_why_it_fails(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    assert status(store_engine) == OutboxStatus(0, 0, 0, 0, None, [])
    queue(store_engine, notifier, *courses(make_finding, 3))
    down = SmtpSender(target(free_port()))

    assert down.deliver_due(store_engine, NIGHT) == DeliveryOutcome(failed=1)
    first = status(store_engine)
    assert (first.queued, first.sending, first.sent, first.failed) == (3, 0, 0, 0)
    assert first.oldest_queued_at == NIGHT
    [error] = first.last_errors
    assert isinstance(error, OutboxError)
    assert error.attempts == 1
    assert error.last_error.startswith("ConnectionRefusedError")

    # The next round tries the row waiting longest; past the maximum age it is given up.
    last_try = SmtpSender(target(free_port(), max_age=timedelta(minutes=30)))
    assert last_try.deliver_due(store_engine, NIGHT + timedelta(hours=1)) == DeliveryOutcome(
        gave_up=1, refused=1
    )
    given_up = status(store_engine)
    assert (given_up.queued, given_up.failed) == (2, 1)
    assert [e.id for e in given_up.last_errors] == [error.id + 1, error.id]


def test_a_sender_dying_mid_batch_loses_nothing_and_sends_nothing_twice(
    store_engine: Engine,
    notifier: Notifier,
    make_finding: MakeFinding,
    smtp_sink: MailSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue(store_engine, notifier, *courses(make_finding, 3))
    real_build = smtp_module.build_message
    built: list[int] = []

    def dies_on_the_second(row: Any, sender: str, now: datetime) -> Any:
        built.append(row.id)
        if len(built) == 2:
            raise SystemExit("killed")  # the process dies after claiming the second row
        return real_build(row, sender, now)

    monkeypatch.setattr(smtp_module, "build_message", dies_on_the_second)
    first_process = SmtpSender(target(smtp_sink.port))
    with pytest.raises(SystemExit):
        first_process.deliver_due(store_engine, NIGHT)
    monkeypatch.setattr(smtp_module, "build_message", real_build)
    with store_engine.connect() as conn:
        states = [row.status for row in conn.execute(select(outbox).order_by(outbox.c.id))]
    assert states == ["sent", "sending", "queued"]
    assert len(smtp_sink.messages()) == 1

    # The restarted process: the dead one's claim holds for a while, then expires.
    restarted = SmtpSender(target(smtp_sink.port))
    assert restarted.deliver_due(store_engine, NIGHT + timedelta(seconds=1)) == DeliveryOutcome(
        sent=1
    )
    lease = timedelta(seconds=restarted.target.claim_seconds)
    assert restarted.deliver_due(store_engine, NIGHT + lease) == DeliveryOutcome(sent=1)
    assert restarted.deliver_due(store_engine, NIGHT + 2 * lease) == DeliveryOutcome()

    subjects = sorted(message["Message-ID"] for message in smtp_sink.messages())
    assert len(subjects) == 3 and len(set(subjects)) == 3
    assert status(store_engine).sent == 3


def test_two_senders_at_once_send_each_row_once(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding, smtp_sink: MailSink
) -> None:
    queue(store_engine, notifier, *courses(make_finding, 20))
    senders = [SmtpSender(target(smtp_sink.port)) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[DeliveryOutcome] = []

    def work(sender: SmtpSender) -> None:
        start.wait()
        outcomes.append(sender.deliver_due(store_engine, NIGHT))

    threads = [threading.Thread(target=work, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(outcome.sent for outcome in outcomes) == 20
    ids = [message["Message-ID"] for message in smtp_sink.messages()]
    assert len(ids) == len(set(ids)) == 20
