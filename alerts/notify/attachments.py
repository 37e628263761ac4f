"""The people of an alert as a CSV file, attached to its email and served by its page.

Issue 11, point 4: the email names how many people and the first few; the
whole list travels as a file the scolarité opens in a spreadsheet. French
Excel opens a double-clicked ``.csv`` with the system's list separator (a
semicolon) and, without a byte-order mark, in the ANSI code page (« é »
becomes « Ã© »): the file is UTF-8 *with* a BOM *and* semicolons, CRLF line
ends (RFC 4180), dates as ``04/12/2026 13:21`` in the university's time zone.
LibreOffice reads the same file. See docs/DECISIONS.md.

The outbox stores attachments as JSON (``as_json``/``from_json``), so the
email sent after a restart is the one rendered with the transition. The file
name never carries a student number: only the alert's id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from detectors.findings import Evidence

CSV_TYPE = "text/csv"
CSV_HEADER = ("numéro", "nom", "groupe", "depuis", "motif")
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A text file joined to an email: its name, MIME type and content (UTF-8 on the wire)."""

    filename: str
    content_type: str
    content: str

    def as_json(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": self.content,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Attachment:
        return cls(str(stored["filename"]), str(stored["content_type"]), str(stored["content"]))

    @property
    def maintype(self) -> str:
        return self.content_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        return self.content_type.partition("/")[2]


def csv_moment(moment: datetime | None, zone: ZoneInfo) -> str:
    """``04/12/2026 13:21`` in ``zone``: a date French spreadsheets recognise; empty for None."""
    return "" if moment is None else moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def people_csv(evidence: Sequence[Evidence], timezone: str = "Europe/Paris") -> str:
    """``numéro;nom;groupe;depuis;motif``, one row per person, by number; a BOM first."""
    zone = ZoneInfo(timezone)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    people = sorted((e for e in evidence if e.is_person), key=lambda e: e.who or "")
    for person in people:
        writer.writerow(
            [
                person.who,
                person.name or "",
                person.group or "",
                csv_moment(person.as_of, zone),
                person.fact,
            ]
        )
    return BOM + out.getvalue()


def people_filename(alert_id: int) -> str:
    return f"alerte-{alert_id}-personnes.csv"


def people_attachment(
    alert_id: int, evidence: Sequence[Evidence], timezone: str = "Europe/Paris"
) -> Attachment | None:
    """The CSV of the alert's people; None when the alert lists nobody."""
    if not any(e.is_person for e in evidence):
        return None
    return Attachment(people_filename(alert_id), CSV_TYPE, people_csv(evidence, timezone))
