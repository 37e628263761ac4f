"""Step 1: a Kafka message's bytes -> the canonical ``Change`` it makes, or ``InvalidMessage``.

Debezium topics are validated as ``DebeziumEnvelope`` (wrapped or bare) and
mapped with the topic's ``TopicMapping``; the runs topic as ``SyncRunReport``.
A tombstone (null value, which Debezium writes after a delete for log
compaction) carries nothing to apply: it decodes to ``None``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from monitor.config import SourceSettings
from monitor.contracts import DebeziumEnvelope, SyncRunReport
from monitor.mapping import Change, change_from_debezium, change_from_run_report

# Bounded: it is the ``reason`` label of the dead-letter metric.
ReasonKind = Literal["not_json", "invalid_event", "unmappable_row", "unknown_topic"]


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
    """Decodes the messages of every configured topic.

    >>> decoder = MessageDecoder(settings.sources)               # doctest: +SKIP
    >>> decoder.decode("refer.REFER.T_ADE_ACTIVITES_ETUDIANTS", raw_bytes)
    Change(entity='ip', key='21900001\\x1fINF1101', ...)
    """

    def __init__(self, sources: SourceSettings) -> None:
        self.sources = sources

    def decode(self, topic: str, value: bytes | None) -> Change | None:
        """The change ``value`` makes; ``None`` for a tombstone; else ``InvalidMessage``."""
        if value is None:
            return None
        if topic == self.sources.runs_topic:
            return self._decode_run_report(value)
        mapping = self.sources.topics.get(topic)
        if mapping is None:
            raise InvalidMessage(
                "unknown_topic", f"topic {topic!r} has no mapping in sources.topics"
            )
        try:
            envelope = DebeziumEnvelope.model_validate_json(value)
        except ValidationError as error:
            raise _invalid(error) from None
        try:
            return change_from_debezium(mapping, envelope.payload)
        except (ValueError, TypeError) as error:  # InvalidRow, or a conversion the mapping missed
            raise InvalidMessage("unmappable_row", str(error)) from None

    def _decode_run_report(self, value: bytes) -> Change:
        try:
            report = SyncRunReport.model_validate_json(value)
        except ValidationError as error:
            raise _invalid(error) from None
        try:
            return change_from_run_report(report)
        except (ValueError, TypeError) as error:
            raise InvalidMessage("unmappable_row", str(error)) from None
