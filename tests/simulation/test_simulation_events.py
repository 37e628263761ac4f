"""The events: deterministic, shaped like the sources, and decoded by the daemon's own mapping."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from simulation_fixtures import SNAPSHOT, PlayedSimulation, by_topic
from typer.testing import CliRunner

from monitor.config import load_settings
from monitor.kafka.events import OutgoingMessage, encode
from monitor.kafka.ingest.decode import MessageDecoder
from monitor.kafka.mapping import fact_to_row
from monitor.simulation import (
    JsonLinesWriter,
    Simulation,
    SourceCodec,
    University,
    read_jsonl,
    read_truth,
)
from monitor.simulation.command import parse_start, simulate
from monitor.simulation.university import MOODLE_ENTITIES, SOURCE_ENTITIES
from monitor.store.moodle_rows import RAW_FACTS

DIGEST_SCRIPT = """
import hashlib, json
from monitor.simulation import Simulation
digest = hashlib.sha256()
for m in Simulation("tiny", seed=9, nights=1).events():
    digest.update(json.dumps([m.topic, m.key, m.value], sort_keys=True).encode())
print(digest.hexdigest())
"""


def _digest(messages: list[OutgoingMessage]) -> str:
    digest = hashlib.sha256()
    for m in messages:
        digest.update(json.dumps([m.topic, m.key, m.value], sort_keys=True).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def one_night() -> list[OutgoingMessage]:
    """``tiny``, seed 9, one night: the events of the script above, made in this process."""
    return list(Simulation("tiny", seed=9, nights=1).events())


def _other_hash_seed() -> str:
    """A PYTHONHASHSEED that hashes strings otherwise than this process does."""
    here = os.environ.get("PYTHONHASHSEED")
    if here is None or here == "random":
        return "0"  # this process hashes with a random seed, 0 turns randomisation off
    return str((int(here) + 1) % 4294967296)


@pytest.mark.slow
def test_same_seed_gives_the_same_events_in_any_process(one_night: list[OutgoingMessage]) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": _other_hash_seed()}
    out = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT],
        capture_output=True, text=True, check=True, env=env, cwd=root,
    )  # fmt: skip
    assert out.stdout.strip() == _digest(one_night)


def test_every_event_decodes_through_the_daemon_s_mapping(
    every_fault_tiny: PlayedSimulation,
) -> None:
    decoder = MessageDecoder(load_settings().sources)
    entities = set()
    for message in every_fault_tiny.messages:
        change = decoder.decode(message.topic, encode(message.value))
        if message.value is None:
            assert change is None  # Debezium's tombstone after a delete
            continue
        assert change is not None
        entities.add(change.entity)
    # Moodle's side is Moodle's own tables, every one of them.
    assert entities == {*SOURCE_ENTITIES, *RAW_FACTS, "sync_run"}


def test_the_snapshot_decodes_back_to_the_generated_facts(clean_small: University) -> None:
    settings = load_settings()
    decoder = MessageDecoder(settings.sources)
    codec = SourceCodec(settings.sources)
    for entity in SOURCE_ENTITIES:
        for fact in list(clean_small.tables[entity].values())[:500]:
            message = codec.event(entity, "r", fact, SNAPSHOT)
            change = decoder.decode(message.topic, encode(message.value))
            assert change is not None
            assert change.row == fact_to_row(fact), entity
    # The Moodle views go out as Moodle rows: tests/monitor/test_moodle_views.py resolves them back.
    for entity in MOODLE_ENTITIES:
        for fact in list(clean_small.tables[entity].values())[:500]:
            for message in codec.events(entity, "r", fact, SNAPSHOT):
                change = decoder.decode(message.topic, encode(message.value))
                assert change is not None and change.entity.startswith("mdl_")


def test_events_come_in_source_time_order_with_rising_sequence_numbers(
    every_fault_tiny: PlayedSimulation,
) -> None:
    times, sequences = [], []
    for message in every_fault_tiny.messages:
        if message.value is None or "source" not in message.value:
            continue
        source = message.value["source"]
        times.append(source["ts_ms"])
        sequences.append(int(source.get("scn") or source["pos"]))
    assert times == sorted(times)
    assert sequences == list(range(1, len(sequences) + 1))


def test_the_first_day_is_a_snapshot_then_changes(every_fault_tiny: PlayedSimulation) -> None:
    simulation = every_fault_tiny.simulation
    ops = [m.value["op"] for m in every_fault_tiny.messages if m.value and "op" in m.value]
    size = simulation.snapshot_size()
    assert set(ops[:size]) == {"r"}
    assert set(ops[size:]) <= {"c", "u", "d"}
    for topic, messages in by_topic(every_fault_tiny.messages):
        for before, after in itertools.pairwise(messages):
            if before.value is not None and before.value.get("op") == "d":
                assert after.value is None and after.key == before.key, topic


def test_json_lines_files_hold_one_topic_each(
    one_night: list[OutgoingMessage], tmp_path: Path
) -> None:
    messages = one_night
    with JsonLinesWriter(tmp_path) as writer:
        for message in messages:
            writer.write(message)
    replayed = [m for path in sorted(tmp_path.glob("*.jsonl")) for m in read_jsonl(path)]
    assert sorted(replayed, key=repr) == sorted(messages, key=repr)


def test_simulate_command_writes_events_truth_and_summary(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(simulate)
    faults = tmp_path / "faults.yaml"
    faults.write_text("default: 0\nstudents_not_enrolled:\n  foad_case_a: 2\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["--scale", "tiny", "--nights", "1", "--seed", "3", "--out", str(out),
              "--faults", str(faults), "--start", "2026-11-02"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "simulation.json").read_text())
    assert summary["start"] == "2026-11-02" and summary["faults"] == 2
    for topic, count in summary["events"].items():
        assert sum(1 for _ in (out / f"{topic}.jsonl").open()) == count
    truth = read_truth(out / "ground_truth.jsonl")
    assert {r["fault"] for r in truth if r["primary"]} == {"students_not_enrolled.foad_case_a"}


def test_simulate_command_needs_a_destination() -> None:
    app = typer.Typer()
    app.command()(simulate)
    result = CliRunner().invoke(app, ["--nights", "1"])
    assert result.exit_code != 0
    assert "destination" in result.output


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, date(2026, 10, 5)),
        ("2026-11-02", date(2026, 11, 2)),
        ("2026-11-02T08:00", date(2026, 11, 2)),
    ],
)
def test_start_dates(value: str | None, expected: date) -> None:
    assert parse_start(value, nights=2) == expected


def test_start_now_ends_the_last_night_this_morning() -> None:
    start = parse_start("now", nights=3)
    assert date.today() - start in (timedelta(days=3), timedelta(days=2), timedelta(days=4))
