"""How the alert tables keep values: datetimes naive in UTC, evidence as JSON.

Every backend stores ``DateTime`` columns naive; the code only handles aware
datetimes. These are the two crossings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from detectors.findings import Evidence


def to_db_time(moment: datetime) -> datetime:
    """``moment`` as the store keeps it: naive, in UTC. A naive input is a bug upstream."""
    if moment.tzinfo is None:
        raise ValueError(f"timezone-aware datetime expected, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db_time(stored: datetime | None) -> datetime | None:
    return None if stored is None else stored.replace(tzinfo=UTC)


def evidence_to_json(evidence: Sequence[Evidence]) -> list[dict[str, str | None]]:
    return [
        {
            "rule": item.rule,
            "fact": item.fact,
            "as_of": None if item.as_of is None else to_db_time(item.as_of).isoformat(),
        }
        for item in evidence
    ]


def evidence_from_json(stored: Sequence[Mapping[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            rule=str(item["rule"]),
            fact=str(item["fact"]),
            as_of=(
                None
                if item.get("as_of") is None
                else datetime.fromisoformat(str(item["as_of"])).replace(tzinfo=UTC)
            ),
        )
        for item in stored
    )
