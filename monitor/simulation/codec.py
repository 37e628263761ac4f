"""Canonical fact -> source row -> Debezium event: the mapping of ``monitor.kafka.mapping``, inverted.

Driven by the same ``TopicMapping`` configuration the daemon decodes with, so
the column names and value codes are written once (``mapping_defaults`` or
the site's YAML). What the configuration cannot say is how a source writes a
false flag or an empty date; that is the only convention kept here: Oracle
flags are ``O``/``N`` (numeric ``1``/``0`` for ``NUMERIC_FLAGS``), MySQL
(Moodle) writes ``1``/``0`` and ``0`` for "no date".
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, Literal

from monitor.config import SourceSettings, TopicMapping
from monitor.kafka.contracts import SyncRunReport
from monitor.kafka.events import OutgoingMessage, debezium_change, epoch_ms, run_report
from monitor.simulation.moodle_source import MoodleSource
from monitor.simulation.university import Edit
from monitor.store.entities import ENTITIES, EntityName, FieldKind

# REFER columns that hold 1/0 rather than O/N (the seed's query on DISTANT returns 0).
NUMERIC_FLAGS = frozenset({"DISTANT"})
_UNIT_DIVISOR = {"ms": 1, "s": 1000, "us": 0.001, "days": 86_400_000}

SnapshotOp = Literal["r", "c", "u", "d"]


def _canonical_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TableCodec:
    """Writes facts of one entity as rows of one source table (topic)."""

    def __init__(self, topic: str, mapping: TopicMapping) -> None:
        self.topic = topic
        self.mapping = mapping
        spec = ENTITIES[mapping.entity]
        field_to_column = {f: c for c, f in mapping.columns.items()}
        self._kinds: dict[str, FieldKind] = spec.fields()
        # canonical value -> the first source code that decodes to it
        self._inverse: dict[str, dict[str, str]] = {
            field: {canonical: code for code, canonical in reversed(codes.items())}
            for field, codes in mapping.values.items()
        }
        self.key_columns = tuple(field_to_column[f] for f in spec.key_fields)
        self.mysql = topic.split(".", 1)[0] == "moodle"

    @property
    def entity(self) -> EntityName:
        return self.mapping.entity

    def row(self, fact: Any) -> dict[str, Any]:
        """The source row of ``fact``, with this table's column names and codes."""
        row = {
            column: self._encode(column, field, getattr(fact, field))
            for column, field in self.mapping.columns.items()
        }
        for field, rule in self.mapping.membership.items():
            if getattr(fact, field) and str(row.get(rule.column)) not in rule.values:
                row[rule.column] = self._code(rule.values[0])
        return row

    def _code(self, code: str) -> Any:
        return int(code) if self.mysql and code.isdigit() else code

    def _encode(self, column: str, field: str, value: Any) -> Any:
        kind = self._kinds[field]
        if field in self._inverse and value is not None:
            try:
                return self._code(self._inverse[field][_canonical_text(value)])
            except KeyError:
                raise ValueError(
                    f"{self.topic}.{column}: no source code for {value!r} in the mapping"
                ) from None
        if value is None:
            return 0 if self.mysql and kind == "datetime" else None
        if kind == "bool":
            if self.mysql or column in NUMERIC_FLAGS:
                return 1 if value else 0
            return "O" if value else "N"
        if kind == "datetime":
            assert isinstance(value, datetime)
            divisor = _UNIT_DIVISOR[self.mapping.time_units.get(field, "ms")]
            return int(epoch_ms(value) / divisor)
        if kind == "list":
            return self.mapping.list_separator.join(value)
        return value


def _op(value: dict[str, Any], wrapped: bool) -> str:
    payload = value["payload"] if wrapped else value
    return str(payload["op"])


class SourceCodec:
    """Every configured table, by entity; numbers events in the order they are made.

    The sequence (Oracle SCN, MySQL binlog position) is this codec's own, so
    two simulations with the same seed write the same events.
    """

    def __init__(self, sources: SourceSettings, *, wrapped: bool = False) -> None:
        self.runs_topic = sources.runs_topic
        self.wrapped = wrapped
        self.tables: dict[EntityName, TableCodec] = {}
        for topic, mapping in sources.topics.items():
            self.tables.setdefault(mapping.entity, TableCodec(topic, mapping))
        self._sequence = itertools.count(1)
        # The canonical Moodle views are written as Moodle's own rows (``moodle_source``).
        self.moodle = MoodleSource()

    def topics(self) -> list[str]:
        return sorted({t.topic for t in self.tables.values()} | {self.runs_topic})

    def event(
        self, entity: EntityName, op: SnapshotOp, fact: Any, at: datetime, before: Any = None
    ) -> OutgoingMessage:
        table = self.tables[entity]
        message = debezium_change(
            table.topic,
            op,
            table.row(fact),
            at=at,
            key_columns=table.key_columns,
            before=table.row(before) if before is not None else None,
            wrapped=self.wrapped,
        )
        assert message.value is not None
        payload = message.value["payload"] if self.wrapped else message.value
        source = payload["source"]
        sequence = next(self._sequence)
        if table.mysql:
            source["pos"] = sequence
        else:
            source["scn"] = str(sequence)
        return message

    def events(
        self, entity: EntityName, op: SnapshotOp, fact: Any, at: datetime, before: Any = None
    ) -> list[OutgoingMessage]:
        """The change events of a fact: one, or the Moodle rows of a canonical Moodle view."""
        if ENTITIES[entity].stored:
            return [self.event(entity, op, fact, at, before)]
        return [
            self.event(edit.entity, edit.op, edit.row, at, edit.before)  # type: ignore[arg-type]
            for edit in self.moodle.edits(fact, op, before)
        ]

    def edit_events(self, edit: Edit) -> list[OutgoingMessage]:
        """The change events of an edit, each followed by Debezium's tombstone after a delete."""
        found: list[OutgoingMessage] = []
        for message in self.events(edit.entity, edit.op, edit.fact, edit.at, edit.before):
            found.append(message)
            if message.value is not None and _op(message.value, self.wrapped) == "d":
                found.append(OutgoingMessage(message.topic, message.key, None))
        return found

    def report(self, report: SyncRunReport) -> OutgoingMessage:
        return run_report(self.runs_topic, report)
