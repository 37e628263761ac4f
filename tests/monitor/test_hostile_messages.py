"""Regressions: each message class that once crashed the worker or stored junk is now dead-lettered."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.config import SourceSettings
from monitor.kafka.ingest.dead_letter import MAX_VALUE_BYTES, dead_letter_key, dead_letter_value
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.kafka.mapping import InvalidRow, map_row
from tests.fixtures.broker import debezium_event

IP = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS"
ELP = "refer.REFER.T_ADE_ACTIVITES"
SEANCES = "ade.ADE.SEANCES"
ENROLMENTS = "moodle.moodle.mdl_user_enrolments"
RUNS = "lmsjonction.runs"

IP_ROW = {"COD_ETU": "21900001", "COD_ELP": "INF1101", "IDGROUPE": "G1", "DISTANT": "N"}
ELP_ROW = {"COD_ELP": "INF1101", "LIB_ELP": "Algo", "COD_CMP": "SCI", "ETA_ELP": "O"}
ENROLMENT_ROW = {"id": 1, "enrolid": 2, "userid": 3, "timestart": 0, "timeend": 0, "status": 0}


@pytest.fixture(scope="module")
def decoder() -> MessageDecoder:
    return MessageDecoder(SourceSettings())


def _event(row: dict[str, Any], **kwargs: Any) -> bytes:
    return json.dumps(debezium_event(row, **kwargs)).encode()


def _reason(decoder: MessageDecoder, topic: str, value: bytes) -> str:
    with pytest.raises(InvalidMessage) as raised:
        decoder.decode(topic, value)
    return raised.value.reason_kind


@pytest.mark.parametrize(
    ("topic", "value"),
    [
        (ENROLMENTS, _event(ENROLMENT_ROW | {"id": 2**63})),
        (ENROLMENTS, _event(ENROLMENT_ROW | {"enrolid": -(2**63) - 1})),
        (ENROLMENTS, _event(ENROLMENT_ROW | {"userid": 10**40})),
        (IP, _event(IP_ROW | {"ANNEE": 2**64})),
    ],
    ids=["key-2^63", "below-min", "text-from-huge-int", "year-2^64"],
)
def test_an_integer_beyond_64_bits_is_dead_lettered_not_stored(
    decoder: MessageDecoder, topic: str, value: bytes
) -> None:
    assert _reason(decoder, topic, value) == "unmappable_row"


def test_an_scn_beyond_64_bits_is_an_invalid_event(decoder: MessageDecoder) -> None:
    assert _reason(decoder, IP, _event(IP_ROW, scn=2**64)) == "invalid_event"


@pytest.mark.parametrize("ts_ms", ["1e20", "1e300", "-1", "99999999999999999999999"])
def test_an_absurd_source_time_is_an_invalid_event(decoder: MessageDecoder, ts_ms: str) -> None:
    event = json.dumps(debezium_event(IP_ROW, ts_ms=0)).replace('"ts_ms": 0', f'"ts_ms": {ts_ms}')
    assert _reason(decoder, IP, event.encode()) == "invalid_event"


@pytest.mark.parametrize("start", [1e20, -1e20, "1e300"])
def test_an_absurd_date_in_a_row_is_unmappable(decoder: MessageDecoder, start: Any) -> None:
    row = {"ID_SEANCE": "S1", "ID_FICHE": "F1", "DEBUT": start}
    assert _reason(decoder, SEANCES, _event(row)) == "unmappable_row"


def test_a_run_report_with_a_naive_start_and_an_aware_end_is_invalid(
    decoder: MessageDecoder,
) -> None:
    report = {
        "run_id": "r1",
        "started_at": "2026-11-30T02:00:00",
        "finished_at": "2026-11-30T03:00:00+01:00",
        "status": "success",
    }
    assert _reason(decoder, RUNS, json.dumps(report).encode()) == "invalid_event"


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_a_run_report_dated_at_the_edge_of_time_is_invalid(
    decoder: MessageDecoder, year: str
) -> None:
    report = {"run_id": "r1", "started_at": f"{year}-01-01T00:00:00-12:00", "status": "running"}
    assert _reason(decoder, RUNS, json.dumps(report).encode()) == "invalid_event"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("COD_ETU", [None]),
        ("COD_ETU", {"a": 1}),
        ("COD_ETU", True),
        ("COD_ETU", 2.5),
        ("IDGROUPE", ["G1"]),
        ("IDGROUPE", {"G": 1}),
        ("IDGROUPE", False),
        ("IDGROUPE", 1.5),
        ("DISTANT", ["O"]),
        ("ANNEE", True),
        ("ANNEE", "2019.5"),
        ("ANNEE", [2019]),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_containers_booleans_and_floats_never_become_text(
    decoder: MessageDecoder, column: str, value: Any
) -> None:
    assert _reason(decoder, IP, _event(IP_ROW | {column: value})) == "unmappable_row"


@pytest.mark.parametrize("column", ["enrolid", "status", "timestart"])
def test_a_boolean_in_a_moodle_integer_column_that_is_no_flag_is_unmappable(
    decoder: MessageDecoder, column: str
) -> None:
    """Only Moodle's TINYINT(1) flags (``flag_columns``) read ``true``/``false`` as 1/0."""
    assert _reason(decoder, ENROLMENTS, _event(ENROLMENT_ROW | {column: True})) == "unmappable_row"


