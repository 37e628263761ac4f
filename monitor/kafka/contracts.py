"""Message contracts at the Kafka boundary (pydantic).

- Debezium change events as the JSON converter writes them, with
  (``schemas.enable=true``) or without the ``schema``/``payload`` wrapper;
  ``op`` c/u/d/r/t; tombstones are Kafka records with a null value and are
  not decoded here.
- ExtractNewRecordState's flattened form: the row itself with ``__op``,
  ``__deleted``, ``__source_ts_ms`` (or ``__ts_ms``), ``__source_scn``,
  ``__source_pos``, wrapped or not; read as the same payload.
- The lmsjonction run report, one message per run state change.

Out-of-range numbers and absurd dates are invalid here, so that nothing
downstream (``datetime``, the store's BIGINT columns) overflows on them.

``monitor.kafka.contracts_schema`` publishes their JSON Schema under ``contracts/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Op = Literal["c", "u", "d", "r", "t"]

BIGINT_MAX = 2**63 - 1
# 1970-01-01 .. 2200-01-01 in epoch ms: a source time outside is not a time Debezium wrote.
TS_MS_MAX = 7_258_118_400_000
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
# Flattened (ExtractNewRecordState) metadata fields -> the source block's.
_FLATTENED_SOURCE = {
    "__source_ts_ms": "ts_ms",
    "__source_scn": "scn",
    "__source_commit_scn": "commit_scn",
    "__source_pos": "pos",
    "__source_connector": "connector",
    "__source_table": "table",
}


class DebeziumSource(BaseModel):
    """The ``source`` block: where and when the change happened in the source database."""

    model_config = ConfigDict(extra="allow")

    ts_ms: int = Field(
        strict=True,
        ge=0,
        le=TS_MS_MAX,
        description="time of the change in the source database, epoch ms",
    )
    connector: str | None = None
    db: str | None = None
    schema_: str | None = Field(None, alias="schema")
    table: str | None = None
    scn: str | int | None = Field(None, description="Oracle system change number")
    commit_scn: str | int | None = None
    pos: int | None = Field(None, ge=0, le=BIGINT_MAX, description="MySQL binlog position")
    snapshot: str | bool | None = None

    @field_validator("scn", "commit_scn")
    @classmethod
    def _scn_in_range(cls, value: str | int | None) -> str | int | None:
        # Stored as the row's BIGINT source_seq; a digit string is read as a number.
        digits = str(value) if value is not None else ""
        if digits.isdigit() and (len(digits) > 19 or int(digits) > BIGINT_MAX):
            raise ValueError("SCN out of the 64-bit range")
        if isinstance(value, int) and value < 0:
            raise ValueError("negative SCN")
        return value

    @property
    def sequence(self) -> int:
        """A number that orders changes made in the same millisecond (SCN, else binlog position)."""
        for candidate in (self.scn, self.commit_scn, self.pos):
            if candidate is not None:
                try:
                    return int(candidate)
                except (TypeError, ValueError):
                    continue
        return 0


class DebeziumPayload(BaseModel):
    """A change event's payload: the row before and after, and what happened."""

    model_config = ConfigDict(extra="allow")

    op: Op
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    source: DebeziumSource
    ts_ms: int | None = Field(
        None, ge=0, le=TS_MS_MAX, description="time the connector processed the event"
    )

    @model_validator(mode="before")
    @classmethod
    def _unflatten(cls, data: Any) -> Any:
        """ExtractNewRecordState's row with ``__`` fields -> the envelope's payload."""
        if not isinstance(data, dict) or "op" in data or "source" in data:
            return data
        if not any(name.startswith("__") for name in data):
            return data
        row = {k: v for k, v in data.items() if not k.startswith("__")}
        deleted = data.get("__deleted") in ("true", True)
        op = "d" if deleted else data.get("__op", "c")
        source = {field: data[flat] for flat, field in _FLATTENED_SOURCE.items() if flat in data}
        if "ts_ms" not in source and "__ts_ms" in data:
            source["ts_ms"] = data["__ts_ms"]  # only the connector's time was added
        return {
            "op": op,
            "before": row if op == "d" else None,
            "after": None if op == "d" else row,
            "source": source,
            "ts_ms": data.get("__ts_ms"),
        }

    @model_validator(mode="after")
    def _row_present(self) -> DebeziumPayload:
        if self.op in ("c", "u", "r") and self.after is None:
            raise ValueError(f"op {self.op!r} needs an 'after' row")
        if self.op == "d" and self.before is None:
            raise ValueError("op 'd' needs a 'before' row")
        return self

    @property
    def row(self) -> dict[str, Any] | None:
        """The row the event is about: ``after`` for writes, ``before`` for deletes."""
        return self.before if self.op == "d" else self.after

    @property
    def source_time(self) -> datetime:
        return datetime.fromtimestamp(self.source.ts_ms / 1000, tz=UTC)


class DebeziumEnvelope(BaseModel):
    """A Debezium JSON message, wrapped (``{"schema":…, "payload":…}``) or bare."""

    schema_: dict[str, Any] | None = Field(None, alias="schema")
    payload: DebeziumPayload

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        # The JSON converter's wrapper has exactly these two fields; anything else is bare.
        if isinstance(data, dict) and data.keys() != {"schema", "payload"}:
            return {"payload": data}
        return data


RunStatusLiteral = Literal["running", "success", "failed"]


class RunMessageModel(BaseModel):
    """One line of the run report."""

    level: Literal["info", "warning", "error", "alert"]
    code: str = Field(max_length=255, description="e.g. update_oof, w9, Insc. BDD, group_exists")
    text: str = Field("", max_length=4000)
    cod_elp: str | None = Field(None, max_length=255)
    cod_etu: str | None = Field(None, max_length=255)


class RunCounters(BaseModel):
    created: int = Field(0, ge=0, le=BIGINT_MAX)
    archived: int = Field(0, ge=0, le=BIGINT_MAX)
    unarchived: int = Field(0, ge=0, le=BIGINT_MAX)
    deleted: int = Field(0, ge=0, le=BIGINT_MAX)


class SyncRunReport(BaseModel):
    """The report lmsjonction publishes on ``lmsjonction.runs`` when a run starts and ends."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, max_length=255)
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatusLiteral
    counters: RunCounters = RunCounters()
    messages: list[RunMessageModel] = []

    @model_validator(mode="after")
    def _finished_consistent(self) -> SyncRunReport:
        if self.status != "running" and self.finished_at is None:
            raise ValueError(f"a run with status {self.status!r} needs finished_at")
        # Timezones and years first: comparing a naive with an aware time raises TypeError,
        # and converting year 1 or 9999 to UTC can overflow.
        for name in ("started_at", "finished_at"):
            value = getattr(self, name)
            if value is None:
                continue
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} needs a timezone (e.g. 2026-11-30T02:00:00+01:00)")
            if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                raise ValueError(f"{name} is out of range ({EARLIEST_YEAR}-{LATEST_YEAR})")
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self
