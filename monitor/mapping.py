"""Map source rows (Debezium ``before``/``after``, run reports) to canonical facts.

The only place that knows source column names and value codes; everything
after it sees the facts of ``detectors.facts``. A row that cannot be mapped
raises ``InvalidRow`` with the column at fault, and the ingest loop
dead-letters the message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from detectors.facts import RunMessage, SyncRun
from monitor.config import TopicMapping
from monitor.contracts import DebeziumPayload, SyncRunReport
from monitor.entities import ENTITIES, Entity, EntityName, FieldKind

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "us": 0.000001, "days": 86400.0}


class InvalidRow(ValueError):
    """A source row that does not map to a canonical fact: dead-letter it, with this reason."""


@dataclass(frozen=True, slots=True)
class Change:
    """One canonical row to apply to the state store, with the version it came from.

    ``truncate`` (Debezium op ``t``) tombstones every row of the entity older
    than this version; ``deleted`` tombstones the one row.
    """

    entity: EntityName
    key: str
    row: dict[str, Any]
    source_ts: int
    source_seq: int = 0
    deleted: bool = False
    truncate: bool = False

    @property
    def version(self) -> tuple[int, int]:
        return (self.source_ts, self.source_seq)

    @property
    def cod_elp(self) -> str | None:
        field = ENTITIES[self.entity].elp_field
        value = self.row.get(field) if field else None
        return str(value) if value is not None else None


@cache
def _adapter(entity: EntityName) -> TypeAdapter[Any]:
    return TypeAdapter(ENTITIES[entity].fact)


def _to_datetime(value: Any, unit: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        number = float(value)
        if number == 0:
            return None  # Moodle's "no date"
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=number * _UNIT_SECONDS[unit])
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a date: {value!r}")


def _convert(value: Any, kind: FieldKind, mapping: TopicMapping, unit: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        return str(value) in mapping.true_values
    if kind == "datetime":
        return _to_datetime(value, unit)
    if kind == "list":
        if isinstance(value, str):
            return tuple(
                part.strip() for part in value.split(mapping.list_separator) if part.strip()
            )
        return tuple(value)
    if kind == "int":
        return int(value)
    return str(value)


def map_row(mapping: TopicMapping, source_row: dict[str, Any], as_of: datetime) -> Any:
    """The canonical fact for one source row, or InvalidRow naming what is wrong."""
    spec = ENTITIES[mapping.entity]
    kinds = spec.fields()
    values: dict[str, Any] = {}
    for column, field in mapping.columns.items():
        raw = source_row.get(column)
        if field in mapping.values and raw is not None:
            codes = mapping.values[field]
            if str(raw) not in codes:
                raise InvalidRow(f"column {column}: unknown code {raw!r} (known: {sorted(codes)})")
            raw = codes[str(raw)]
        try:
            values[field] = _convert(
                raw, kinds[field], mapping, mapping.time_units.get(field, "ms")
            )
        except (TypeError, ValueError) as error:
            raise InvalidRow(f"column {column}: {error}") from None
    for field, rule in mapping.membership.items():
        raw = source_row.get(rule.column)
        values[field] = raw is not None and str(raw) in rule.values
    for key_field in spec.key_fields:
        if values.get(key_field) in (None, ""):
            raise InvalidRow(f"key field {key_field!r} is missing or empty")
    values = {k: v for k, v in values.items() if v is not None or _nullable(spec, k)}
    values["as_of"] = as_of
    try:
        return _adapter(spec.name).validate_python(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise InvalidRow(f"{mapping.entity}: {problems}") from None


def _nullable(spec: Entity, field: str) -> bool:
    default = {f.name: f for f in dataclasses.fields(spec.fact)}[field].default
    return default is None


def fact_to_row(fact: Any) -> dict[str, Any]:
    """The store row of a fact: its fields without ``as_of`` (kept as ``source_ts``)."""
    row = {f.name: getattr(fact, f.name) for f in dataclasses.fields(fact) if f.name != "as_of"}
    for name, value in row.items():
        if isinstance(value, tuple):
            row[name] = [
                dataclasses.asdict(v)
                if dataclasses.is_dataclass(v) and not isinstance(v, type)
                else v
                for v in value
            ]
    return row


def change_from_debezium(mapping: TopicMapping, payload: DebeziumPayload) -> Change:
    """The change a Debezium event makes to the canonical state."""
    spec = ENTITIES[mapping.entity]
    if payload.op == "t":
        return Change(
            entity=mapping.entity,
            key="*",
            row={},
            source_ts=payload.source.ts_ms,
            source_seq=payload.source.sequence,
            truncate=True,
        )
    source_row = payload.row
    assert source_row is not None  # guaranteed by DebeziumPayload's validator
    fact = map_row(mapping, source_row, payload.source_time)
    row = fact_to_row(fact)
    return Change(
        entity=mapping.entity,
        key=spec.key_of(row),
        row=row,
        source_ts=payload.source.ts_ms,
        source_seq=payload.source.sequence,
        deleted=payload.op == "d",
    )


def sync_run_from_report(report: SyncRunReport) -> SyncRun:
    return SyncRun(
        run_id=report.run_id,
        started_at=report.started_at.astimezone(UTC),
        finished_at=report.finished_at.astimezone(UTC) if report.finished_at else None,
        status=report.status,
        created=report.counters.created,
        archived=report.counters.archived,
        unarchived=report.counters.unarchived,
        deleted=report.counters.deleted,
        messages=tuple(RunMessage(**m.model_dump()) for m in report.messages),
        as_of=(report.finished_at or report.started_at).astimezone(UTC),
    )


def change_from_run_report(report: SyncRunReport) -> Change:
    """A run report is a versioned row too: the "finished" report supersedes "running"."""
    run = sync_run_from_report(report)
    row = fact_to_row(run)
    return Change(
        entity="sync_run",
        key=ENTITIES["sync_run"].key_of(row),
        row=row,
        source_ts=int(run.as_of.timestamp() * 1000),
        source_seq=0 if report.status == "running" else 1,
    )
