"""The common Debezium envelope read without building pydantic models (issue 13's decoder).

``DebeziumEnvelope.model_validate_json`` built three models per message, a
quarter of the worker's decoding time. Nearly every message has the plain form:
a JSON object, wrapped (``schema``/``payload``) or bare, whose payload has
``op`` c/u/r/d, a ``source`` block with an integer ``ts_ms`` and the row. For
that form ``plain_event`` checks by hand, strictly, exactly what the contract
checks and returns the event; for anything else (flattened rows, truncates,
out-of-range or unusual values, invalid JSON) it returns ``None`` and the
decoder validates the message with the pydantic contract as before, so that
a message is accepted, refused and explained exactly as the contract says.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic_core import from_json

from monitor.kafka.contracts import BIGINT_MAX, TS_MS_MAX

_OPS = frozenset(("c", "u", "r", "d"))


class PlainEvent(NamedTuple):
    """What the decoder needs of an event: as ``DebeziumPayload`` would give it."""

    op: str
    row: dict[str, Any]
    ts_ms: int
    sequence: int
    schema: dict[str, Any] | None


def plain_event(value: bytes) -> PlainEvent | None:
    """The event in ``value`` if it has the plain form and is valid; else ``None`` (use pydantic)."""
    try:
        # pydantic's own JSON parser: numbers read exactly as the contract reads them
        # (an integer beyond 64 bits stays an integer, to be refused by the mapping).
        data = from_json(value, cache_strings=False)
    except ValueError:
        return None
    # ``x.__class__ is`` rather than ``type(x) is``, one ``get`` bound per dict: this runs
    # for every message (issue 13).
    if data.__class__ is not dict:
        return None
    schema: Any = None
    if len(data) == 2 and "schema" in data and "payload" in data:
        schema, data = data["schema"], data["payload"]
        if (schema is not None and schema.__class__ is not dict) or data.__class__ is not dict:
            return None
    get = data.get
    op, source = get("op"), get("source")
    if op.__class__ is not str or op not in _OPS:
        return None
    if source.__class__ is not dict:  # its other fields are Debezium's, not checked (extra="allow")
        return None
    at = source.get
    ts_ms = at("ts_ms")
    if ts_ms.__class__ is not int or not 0 <= ts_ms <= TS_MS_MAX:
        return None
    connector_ts = get("ts_ms")
    if connector_ts is not None and (
        connector_ts.__class__ is not int or not 0 <= connector_ts <= TS_MS_MAX
    ):
        return None
    for text in (at("connector"), at("db"), at("schema"), at("table")):
        if text is not None and text.__class__ is not str:
            return None
    snapshot = at("snapshot")
    if snapshot is not None and snapshot.__class__ is not str and snapshot.__class__ is not bool:
        return None
    scn, commit_scn, pos = at("scn"), at("commit_scn"), at("pos")
    sequence: int | None
    if scn is None and commit_scn is None and pos.__class__ is int and 0 <= pos <= BIGINT_MAX:
        sequence = pos  # MySQL's binlog position: the common case
    elif (
        commit_scn is None
        and pos is None
        and scn.__class__ is str
        and len(scn) <= 18  # digits only: below BIGINT_MAX
        and scn.isascii()
        and scn.isdigit()
    ):
        sequence = int(scn)  # Oracle's SCN: the common case
    else:
        sequence = _sequence(source)
        if sequence is None:
            return None
    before, after = get("before"), get("after")
    if (before is not None and before.__class__ is not dict) or (
        after is not None and after.__class__ is not dict
    ):
        return None
    row = before if op == "d" else after
    if row is None:
        return None  # the contract explains what is missing
    return PlainEvent(op, row, ts_ms, sequence, schema)


def _sequence(source: dict[str, Any]) -> int | None:
    """``DebeziumSource.sequence``, or ``None`` when a value is one the contract must judge."""
    scn, commit_scn, pos = source.get("scn"), source.get("commit_scn"), source.get("pos")
    for candidate in (scn, commit_scn):
        if candidate is None:
            continue
        if type(candidate) is int:
            if not 0 <= candidate <= BIGINT_MAX:
                return None
        elif type(candidate) is not str or (
            candidate.isdigit() and (len(candidate) > 19 or int(candidate) > BIGINT_MAX)
        ):
            return None
    if pos is not None and (type(pos) is not int or not 0 <= pos <= BIGINT_MAX):
        return None
    for candidate in (scn, commit_scn, pos):
        if candidate is not None:
            try:
                return int(candidate)
            except (TypeError, ValueError):
                continue
    return 0
