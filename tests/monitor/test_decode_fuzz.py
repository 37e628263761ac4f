"""Fuzzing the decoder and the store: every message applies or is dead-lettered, nothing crashes.

Hypothesis generates batches of messages of every class issue 9 names
(integers beyond 64 bits, absurd times, naive/aware run reports, messages
over 500 KB, containers, booleans and floats in any field including keys,
labels longer than their column, garbage bytes) among valid Debezium events
of every default topic. Each batch is decoded, and what decodes is applied to
the real store (SQLite and MariaDB) and read back as facts. A valid event
must decode, and its row must be in the store.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from monitor.config import SourceSettings, TopicMapping
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.kafka.ingest.isolate import persist_isolating
from monitor.kafka.ingest.persist import PartitionProgress
from monitor.kafka.mapping import _choices
from monitor.store.entities import ENTITIES, KEY_SEPARATOR
from monitor.store.rows import load_rows
from monitor.store.schema import fact_tables

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SOURCES = SourceSettings()
TOPICS = sorted(SOURCES.topics)
RUNS = SOURCES.runs_topic
BATCH = 20
EXAMPLES = 110  # x BATCH >= 2,000 messages per backend
MAX_TS = 7_258_118_399_999
_UNIT_MAX = {"ms": 7_258_118_399_999, "s": 7_258_118_399, "us": 7_258_118_399_999_999}

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=KEY_SEPARATOR),
    min_size=1,
    max_size=40,
)
# Key fields as APOGÉE, ADE and Moodle write them. MariaDB's default collation compares keys
# without case or accents ("é" = "E"): the later of two such keys is dead-lettered
# (test_store_isolation), which this test's "every valid fact applied" would count as a loss.
key_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1, max_size=40)
hostile = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.one_of(st.none(), st.integers(), text), max_size=3),
    st.dictionaries(text, st.integers(), max_size=2),
    st.fixed_dictionaries(
        {"scale": st.integers(-200, 200), "value": st.sampled_from(["AQ==", "", "@@"])}
    ),
    st.sampled_from(["x" * 256, "é" * 300, "1e20", "9" * 30, "2026-13-45", "\x00"]),
    text,
)


def valid_value(mapping: TopicMapping, column: str, field: str) -> st.SearchStrategy[Any]:
    kind = ENTITIES[mapping.entity].fields()[field]
    if field in mapping.values:
        return st.sampled_from(sorted(mapping.values[field]))
    choices = _choices(ENTITIES[mapping.entity].fact).get(field)
    if choices:
        return st.sampled_from(sorted(choices))
    if kind == "int":
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if kind == "bool":
        return st.sampled_from(["O", "N", 0, 1, True, False])
    if kind == "datetime":
        return st.integers(min_value=1, max_value=_UNIT_MAX[mapping.time_units.get(field, "ms")])
    if kind == "list":
        return st.lists(text, max_size=3)
    return key_text if field in ENTITIES[mapping.entity].key_fields else text


@st.composite
def valid_event(draw: st.DrawFn) -> tuple[str, str, bytes]:
    topic = draw(st.sampled_from(TOPICS))
    mapping = SOURCES.topics[topic]
    row = {c: draw(valid_value(mapping, c, f)) for c, f in mapping.columns.items()}
    op = draw(st.sampled_from(["c", "u", "r", "d"]))
    payload = {
        "op": op,
        "before": row if op == "d" else None,
        "after": None if op == "d" else row,
        "source": {"ts_ms": draw(st.integers(0, MAX_TS)), "scn": str(draw(st.integers(0, 2**62)))},
    }
    wrapped = draw(st.booleans())
    value = {"schema": {"type": "struct"}, "payload": payload} if wrapped else payload
    return "valid", topic, json.dumps(value).encode()


@st.composite
def hostile_event(draw: st.DrawFn) -> tuple[str, str, bytes]:
    _, topic, raw = draw(valid_event())
    value = json.loads(raw)
    payload = value.get("payload", value)
    row = payload["before"] or payload["after"]
    column = draw(st.sampled_from(sorted(row)))
    where = draw(st.sampled_from(["field", "field", "ts_ms", "scn", "op", "flatten"]))
    if where == "field":
        row[column] = draw(hostile)
    elif where == "ts_ms":
        payload["source"]["ts_ms"] = draw(hostile)
    elif where == "scn":
        payload["source"]["scn"] = draw(hostile)
    elif where == "op":
        payload["op"] = draw(hostile)
    else:
        value = row | {"__op": draw(hostile), "__source_ts_ms": draw(hostile)}
    return f"hostile_{where}", topic, json.dumps(value).encode()


@st.composite
def run_report(draw: st.DrawFn) -> tuple[str, str, bytes]:
    zone = st.sampled_from(["", "+01:00", "Z", "-12:00"])
    year = draw(st.sampled_from(["0001", "1970", "2026", "9999"]))
    report: dict[str, Any] = {
        "run_id": draw(st.one_of(text, hostile)),
        "started_at": f"{year}-11-30T02:00:00{draw(zone)}",
        "finished_at": draw(st.one_of(st.none(), st.just(f"2026-11-30T03:00:00{draw(zone)}"))),
        "status": draw(st.sampled_from(["running", "success", "failed", "?"])),
        "counters": {"created": draw(st.one_of(st.integers(0, 10), hostile))},
    }
    return "run_report", RUNS, json.dumps(report).encode()


BIG = json.dumps({"op": "c", "after": {"LIB_ELP": "x" * 600_000}, "source": {"ts_ms": 1}})
raw_bytes = st.tuples(
    st.just("garbage"),
    st.sampled_from([*TOPICS, RUNS, "unknown.topic", "__debezium-heartbeat.refer", "refer"]),
    st.one_of(st.binary(max_size=60), st.just(BIG.encode()), st.just(b"null"), st.just(b"[]")),
)
message = st.one_of(valid_event(), valid_event(), hostile_event(), run_report(), raw_bytes)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_message_crashes_the_decoder_or_the_store_and_valid_facts_are_applied(
    store_engine: Engine,
) -> None:
    decoder = MessageDecoder(SOURCES)
    seen: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(message, min_size=BATCH, max_size=BATCH))
    def batch_applies(batch: list[tuple[str, str, bytes]]) -> None:
        changes, origins, valid_keys = [], [], []
        progress: dict[tuple[str, int], PartitionProgress] = {}
        for offset, (kind, topic, value) in enumerate(batch):
            seen[kind] += 1
            try:
                change = decoder.decode(topic, value)
            except InvalidMessage:
                assert kind != "valid", "a valid event was dead-lettered"
                continue
            if change is None:
                continue
            changes.append(change)
            origins.append(_Origin(topic, offset))
            progress.setdefault((topic, 0), PartitionProgress(topic, 0)).consumed(offset)
            if kind == "valid":
                valid_keys.append((change.entity, change.key))
        _, refused = persist_isolating(store_engine, changes, origins, progress, NOW)
        assert refused == [], "the store refused what the decoder accepted"
        with store_engine.connect() as conn:
            for entity, key in valid_keys:
                table = fact_tables[entity]
                assert conn.execute(select(table.c.key).where(table.c.key == key)).first()
            for entity in {c.entity for c in changes}:
                load_rows(conn, entity)  # what was stored reads back as facts
                load_rows(conn, entity, tombstones=True)

    batch_applies()

    assert sum(seen.values()) >= 2000
    assert set(seen) >= {"valid", "hostile_field", "hostile_ts_ms", "run_report", "garbage"}


class _Origin:
    def __init__(self, topic: str, offset: int) -> None:
        self.topic, self.partition, self.offset = topic, 0, offset
        self.timestamp, self.key, self.value = 0, None, b""
