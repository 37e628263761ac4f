"""``ecampus-monitor check-sources`` as an operator runs it: a real process against a real broker.

The broker is this module's own: the check reads the default topics from the
beginning, which other tests of the session write to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer

from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import OutgoingMessage, debezium_change, publish
from tests.integration.university_slice import SNAPSHOT, SliceBuilder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(log_dir=tmp_path_factory.mktemp("tansu-check"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _check(broker: EmbeddedBroker, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env["ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS"] = json.dumps([broker.bootstrap_servers])
    env["ECAMPUS_MONITOR_STORE__URL"] = f"sqlite:///{tmp_path / 'unused.sqlite'}"
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check-sources", "--sample", "500"],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _publish(broker: EmbeddedBroker, messages: list[OutgoingMessage]) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    try:
        list(publish(producer, messages))
    finally:
        producer.close()


def test_a_clean_slice_passes_then_bad_rows_are_named_by_topic_and_key(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    _publish(own_broker, SliceBuilder().build())
    clean = _check(own_broker, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no problem found" in clean.stdout, clean.stdout

    bad = [
        # The Moodle contract this project once invented: no Moodle has these columns.
        debezium_change(
            "moodle.moodle.mdl_groups_members", "r",
            {"courseid": 10, "groupidnumber": "HISTD1", "userid": "e22600000"},
            at=SNAPSHOT, key_columns=["courseid", "groupidnumber", "userid"],
        ),
        debezium_change(
            "refer.REFER.T_ADE_ACTIVITES", "r",
            {"COD_ELP": "HSL1BAD", "LIB_ELP": "Élément", "COD_CMP": "12", "ETA_ELP": "Z",
             "PERIODE": "AN", "ANNEE": 2026},
            at=SNAPSHOT, key_columns=["COD_ELP"],
        ),
        # A user id no mdl_user row names: it maps, but resolves to nobody.
        debezium_change(
            "moodle.moodle.mdl_user_enrolments", "r",
            {"id": 77777, "status": 0, "enrolid": 30, "userid": 99999, "timestart": 0,
             "timeend": 0},
            at=SNAPSHOT, key_columns=["id"],
        ),
    ]  # fmt: skip
    _publish(own_broker, bad)
    checked = _check(own_broker, tmp_path)
    out = checked.stdout + checked.stderr
    assert checked.returncode == 1, out
    assert "2 message(s) would be dead-lettered" in out
    lines = out.splitlines()

    def line_of(*words: str) -> str:
        found = [line for line in lines if all(w in line for w in words)]
        assert len(found) == 1, (words, out)
        return found[0]

    assert "yes" in line_of("moodle.moodle.mdl_groups_members", "unmappable_row: column userid")
    assert "yes" in line_of("refer.REFER.T_ADE_ACTIVITES", "unknown code 'Z'", "HSL1BAD")
    unresolved = line_of("moodle.moodle.mdl_user_enrolments", "no mdl_user row", "77777")
    assert "no" in unresolved.split("│")[5]  # mapped, not dead-lettered: resolves to nobody
    assert "Nom0" not in out and "@etu.univ.fr" not in out  # keys only, no personal data
