"""Every email the demo writes, read as a scolarité would.

The demo (a real process: embedded broker, daemon, SMTP sink writing .eml
files) lives two days of the synthetic university with one fault of every
kind (``--scale tiny``: the default demo's faults, a quarter of its events; the
README's demo command plays the default ``small`` one). Its emails must carry no English evidence vocabulary, no raw cause
code, no « (s) », no lower-cased acronym (« fOAD », « iA »), no student number
in a subject, at most one immediate email per course, office and phase, and
the people's CSV joined wherever people are listed (issue 11, points 2, 3, 4, 7).
"""

from __future__ import annotations

import csv
import email
import io
import re
import subprocess
import sys
from collections import Counter
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.cause_catalogue import CAUSES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = Path(sys.executable).with_name("ecampus-monitor")
# Words of the old English debug text of evidence and refusals.
ENGLISH = re.compile(
    r"distant=|a_distance|teaching load|in collection|\bno group\b|\bporté by\b|"
    r"\bsuspended\b|\bcase [a-f]\b|\bdeleted from\b|\bassociated\b|\bplanned\b|"
    r"\bTrue\b|\bFalse\b|\bNone\b|\bIP \d|\bELP [A-Z0-9]"
)
RAW_CODES = re.compile(r"\b(" + "|".join(sorted(c for c in CAUSES if "_" in c)) + r")\b")
STUDENT_NUMBER = re.compile(r"\b2\d{7}\b")
# An acronym whose first letter a capitalising helper lowered (« fOAD cas a », « iA annulée »).
LOWERED_ACRONYM = re.compile(r"\b(?:fOAD|iA|eLP|aPOGÉE|aDE|cEMU|dSI|dEVE|uFR|rEFER)\b")
# The people table's heading in an alert's email; the digest's mention of a joined file.
PEOPLE_HEADING = re.compile(r"^(\d+) personnes? (?:concernées?|nommées?)\b", re.MULTILINE)
JOINED = re.compile(r"fichier joint (alerte-\d+-personnes\.csv)")
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
        [
            str(CLI),
            "demo",
            "--once",
            "--dir",
            str(directory),
            "--http-port",
            "0",
            "--scale",
            "tiny",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    mails = sorted((directory / "mail").glob("*.eml"))
    assert mails, "the demo wrote no email"
    return [_read(path) for path in mails]


def _files(message: EmailMessage) -> dict[str, list[list[str]]]:
    """The CSV files joined to ``message``: name -> rows (header first)."""
    files: dict[str, list[list[str]]] = {}
    for part in message.iter_attachments():
        assert part.get_content_type() == "text/csv"
        raw = part.get_payload(decode=True)
        assert isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
        text = raw.decode("utf-8").removeprefix("\ufeff")
        files[str(part.get_filename())] = list(csv.reader(io.StringIO(text), delimiter=";"))
    return files


def test_no_english_no_raw_code_no_parenthesised_plural(demo_mail: list[EmailMessage]) -> None:
    for message in demo_mail:
        joined = "\n".join(";".join(r) for rows in _files(message).values() for r in rows)
        text = f"{message['Subject']}\n{_body(message)}\n{joined}"
        where = message["Subject"]
        assert not ENGLISH.search(text), (where, ENGLISH.search(text))
        assert not RAW_CODES.search(text), (where, RAW_CODES.search(text))
        assert not LOWERED_ACRONYM.search(text), (where, LOWERED_ACRONYM.search(text))
        assert "(s)" not in text, where
        assert not STUDENT_NUMBER.search(message["Subject"]), where


def test_the_peoples_csv_is_joined_wherever_people_are_listed(
    demo_mail: list[EmailMessage],
) -> None:
    listing = 0
    for message in demo_mail:
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        files = _files(message)
        heading = PEOPLE_HEADING.search(text)
        named = JOINED.findall(text)
        if heading is not None:  # an alert's email with its people table
            listing += 1
            [(name, rows)] = files.items()
            assert name in text, message["Subject"]
            assert len(rows) - 1 == int(heading.group(1)), (message["Subject"], name)
        else:  # a digest joins the file of each item it says is joined, and no other
            assert sorted(named) == sorted(files), message["Subject"]
            listing += len(named)
        for name, rows in files.items():
            assert not STUDENT_NUMBER.search(name)
            assert rows[0] == ["numéro", "nom", "groupe", "depuis", "motif"] and rows[1:], name
    assert listing, "no demo email lists people: the check above checked nothing"


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
        offices = [*str(message["To"]).split(", "), *str(message["Cc"] or "").split(", ")]
        for office in filter(None, offices):
            sent[(course.group(1), office, phase)] += 1
    twice = {key: n for key, n in sent.items() if n > 1}
    assert not twice, twice
