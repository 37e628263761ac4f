"""The demo's SMTP server: what it receives becomes .eml files."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from monitor.simulation.mailsink import MailSink

RECEIVED_AT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)


def send(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "ecampus-monitor@example.org"
    message["To"] = "scolarite.hss@example.org"
    message["Subject"] = subject
    message.set_content("Bonjour,\nle cours RCAED334 sera archivé cette nuit.\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as relay:
        relay.send_message(message)


def test_each_message_is_one_eml_file_named_by_time_of_receipt(tmp_path: Path) -> None:
    with MailSink(tmp_path / "mails", clock=lambda: RECEIVED_AT) as sink:
        assert sink.port > 0
        send(sink.port, "[Ecampus] premier")
        send(sink.port, "[Ecampus] second « accentué »")
        names = [path.name for path in sink.message_files()]
        messages = sink.messages()
    assert names == ["20261130T021500-1.eml", "20261130T021500-2.eml"]
    assert [m["Subject"] for m in messages] == [
        "[Ecampus] premier",
        "[Ecampus] second « accentué »",
    ]
    assert messages[0]["X-Envelope-To"] == "<scolarite.hss@example.org>"
    assert "sera archivé cette nuit" in messages[0].get_content()
    assert not list((tmp_path / "mails").glob(".*.tmp"))


def test_restart_keeps_the_port_and_the_earlier_messages(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mails", clock=lambda: RECEIVED_AT)
    with sink:
        port = sink.port
        send(port, "avant")
    assert not sink.running
    later = MailSink(tmp_path / "mails", port=port, clock=lambda: RECEIVED_AT)
    with later:
        assert later.port == port
        send(port, "après")
        # Same second, new process: the first file is not overwritten.
        assert [m["Subject"] for m in later.messages()] == ["avant", "après"]
