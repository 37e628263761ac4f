"""Map source rows (Debezium ``before``/``after``, run reports) to canonical facts.

The only place that knows source column names and value codes; everything
after it sees the facts of ``detectors.facts``. A row that cannot be mapped
raises ``InvalidRow`` with the column at fault, and the ingest loop
dead-letters the message.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal, NamedTuple, get_args, get_origin

from detectors.facts import RunMessage, SyncRun
from monitor.config import TopicMapping
from monitor.kafka.compiled_row import ChangeFunction, RowFunction, compile_row
from monitor.kafka.contracts import DebeziumPayload, SyncRunReport
from monitor.kafka.debezium_types import LogicalType
from monitor.kafka.values import Converter, compile_converter, type_name
from monitor.store.entities import ENTITIES, EntityName
from monitor.store.schema import fact_tables

# dirty_elp.cod_elp is String(64).
MAX_COD_ELP = 64


class InvalidRow(ValueError):
    """A source row that does not map to a canonical fact: dead-letter it, with this reason."""


class Change(NamedTuple):
    """One canonical row to apply to the state store, with the version it came from.

    ``truncate`` (Debezium op ``t``) tombstones every row of the entity older
    than this version; ``deleted`` tombstones the one row. A named tuple, immutable
    as a frozen dataclass but three times cheaper to build: one per message (issue 13).
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
        # Longer than any APOGÉE code (a Moodle idnumber may be): no ELP to look at again.
        return str(value) if value is not None and len(str(value)) <= MAX_COD_ELP else None


class RowMapper:
    """One topic's mapping compiled once: per column, its field and strict converter.

    >>> mapper = RowMapper(settings.sources.topics["refer.REFER.T_ADE_ACTIVITES"])  # doctest: +SKIP
    >>> mapper.map(row, as_of)
    Elp(cod_elp='INF1101', ...)
    """

    def __init__(self, mapping: TopicMapping) -> None:
        self.mapping = mapping
        self.spec = spec = ENTITIES[mapping.entity]
        kinds = spec.fields()
        choices = _choices(spec.fact)
        table = fact_tables[spec.name]
        self.max_key = _length(table.c.key)
        true_values = frozenset(mapping.true_values)
        flag_columns = frozenset(mapping.flag_columns)
        self.columns: list[tuple[str, str, dict[str, str] | None, Converter]] = []
        self.converter_specs: list[dict[str, Any]] = []
        for column, field in mapping.columns.items():
            spec_of_column: dict[str, Any] = {
                "true_values": true_values,
                "choices": choices.get(field),
                "max_length": _length(table.c[field]),
                "booleans_as_int": column in flag_columns,
            }
            convert = compile_converter(
                kinds[field],
                unit=mapping.time_units.get(field, "ms"),
                list_separator=mapping.list_separator,
                decimal_scale=mapping.decimal_scales.get(column),
                **spec_of_column,
            )
            self.columns.append((column, field, mapping.values.get(field), convert))
            self.converter_specs.append(spec_of_column)
        self.membership = [
            (field, rule.column, frozenset(rule.values))
            for field, rule in mapping.membership.items()
        ]
        # The store row starts from the fact's defaults (lists as lists, as JSON stores them);
        # a missing or null column keeps its field's default, or is missing if it has none.
        fields = dataclasses.fields(spec.fact)
        self.defaults = {
            f.name: list(f.default) if isinstance(f.default, tuple) else f.default
            for f in fields
            if f.name != "as_of" and f.default is not dataclasses.MISSING
        }
        self.required = frozenset(
            f.name for f in fields if f.default is dataclasses.MISSING and f.name != "as_of"
        )
        self.list_fields = frozenset(f for f, kind in kinds.items() if kind == "list")
        self.key_fields = spec.key_fields
        self.fact = spec.fact
        only = spec.key_fields[0]
        # ``spec.key_of``, without the join when the key is one field (most entities).
        self.key_of: Any = (
            (lambda row: str(row[only])) if len(spec.key_fields) == 1 else spec.key_of
        )
        self.row: RowFunction
        """``row(source_row, logical=None)``: the store row (every field of the fact but
        ``as_of``), or InvalidRow naming what is wrong."""
        self.change: ChangeFunction
        """``change(op, source_row, source_ts, source_seq, logical=None)``: the change of a row
        event (op c, u, r or d), as ``change_from_row``."""
        self.row, self.change = compile_row(self)

    def convert(
        self, index: int, raw: Any, logical: dict[str, LogicalType] | None, values: dict[str, Any]
    ) -> None:
        """Column ``index``'s value in ``values`` through its code and converter (the compiled
        code's path for the values it does not inline)."""
        column, field, codes, convert = self.columns[index]
        try:
            if codes is not None:
                raw = _code(raw, codes)
            value = convert(raw, logical.get(column) if logical else None)
        except (ValueError, TypeError, ArithmeticError) as error:
            raise InvalidRow(f"column {column}: {error}") from None
        if value is not None:
            values[field] = value

    def missing(self, values: dict[str, Any]) -> None:
        """InvalidRow naming the required fields ``values`` lacks."""
        missing = sorted(self.required.difference(values))
        raise InvalidRow(f"{self.mapping.entity}: no value for {', '.join(missing)}")

    def map(
        self,
        source_row: dict[str, Any],
        as_of: datetime,
        logical: dict[str, LogicalType] | None = None,
    ) -> Any:
        """The canonical fact for one source row, or InvalidRow naming what is wrong."""
        row = self.row(source_row, logical)
        for field in self.list_fields:
            row[field] = tuple(row[field])
        return self.fact(**row, as_of=as_of)


