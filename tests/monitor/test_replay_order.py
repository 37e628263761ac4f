"""Replay's reading and ordering: source-time order across topics, bad lines counted, and the
scheduled moments of each replayed day."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.config import load_settings
from monitor.kafka.events import debezium_change
from monitor.replay import ReplayReport, decode_in_time_order, from_directory, scheduled_moments

ELP_TOPIC = "refer.REFER.T_ADE_ACTIVITES"
GROUP_TOPIC = "refer.REFER.T_ADE_GROUPES"


def _line(topic: str, at: datetime, code: str) -> str:
    if topic == ELP_TOPIC:
        row = {"COD_ELP": code, "LIB_ELP": code, "COD_CMP": "12", "ETA_ELP": "O"}
        message = debezium_change(topic, "c", row, at=at, key_columns=["COD_ELP"])
    else:
        row = {"COD_GPE": code, "LIB_GPE": code}
        message = debezium_change(topic, "c", row, at=at, key_columns=["COD_GPE"])
    return json.dumps({"key": message.key, "value": message.value})


def test_changes_of_all_topics_come_in_source_time_order_and_bad_lines_are_counted(
    tmp_path: Path,
) -> None:
    early, late = datetime(2025, 9, 1, 8, tzinfo=UTC), datetime(2025, 9, 2, 8, tzinfo=UTC)
    (tmp_path / f"{ELP_TOPIC}.jsonl").write_text(
        _line(ELP_TOPIC, late, "B") + "\n" + json.dumps({"key": "x", "value": {"op": 1}}) + "\n"
    )
    (tmp_path / f"{GROUP_TOPIC}.jsonl").write_text(_line(GROUP_TOPIC, early, "G") + "\n")
    (tmp_path / "ground_truth.jsonl").write_text('{"not": "an event"}\n')
    report = ReplayReport()
    changes = decode_in_time_order(load_settings(), from_directory(tmp_path), report)
    assert [c.entity for c in changes] == ["group", "elp"]
    assert report.undecodable == {ELP_TOPIC: 1}
    only_groups = list(from_directory(tmp_path, [GROUP_TOPIC]))
    assert [m.topic for m in only_groups] == [GROUP_TOPIC]


def test_daily_pass_and_digest_moments_of_each_local_day() -> None:
    settings = load_settings()
    first = datetime(2025, 9, 1, 3, 0, tzinfo=UTC)  # 05:00 in Paris
    last = datetime(2025, 9, 2, 20, 0, tzinfo=UTC)
    moments = scheduled_moments(settings, first, last)
    assert moments[0] == datetime(2025, 9, 1, 4, 30, tzinfo=UTC)  # 06:30 Paris (summer)
    assert moments[1] == datetime(2025, 9, 1, 5, 30, tzinfo=UTC)  # 07:30, the digests
    assert len(moments) == 6  # 1, 2 and 3 September (the morning after the last day)
