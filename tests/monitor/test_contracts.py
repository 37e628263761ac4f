"""The Kafka contracts: Debezium envelopes as the JSON converter writes them, run reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from monitor.kafka.contracts import DebeziumEnvelope, SyncRunReport
from monitor.kafka.contracts_schema import CONTRACTS_DIR, render, schemas

ROW = {"COD_ELP": "RCAED334", "LIB_ELP": "Droit civil", "A_DISTANCE": "N"}
SOURCE = {"ts_ms": 1764460800000, "scn": "99887766", "table": "T_ADE_ACTIVITES", "schema": "REFER"}


def _payload(op: str, **extra: object) -> dict[str, object]:
    before = ROW if op in ("u", "d") else None
    after = ROW if op in ("c", "u", "r") else None
    return {"op": op, "before": before, "after": after, "source": SOURCE, **extra}


@pytest.mark.parametrize("op", ["c", "u", "r"])
def test_bare_and_wrapped_envelopes_give_the_same_payload(op: str) -> None:
    bare = DebeziumEnvelope.model_validate_json(json.dumps(_payload(op)))
    wrapped = DebeziumEnvelope.model_validate_json(
        json.dumps({"schema": {"type": "struct"}, "payload": _payload(op)})
    )
    assert bare.payload == wrapped.payload
    assert bare.payload.row == ROW
    assert bare.payload.source.sequence == 99887766


def test_delete_event_carries_the_row_before() -> None:
    envelope = DebeziumEnvelope.model_validate_json(json.dumps(_payload("d")))
    assert envelope.payload.op == "d"
    assert envelope.payload.row == ROW
    assert envelope.payload.source_time == datetime(2025, 11, 30, tzinfo=UTC)


def test_truncate_event_has_no_row() -> None:
    envelope = DebeziumEnvelope.model_validate_json(json.dumps(_payload("t")))
    assert envelope.payload.row is None


@pytest.mark.parametrize(
    "payload",
    [
        {"op": "c", "after": None, "source": SOURCE},
        {"op": "d", "before": None, "source": SOURCE},
        {"op": "x", "after": ROW, "source": SOURCE},
        {"op": "c", "after": ROW, "source": {"table": "T"}},
    ],
    ids=["create-without-after", "delete-without-before", "unknown-op", "no-source-ts"],
)
def test_malformed_envelopes_are_rejected(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DebeziumEnvelope.model_validate_json(json.dumps(payload))


def test_mysql_binlog_position_orders_changes() -> None:
    source = {"ts_ms": 1, "pos": 4242, "connector": "mysql"}
    envelope = DebeziumEnvelope.model_validate({"op": "c", "after": {"id": 1}, "source": source})
    assert envelope.payload.source.sequence == 4242


def test_run_report_needs_an_end_once_finished() -> None:
    with pytest.raises(ValidationError, match="needs finished_at"):
        SyncRunReport.model_validate(
            {"run_id": "r1", "started_at": "2026-11-30T01:00:00+01:00", "status": "success"}
        )


def test_run_report_refuses_naive_dates() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        SyncRunReport.model_validate(
            {"run_id": "r1", "started_at": "2026-11-30T01:00:00", "status": "running"}
        )


def test_run_report_with_messages() -> None:
    report = SyncRunReport.model_validate(
        {
            "run_id": "2026-11-30",
            "started_at": "2026-11-30T01:00:00+01:00",
            "finished_at": "2026-11-30T03:10:00+01:00",
            "status": "success",
            "counters": {"created": 2, "archived": 1},
            "messages": [{"level": "error", "code": "Insc. BDD", "cod_elp": "RCAED334"}],
        }
    )
    assert report.counters.archived == 1
    assert report.messages[0].code == "Insc. BDD"


def test_published_json_schemas_are_current() -> None:
    """`python -m monitor.kafka.contracts_schema` regenerates them when this fails."""
    for name, schema in schemas().items():
        path = CONTRACTS_DIR / name
        assert path.is_file(), f"{path} missing"
        assert path.read_text(encoding="utf-8") == render(schema), f"{name} is out of date"
