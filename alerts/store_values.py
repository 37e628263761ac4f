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


_PERSON_FIELDS = ("who", "name", "group", "email")


def evidence_to_json(evidence: Sequence[Evidence]) -> list[dict[str, str | None]]:
    """Facts as ``{rule, fact, as_of}``; a person's row adds who, name, group, email when set."""
    stored: list[dict[str, str | None]] = []
    for item in evidence:
        row: dict[str, str | None] = {
            "rule": item.rule,
            "fact": item.fact,
            "as_of": None if item.as_of is None else to_db_time(item.as_of).isoformat(),
        }
        for name in _PERSON_FIELDS:
            value = getattr(item, name)
            if value is not None:
                row[name] = value
        stored.append(row)
    return stored


def _optional(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


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
            who=_optional(item, "who"),
            name=_optional(item, "name"),
            group=_optional(item, "group"),
            email=_optional(item, "email"),
        )
        for item in stored
    )
