"""Message contracts at the Kafka boundary (pydantic).

- Debezium change events as the JSON converter writes them, with
  (``schemas.enable=true``) or without the ``schema``/``payload`` wrapper;
  ``op`` c/u/d/r/t; tombstones are Kafka records with a null value and are
  not decoded here.
- The lmsjonction run report, one message per run state change.

``monitor.contracts_schema`` publishes their JSON Schema under ``contracts/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Op = Literal["c", "u", "d", "r", "t"]


class DebeziumSource(BaseModel):
    """The ``source`` block: where and when the change happened in the source database."""

    model_config = ConfigDict(extra="allow")

    ts_ms: int = Field(description="time of the change in the source database, epoch ms")
    connector: str | None = None
    db: str | None = None
    schema_: str | None = Field(None, alias="schema")
    table: str | None = None
    scn: str | int | None = Field(None, description="Oracle system change number")
    commit_scn: str | int | None = None
    pos: int | None = Field(None, description="MySQL binlog position")
    snapshot: str | bool | None = None

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
    ts_ms: int | None = Field(None, description="time the connector processed the event")

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
        if isinstance(data, dict) and "payload" not in data and "op" in data:
            return {"payload": data}
        return data


RunStatusLiteral = Literal["running", "success", "failed"]


class RunMessageModel(BaseModel):
    """One line of the run report."""

    level: Literal["info", "warning", "error", "alert"]
    code: str = Field(description="e.g. update_oof, w9, Insc. BDD, group_exists")
    text: str = ""
    cod_elp: str | None = None
    cod_etu: str | None = None


class RunCounters(BaseModel):
    created: int = Field(0, ge=0)
    archived: int = Field(0, ge=0)
    unarchived: int = Field(0, ge=0)
    deleted: int = Field(0, ge=0)


class SyncRunReport(BaseModel):
    """The report lmsjonction publishes on ``lmsjonction.runs`` when a run starts and ends."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1)
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatusLiteral
    counters: RunCounters = RunCounters()
    messages: list[RunMessageModel] = []

    @model_validator(mode="after")
    def _finished_consistent(self) -> SyncRunReport:
        if self.status != "running" and self.finished_at is None:
            raise ValueError(f"a run with status {self.status!r} needs finished_at")
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        for name in ("started_at", "finished_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a timezone (e.g. 2026-11-30T02:00:00+01:00)")
        return self
