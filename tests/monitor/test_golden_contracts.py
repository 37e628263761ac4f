"""Debezium as Debezium sends it: every golden message of ``tests/contracts/`` gives its expected fact.

Each JSON file holds a message built from Debezium's documentation (the
envelope, the Oracle and MySQL connectors' type tables, ExtractNewRecordState),
the topic it arrives on, optionally the topic mapping's ``decimal_scales``, and
what the decoder must make of it: a canonical change, nothing (a tombstone),
or an ignored message of Debezium's own topics.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from monitor.config import SourceSettings
from monitor.kafka.ingest.decode import MessageDecoder
from monitor.metrics import Metrics

GOLDEN = Path(__file__).resolve().parent.parent / "contracts"
CASES = sorted(GOLDEN.glob("*.json"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _decoder(case: dict[str, Any], registry: CollectorRegistry) -> MessageDecoder:
    sources = SourceSettings()
    scales = case.get("decimal_scales")
    if scales:
        topics = dict(sources.topics)
        topics[case["topic"]] = topics[case["topic"]].model_copy(update={"decimal_scales": scales})
        sources = SourceSettings(topics=topics)
    return MessageDecoder(sources, Metrics(registry))


def test_there_is_a_golden_message_for_every_encoding() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_a_golden_message_decodes_to_its_expected_fact(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    registry = CollectorRegistry()
    decoder = _decoder(case, registry)
    value = None if case["message"] is None else json.dumps(case["message"]).encode()
    expected = case["expected"]

    change = decoder.decode(case["topic"], value)

    if "ignored" in expected:
        assert change is None
        counted = registry.get_sample_value(
            "ecampus_monitor_events_ignored_total", {"kind": expected["ignored"]}
        )
        assert counted == 1
        return
    if expected.get("nothing"):
        assert change is None
        return
    assert change is not None
    assert (change.entity, change.key, list(change.version)) == (
        expected["entity"],
        expected["key"],
        expected["version"],
    )
    assert change.truncate == expected.get("truncate", False)
    assert change.deleted == expected.get("deleted", False)
    if "row" in expected:
        assert {k: _plain(v) for k, v in change.row.items()} == expected["row"]
