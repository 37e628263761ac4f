"""Step 1: a Kafka message's bytes -> the canonical ``Change`` it makes, or ``InvalidMessage``.

Debezium topics are validated as ``DebeziumEnvelope`` (wrapped or bare) and
mapped with the topic's ``TopicMapping``; the runs topic as ``SyncRunReport``.
A tombstone (null value, which Debezium writes after a delete for log
compaction) carries nothing to apply: it decodes to ``None``; so do the
messages of Debezium's own topics (heartbeats ``__debezium-heartbeat.*``,
schema changes on ``<prefix>``, transaction metadata on
``<prefix>.transaction``), counted as ignored. Whatever else goes wrong with
one message makes it an ``InvalidMessage``: decoding never crashes the worker.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Literal

from pydantic import ValidationError

from monitor.config import SourceSettings
from monitor.kafka.contracts import DebeziumEnvelope, SyncRunReport
from monitor.kafka.debezium_types import column_types
from monitor.kafka.ingest.envelope import plain_event
from monitor.kafka.mapping import (
    Change,
    RowMapper,
    change_from_debezium,
    change_from_run_report,
)
from monitor.metrics import Metrics

log = logging.getLogger(__name__)

# Bounded: it is the ``reason`` label of the dead-letter metric.
ReasonKind = Literal[
    "not_json", "invalid_event", "unmappable_row", "unknown_topic", "rejected_by_store"
]
# Bounded: the ``kind`` label of the ignored-messages metric.
IgnoredKind = Literal["heartbeat", "schema_change", "transaction"]
HEARTBEAT_PREFIX = "__debezium-heartbeat"


class InvalidMessage(Exception):
    """Send the message to the dead-letter topic; ``detail`` says why, without its values."""

    def __init__(self, reason_kind: ReasonKind, detail: str) -> None:
        super().__init__(f"{reason_kind}: {detail}")
        self.reason_kind: ReasonKind = reason_kind
        self.detail = detail


def describe(error: ValidationError) -> str:
    """A validation error as ``location: problem`` lines, without the input (personal data)."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(message)'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False, include_context=False)
    )


def _invalid(error: ValidationError) -> InvalidMessage:
    if any(e["type"] == "json_invalid" for e in error.errors()):
        return InvalidMessage("not_json", describe(error))
    return InvalidMessage("invalid_event", describe(error))


class MessageDecoder:
    """Decodes the messages of every configured topic, with each topic's mapping compiled once.

    >>> decoder = MessageDecoder(settings.sources)               # doctest: +SKIP
    >>> decoder.decode("refer.REFER.T_ADE_ACTIVITES_ETUDIANTS", raw_bytes)
    Change(entity='ip', key='21900001\\x1fINF1101', ...)
    """

    def __init__(self, sources: SourceSettings, metrics: Metrics | None = None) -> None:
        self.sources = sources
        self.metrics = metrics
        self._mappers = {topic: RowMapper(mapping) for topic, mapping in sources.topics.items()}
        self._prefixes = {topic.split(".", 1)[0] for topic in sources.topics}
        self.seconds = {"decode": 0.0, "map": 0.0}
        """CPU spent since created: parsing and checking envelopes (decode), mapping rows (map)."""

    def decode(self, topic: str, value: bytes | None) -> Change | None:
        """The change ``value`` makes; ``None`` for a tombstone or an ignored topic; else ``InvalidMessage``."""
        if value is None:
            return None
        try:
            return self._decode(topic, value)
        except InvalidMessage:
            raise
        except Exception as error:  # a case the checks missed: dead-letter it, never crash
            log.error("unexpected %s decoding a message of %s", type(error).__name__, topic)
            detail = f"unexpected {type(error).__name__}: {str(error)[:500]}"
            raise InvalidMessage("invalid_event", detail) from None

    def ignored_kind(self, topic: str) -> IgnoredKind | None:
        """Which of Debezium's own topics ``topic`` is, if it is one."""
        if topic.startswith(HEARTBEAT_PREFIX):
            return "heartbeat"
        if topic in self._prefixes:
            return "schema_change"
        if topic.endswith(".transaction") and topic[: -len(".transaction")] in self._prefixes:
            return "transaction"
        return None

    def _decode(self, topic: str, value: bytes) -> Change | None:
        if topic == self.sources.runs_topic:
            return self._decode_run_report(value)
        mapper = self._mappers.get(topic)
        if mapper is None:
            ignored = self.ignored_kind(topic)
            if ignored is None:
                raise InvalidMessage(
                    "unknown_topic", f"topic {topic!r} has no mapping in sources.topics"
                )
            if self.metrics is not None:
                self.metrics.events_ignored.labels(ignored).inc()
            return None
        started = perf_counter()
        event = plain_event(value)
        envelope = None
        if event is None:  # not the plain form: the contract judges and explains
            try:
                envelope = DebeziumEnvelope.model_validate_json(value)
            except ValidationError as error:
                raise _invalid(error) from None
        mapped = perf_counter()
        self.seconds["decode"] += mapped - started
        try:
            if event is not None:
                logical = column_types(event.schema) if event.schema else None
                return mapper.change(event.op, event.row, event.ts_ms, event.sequence, logical)
            assert envelope is not None
            logical = column_types(envelope.schema_) if envelope.schema_ else None
            return change_from_debezium(mapper, envelope.payload, logical)
        except (ValueError, TypeError, ArithmeticError) as error:  # InvalidRow, or a conversion
            raise InvalidMessage("unmappable_row", str(error)) from None
        finally:
            self.seconds["map"] += perf_counter() - mapped

    def _decode_run_report(self, value: bytes) -> Change:
        try:
            report = SyncRunReport.model_validate_json(value)
        except ValidationError as error:
            raise _invalid(error) from None
        try:
            return change_from_run_report(report)
        except (ValueError, TypeError, ArithmeticError) as error:
            raise InvalidMessage("unmappable_row", str(error)) from None
