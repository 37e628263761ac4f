"""The people of an alert as a table: sorted by a column on the page, or as a CSV file.

Evidence rows with ``who`` set are people (``detectors.shared.people``); the other
rows are facts. Sorting is done by the server (a link per column header), so
the page needs no script under its Content Security Policy. The CSV is the
email's attachment (``alerts.notify.attachments``): one file, one format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.notify.attachments import people_csv
from detectors.findings import Evidence

__all__ = [
    "SORTS",
    "SORT_LABELS",
    "PersonRow",
    "common_reason",
    "facts_of",
    "people_csv",
    "people_of",
]

SORTS = ("who", "name", "group", "since")
SORT_LABELS = {"who": "Numéro", "name": "Nom", "group": "Groupe", "since": "Depuis"}


@dataclass(frozen=True, slots=True)
class PersonRow:
    who: str
    name: str
    group: str
    since: datetime | None
    reason: str


def facts_of(evidence: Sequence[Evidence]) -> list[Evidence]:
    return [e for e in evidence if not e.is_person]


def people_of(evidence: Sequence[Evidence], sort: str | None = None) -> list[PersonRow]:
    """The people rows, sorted by ``sort`` (one of SORTS; by number otherwise)."""
    rows = [
        PersonRow(e.who or "", e.name or "", e.group or "", e.as_of, e.fact)
        for e in evidence
        if e.is_person
    ]
    key = sort if sort in SORTS else "who"
    if key == "since":
        return sorted(rows, key=lambda r: (r.since is None, r.since or datetime.min, r.who))
    return sorted(rows, key=lambda r: (getattr(r, key).casefold(), r.who))


def common_reason(rows: Sequence[PersonRow]) -> str | None:
    """The reason every row shares (said once above the table), else None (a column)."""
    reasons = {row.reason for row in rows}
    return next(iter(reasons)) if len(reasons) == 1 else None