def _length(column: Any) -> int | None:
    """How many characters the store's column holds (None: a type without a length)."""
    length = getattr(column.type, "length", None)
    return length if isinstance(length, int) else None


def _code(raw: Any, codes: dict[str, str]) -> str:
    if type(raw) is int:
        raw = str(raw)
    elif type(raw) is not str:
        raise ValueError(f"expected a code, got {type_name(raw)}")
    code = codes.get(raw)
    if code is None:
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise ValueError(f"unknown code {shown!r} (known: {sorted(codes)})")
    return code


@cache
def _choices(fact: Any) -> dict[str, frozenset[str]]:
    """The allowed values of the fact's ``Literal`` fields."""
    found: dict[str, frozenset[str]] = {}
    for name, hint in typing.get_type_hints(fact).items():
        args = [a for a in get_args(hint) if a is not type(None)] if get_origin(hint) else []
        if get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
            hint, args = args[0], list(get_args(args[0]))
        if get_origin(hint) is Literal:
            found[name] = frozenset(str(a) for a in args)
    return found


def map_row(mapping: TopicMapping, source_row: dict[str, Any], as_of: datetime) -> Any:
    """The canonical fact for one source row, or InvalidRow naming what is wrong."""
    return RowMapper(mapping).map(source_row, as_of)


@cache
def _stored_fields(fact_type: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(fact_type) if f.name != "as_of")


def fact_to_row(fact: Any) -> dict[str, Any]:
    """The store row of a fact: its fields without ``as_of`` (kept as ``source_ts``)."""
    fact_type: Any = type(fact)
    row = {name: getattr(fact, name) for name in _stored_fields(fact_type)}
    for name, value in row.items():
        if type(value) is tuple:
            row[name] = [
                dataclasses.asdict(v)
                if dataclasses.is_dataclass(v) and not isinstance(v, type)
                else v
                for v in value
            ]
    return row


def change_from_debezium(
    mapping: TopicMapping | RowMapper,
    payload: DebeziumPayload,
    logical: dict[str, LogicalType] | None = None,
) -> Change:
    """The change a Debezium event makes to the canonical state (``logical``: from its schema)."""
    mapper = mapping if isinstance(mapping, RowMapper) else RowMapper(mapping)
    if payload.op == "t":
        return Change(
            entity=mapper.mapping.entity,
            key="*",
            row={},
            source_ts=payload.source.ts_ms,
            source_seq=payload.source.sequence,
            truncate=True,
        )
    source_row = payload.row
    assert source_row is not None  # guaranteed by DebeziumPayload's validator
    return change_from_row(
        mapper, payload.op, source_row, payload.source.ts_ms, payload.source.sequence, logical
    )


def change_from_row(
    mapper: RowMapper,
    op: str,
    source_row: dict[str, Any],
    source_ts: int,
    source_seq: int,
    logical: dict[str, LogicalType] | None = None,
) -> Change:
    """The change of a row event (op c, u, r or d) whose envelope was already checked."""
    return mapper.change(op, source_row, source_ts, source_seq, logical)


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
