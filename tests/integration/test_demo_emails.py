"""Every email the demo writes, read as a scolarité would.

The demo (a real process: embedded broker, daemon, SMTP sink writing .eml
files) lives two days of the synthetic university with one fault of every
kind. Its emails must carry no English evidence vocabulary, no raw cause
code, no « (s) », no student number in a subject, and at most one immediate
email per course, office and phase.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
from collections import Counter
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from detectors.cause_labels import LABELS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = Path(sys.executable).with_name("ecampus-monitor")
# Words of the old English debug text of evidence and refusals.
ENGLISH = re.compile(
    r"distant=|a_distance|teaching load|in collection|\bno group\b|\bporté by\b|"
    r"\bsuspended\b|\bcase [a-f]\b|\bdeleted from\b|\bassociated\b|\bplanned\b|"
    r"\bTrue\b|\bFalse\b|\bNone\b|\bIP \d|\bELP [A-Z0-9]"
)
RAW_CODES = re.compile(r"\b(" + "|".join(sorted(c for c in LABELS if "_" in c)) + r")\b")
STUDENT_NUMBER = re.compile(r"\b2\d{7}\b")
PHASES = {"Ce qui va se passer": "predicted", "Ce qui s'est passé": "occurred"}


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _body(message: EmailMessage) -> str:
    parts = [message.get_body(("plain",)), message.get_body(("html",))]
    return "\n".join(part.get_content() for part in parts if part is not None)


@pytest.fixture(scope="module")
def demo_mail(tmp_path_factory: pytest.TempPathFactory) -> list[EmailMessage]:
    directory = tmp_path_factory.mktemp("demo")
    finished = subprocess.run(
        [str(CLI), "demo", "--once", "--dir", str(directory), "--http-port", "0"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    mails = sorted((directory / "mail").glob("*.eml"))
    assert mails, "the demo wrote no email"
    return [_read(path) for path in mails]


def test_no_english_no_raw_code_no_parenthesised_plural(demo_mail: list[EmailMessage]) -> None:
    for message in demo_mail:
        text = f"{message['Subject']}\n{_body(message)}"
        where = message["Subject"]
        assert not ENGLISH.search(text), (where, ENGLISH.search(text))
        assert not RAW_CODES.search(text), (where, RAW_CODES.search(text))
        assert "(s)" not in text, where
        assert not STUDENT_NUMBER.search(message["Subject"]), where


def test_at_most_one_email_per_course_office_and_phase(demo_mail: list[EmailMessage]) -> None:
    sent: Counter[tuple[str, str, str]] = Counter()
    for message in demo_mail:
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        course = re.search(r"^Élément pédagogique : (\S+)$", text, re.MULTILINE)
        phase = next((p for heading, p in PHASES.items() if f"\n{heading}\n" in text), None)
        if course is None or phase is None:
            continue  # a digest, or an alert about no course
        for office in str(message["To"]).split(", "):
            sent[(course.group(1), office, phase)] += 1
    twice = {key: n for key, n in sent.items() if n > 1}
    assert not twice, twice
