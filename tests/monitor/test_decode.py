"""Decoding Kafka messages into canonical changes, without a broker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.config import SourceSettings
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.store.entities import KEY_SEPARATOR
from tests.fixtures.broker import debezium_event

IP_TOPIC = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS"
ELP_TOPIC = "refer.REFER.T_ADE_ACTIVITES"
RUNS_TOPIC = "lmsjonction.runs"

IP_ROW = {"COD_ETU": "21900001", "COD_ELP": "INF1101", "IDGROUPE": "G1", "DISTANT": "N"}
ELP_ROW = {
    "COD_ELP": "INF1101",
    "LIB_ELP": "Algorithmique",
    "COD_CMP": "SCI",
    "A_DISTANCE": "N",
    "ETA_ELP": "O",
    "PERIODE": "S1",
}


@pytest.fixture
def decoder() -> MessageDecoder:
    return MessageDecoder(SourceSettings())


def _bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrapped", "bare"])
@pytest.mark.parametrize("op", ["c", "u", "r"])
def test_a_written_ip_becomes_a_change_of_its_row(
    decoder: MessageDecoder, op: str, wrapped: bool
) -> None:
    event = debezium_event(IP_ROW, op=op, ts_ms=1_790_000_000_123, scn=42, wrapped=wrapped)

    change = decoder.decode(IP_TOPIC, _bytes(event))

    assert change is not None
    assert change.entity == "ip"
    assert change.key == f"21900001{KEY_SEPARATOR}INF1101"
    assert change.row["group_id"] == "G1"
    assert change.version == (1_790_000_000_123, 42)
    assert not change.deleted


def test_a_deleted_ip_is_a_tombstoning_change_of_the_before_row(decoder: MessageDecoder) -> None:
    change = decoder.decode(IP_TOPIC, _bytes(debezium_event(IP_ROW, op="d")))

    assert change is not None
    assert change.deleted
    assert change.row["cod_etu"] == "21900001"


def test_a_truncate_tombstones_the_whole_entity(decoder: MessageDecoder) -> None:
    event = {"op": "t", "source": {"ts_ms": 1_790_000_000_000}}

    change = decoder.decode(IP_TOPIC, _bytes(event))

    assert change is not None
    assert change.truncate


def test_a_kafka_tombstone_has_nothing_to_apply(decoder: MessageDecoder) -> None:
    assert decoder.decode(IP_TOPIC, None) is None


def test_a_finished_run_report_becomes_a_sync_run_change(decoder: MessageDecoder) -> None:
    report = {
        "run_id": "2026-11-30",
        "started_at": "2026-11-30T02:00:00+01:00",
        "finished_at": "2026-11-30T03:10:00+01:00",
        "status": "success",
        "messages": [{"level": "warning", "code": "w9", "cod_elp": "INF1101"}],
    }

    change = decoder.decode(RUNS_TOPIC, _bytes(report))

    assert change is not None
    assert change.entity == "sync_run"
    assert change.key == "2026-11-30"
    assert change.source_seq == 1


PERSONAL = "21999999"

INVALID: list[tuple[str, str, bytes]] = [
    ("not json", IP_TOPIC, b"{not json"),
    ("not utf-8", IP_TOPIC, b"\xff\xfe\x00"),
    ("empty", IP_TOPIC, b""),
    ("json array", IP_TOPIC, b"[1, 2]"),
    ("no source", IP_TOPIC, _bytes({"op": "c", "after": {"COD_ETU": PERSONAL}})),
    (
        "create without after",
        IP_TOPIC,
        _bytes({"op": "c", "after": None, "source": {"ts_ms": 1}}),
    ),
    ("unknown op", IP_TOPIC, _bytes(debezium_event(IP_ROW, op="x"))),
    (
        "unknown status code",
        ELP_TOPIC,
        _bytes(debezium_event(ELP_ROW | {"ETA_ELP": "Z"}, table="T_ADE_ACTIVITES")),
    ),
    (
        "missing key column",
        IP_TOPIC,
        _bytes(debezium_event({"COD_ETU": PERSONAL, "IDGROUPE": "G1"})),
    ),
    ("not a number", IP_TOPIC, _bytes(debezium_event(IP_ROW | {"ANNEE": "deux mille"}))),
    ("unknown topic", "refer.REFER.T_UNKNOWN", _bytes(debezium_event(IP_ROW))),
    ("run report not json", RUNS_TOPIC, b"running"),
    (
        "run report without finish",
        RUNS_TOPIC,
        _bytes({"run_id": "r1", "started_at": "2026-11-30T02:00:00+01:00", "status": "failed"}),
    ),
]

EXPECTED_KIND = {
    "not json": "not_json",
    "not utf-8": "not_json",
    "empty": "not_json",
    "json array": "invalid_event",
    "no source": "invalid_event",
    "create without after": "invalid_event",
    "unknown op": "invalid_event",
    "unknown status code": "unmappable_row",
    "missing key column": "unmappable_row",
    "not a number": "unmappable_row",
    "unknown topic": "unknown_topic",
    "run report not json": "not_json",
    "run report without finish": "invalid_event",
}


@pytest.mark.parametrize(("case", "topic", "value"), INVALID, ids=[c[0] for c in INVALID])
def test_a_bad_message_is_invalid_with_its_reason_kind(
    decoder: MessageDecoder, case: str, topic: str, value: bytes
) -> None:
    with pytest.raises(InvalidMessage) as raised:
        decoder.decode(topic, value)

    assert raised.value.reason_kind == EXPECTED_KIND[case]
    assert raised.value.detail


def test_a_validation_error_does_not_repeat_the_personal_data_it_saw(
    decoder: MessageDecoder,
) -> None:
    value = _bytes({"op": "c", "after": {"COD_ETU": PERSONAL, "NOM": "Dupont"}})

    with pytest.raises(InvalidMessage) as raised:
        decoder.decode(IP_TOPIC, value)

    assert PERSONAL not in raised.value.detail
    assert "Dupont" not in raised.value.detail
    assert "source" in raised.value.detail


def test_an_unknown_code_names_the_column_and_the_code(decoder: MessageDecoder) -> None:
    value = _bytes(debezium_event(ELP_ROW | {"ETA_ELP": "Z"}, table="T_ADE_ACTIVITES"))

    with pytest.raises(InvalidMessage) as raised:
        decoder.decode(ELP_TOPIC, value)

    assert "ETA_ELP" in raised.value.detail
    assert "'Z'" in raised.value.detail