def test_a_moodle_flag_sent_as_a_boolean_is_read_as_0_or_1(decoder: MessageDecoder) -> None:
    row = {"id": 3, "username": "jdoe", "deleted": False, "suspended": True}
    change = decoder.decode("moodle.moodle.mdl_user", _event(row, table="mdl_user"))
    assert change is not None
    assert (change.row["deleted"], change.row["suspended"]) == (0, 1)
    assert type(change.row["deleted"]) is int


def test_a_label_longer_than_its_column_is_unmappable(decoder: MessageDecoder) -> None:
    value = _event(ELP_ROW | {"LIB_ELP": "x" * 5_000_000}, table="T_ADE_ACTIVITES")
    with pytest.raises(InvalidMessage) as raised:
        decoder.decode(ELP, value)
    assert raised.value.reason_kind == "unmappable_row"
    assert "5000000 characters" in raised.value.detail


def test_a_lone_surrogate_is_dead_lettered(decoder: MessageDecoder) -> None:
    value = _event(IP_ROW).replace(b'"G1"', b'"G\\ud800"')
    assert _reason(decoder, IP, value) == "not_json"  # pydantic's JSON parser refuses it


def test_a_lone_surrogate_never_reaches_the_store() -> None:
    mapping = SourceSettings().topics[IP]
    with pytest.raises(InvalidRow, match="not valid Unicode"):
        map_row(mapping, IP_ROW | {"IDGROUPE": "G\ud800"}, datetime(2026, 1, 1, tzinfo=UTC))


def test_a_key_longer_than_the_store_s_key_column_is_unmappable(decoder: MessageDecoder) -> None:
    row = {"courseid": 1, "groupidnumber": "g" * 255, "userid": "u" * 255}
    assert _reason(decoder, "moodle.moodle.mdl_groups_members", _event(row)) == "unmappable_row"


class _Huge:
    topic = IP
    partition = 0
    offset = 7
    timestamp = 1
    key = b"k" * 100_000
    value = b"{" + b"x" * 5_000_000


def test_the_dead_letter_record_of_a_5_mb_message_fits_the_broker_limit() -> None:
    error = InvalidMessage("not_json", "E" * 100_000)

    record = dead_letter_value(_Huge(), error)

    assert len(record) < 1_000_000
    parsed = json.loads(record)
    assert parsed["original_value_truncated"] is True
    assert parsed["original_value_size"] == len(_Huge.value)
    assert parsed["original_value_sha256"] == hashlib.sha256(_Huge.value).hexdigest()
    assert base64.b64decode(parsed["original_value_b64"]) == _Huge.value[:MAX_VALUE_BYTES]
    assert len(parsed["error"]) < 2100
    assert len(dead_letter_key(_Huge.key) or b"") == 64


def test_a_small_message_is_kept_whole_in_its_dead_letter_record() -> None:
    class Small(_Huge):
        key = b"21900001"
        value = b"{not json"

    parsed = json.loads(dead_letter_value(Small(), InvalidMessage("not_json", "bad")))

    assert base64.b64decode(parsed["original_value_b64"]) == b"{not json"
    assert parsed["original_value_truncated"] is False
    assert dead_letter_key(Small.key) == b"21900001"
