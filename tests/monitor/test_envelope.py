"""The hand-checked plain envelope says exactly what the pydantic contract says (issue 13).

``plain_event`` may decline any message (the decoder then asks the contract);
whatever it accepts, the contract must accept with the same op, row, source
time, sequence and schema. Checked on generated envelopes, near-valid ones
included, and on the golden contract files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.kafka.contracts import BIGINT_MAX, TS_MS_MAX, DebeziumEnvelope
from monitor.kafka.ingest.envelope import plain_event

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"

_edge_ints = st.sampled_from(
    [0, 1, -1, TS_MS_MAX, TS_MS_MAX + 1, BIGINT_MAX, BIGINT_MAX + 1, 2**64, -(2**63) - 1]
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    _edge_ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["123", "99999999999999999999", "abc", " 12", "", "1.5"]),
)
_row = st.dictionaries(st.sampled_from(["ID", "COD_ELP", "id", "x"]), _scalar, max_size=3)
_maybe_row = st.one_of(st.none(), _row, _scalar, st.lists(_scalar, max_size=2))
_digits = st.integers(min_value=0, max_value=2**66).map(str)
_good_seq = st.one_of(st.none(), st.integers(min_value=0, max_value=BIGINT_MAX), _digits)
_good_text = st.one_of(st.none(), st.text(max_size=4))


# Mostly valid, each field sometimes anything: the plain path must decline what is wrong.
_good_source = st.fixed_dictionaries(
    {"ts_ms": st.integers(min_value=0, max_value=TS_MS_MAX)},
    optional={
        "scn": _good_seq,
        "commit_scn": _good_seq,
        "pos": st.one_of(st.none(), st.integers(min_value=0, max_value=BIGINT_MAX)),
        "connector": _good_text,
        "db": _good_text,
        "schema": _good_text,
        "table": _good_text,
        "snapshot": st.one_of(st.none(), st.booleans(), st.text(max_size=4)),
        "version": _scalar,
    },
)
_good_payload = st.fixed_dictionaries(
    {"op": st.sampled_from(["c", "u", "r", "d"]), "source": _good_source, "before": _row},
    optional={
        "after": _row,
        "ts_ms": st.one_of(st.none(), st.integers(min_value=0, max_value=TS_MS_MAX)),
        "transaction": _scalar,
    },
)
_SOURCE_KEYS = ("ts_ms", "scn", "commit_scn", "pos", "connector", "db", "schema", "snapshot")
_PAYLOAD_KEYS = ("op", "source", "before", "after", "ts_ms")


def _corrupt(payload: dict[str, Any], where: str | None, value: Any) -> dict[str, Any]:
    """``payload`` with at most one field replaced by ``value`` (or removed: ``...``)."""
    if where is None:
        return payload
    inner, name = where.split(".") if "." in where else (None, where)
    target = dict(payload[inner]) if inner else dict(payload)
    if value is Ellipsis:
        target.pop(name, None)
    else:
        target[name] = value
    return payload | {inner: target} if inner else target


# A valid event, or one with a single field wrong or missing: the plain path must decline it.
_payload = st.builds(
    _corrupt,
    _good_payload,
    st.sampled_from([None, None, *_PAYLOAD_KEYS, *(f"source.{k}" for k in _SOURCE_KEYS)]),
    st.one_of(_scalar, _maybe_row, st.just(...)),
)
_flattened = st.fixed_dictionaries(
    {"__op": st.sampled_from(["c", "u", "d"]), "__source_ts_ms": _edge_ints},
    optional={"ID": _scalar},
)
_schema = st.one_of(
    st.none(),
    st.just({"type": "struct", "fields": [{"field": "after", "fields": []}]}),
    _scalar,
)
_message = st.one_of(
    _payload,
    _flattened,
    st.fixed_dictionaries({"schema": _schema, "payload": st.one_of(_payload, _flattened, _scalar)}),
)


def _same_as_the_contract(raw: bytes) -> None:
    event = plain_event(raw)
    if event is None:
        return  # the decoder asks the contract
    try:
        envelope = DebeziumEnvelope.model_validate_json(raw)
    except ValidationError as error:
        raise AssertionError(f"accepted what the contract refuses: {error}") from None
    payload = envelope.payload
    assert event.op == payload.op
    assert event.row == payload.row
    assert event.ts_ms == payload.source.ts_ms
    assert event.sequence == payload.source.sequence
    assert event.schema == envelope.schema_


@settings(max_examples=1500, deadline=None)
@given(_message)
def test_what_the_plain_path_accepts_the_contract_accepts_the_same(message: Any) -> None:
    raw = json.dumps(message).encode()
    _same_as_the_contract(raw)
    event = plain_event(raw)
    event_kind = "accepted" if event is not None else "declined"
    hypothesis_event(event_kind)  # both must be common (see --hypothesis-show-statistics)


def test_the_golden_contract_messages_read_the_same_on_both_paths() -> None:
    accepted = 0
    for path in sorted(CONTRACTS.glob("*.json")):
        case = json.loads(path.read_text())
        value = case.get("message") if isinstance(case, dict) else None
        if value is None:
            continue
        raw = json.dumps(value).encode()
        _same_as_the_contract(raw)
        accepted += plain_event(raw) is not None
    assert accepted >= 5  # the plain path is the common one, not a rare one


def test_a_plain_event_is_read_and_an_unusual_one_is_left_to_the_contract() -> None:
    row = {"COD_ELP": "RCAED334"}
    plain = {"op": "u", "after": row, "source": {"ts_ms": 5, "scn": "42", "version": "2.7"}}
    event = plain_event(json.dumps({"schema": None, "payload": plain}).encode())
    assert event is not None and (event.op, event.row, event.ts_ms, event.sequence) == (
        "u",
        row,
        5,
        42,
    )
    flattened = {"COD_ELP": "RCAED334", "__op": "u", "__source_ts_ms": 5}
    truncate = {"op": "t", "source": {"ts_ms": 5}}
    huge_scn = plain | {"source": {"ts_ms": 5, "scn": 2**64}}
    for unusual in (flattened, truncate, huge_scn):
        assert plain_event(json.dumps(unusual).encode()) is None
    assert plain_event(b"{not json") is None
