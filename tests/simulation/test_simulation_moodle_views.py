"""Moodle as Moodle is: the simulated Moodle, sent as Moodle's own rows, resolves back in the store.

The simulator writes its canonical Moodle (courses, instances with a role,
enrolments by account uid, group members by idnumber) as rows of Moodle's
tables with numeric ids (``moodle_source``); the store resolves those rows
into the views detectors read (``moodle_views``). Both sides are written
independently: what goes out must come back, whatever order the rows arrive in.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from simulation_fixtures import SNAPSHOT
from sqlalchemy import Engine

from detectors.facts import EPOCH
from detectors.state import FactSet
from monitor.config import load_settings
from monitor.kafka.events import encode
from monitor.kafka.ingest.decode import MessageDecoder
from monitor.kafka.mapping import Change
from monitor.simulation import SourceCodec, University
from monitor.simulation.university import MOODLE_ENTITIES
from monitor.store.apply import apply_changes
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.snapshot import load_facts

pytestmark = pytest.mark.slow

DATABASE_ONLY = MoodleSettings()


def _moodle_changes(uni: University) -> list[Change]:
    settings = load_settings()
    decoder = MessageDecoder(settings.sources)
    codec = SourceCodec(settings.sources)
    changes = []
    for entity in MOODLE_ENTITIES:
        for fact in uni.tables[entity].values():
            for message in codec.events(entity, "r", fact, SNAPSHOT):
                change = decoder.decode(message.topic, encode(message.value))
                assert change is not None
                changes.append(change)
    return changes


def _views(facts: FactSet) -> dict[str, set[Any]]:
    instances = facts.enrol_instances
    return {
        "courses": set(facts.courses.values()),
        "enrolments": {
            (
                instances[e.enrol_id].course_id,
                instances[e.enrol_id].method,
                instances[e.enrol_id].role,
                instances[e.enrol_id].cohort_id,
                e.user,
                e.timestart,
                e.timeend,
                e.active,
            )
            for e in facts.enrolments
        },
        "members": {(m.course_id, m.group_idnumber, m.user) for m in facts.group_members},
    }


def _expected(uni: University) -> dict[str, set[Any]]:
    return _views(
        FactSet.build(
            courses=uni.tables["moodle_course"].values(),
            enrol_instances=uni.tables["moodle_enrol"].values(),
            enrolments=uni.tables["moodle_enrolment"].values(),
            group_members=uni.tables["moodle_group_member"].values(),
        )
    )


def _without_as_of(views: dict[str, set[Any]]) -> dict[str, set[Any]]:
    return views | {"courses": {replace(c, as_of=EPOCH) for c in views["courses"]}}


@pytest.mark.parametrize("order", ["as_sent", "shuffled"])
def test_the_simulated_moodle_resolves_back_to_its_views(
    clean_tiny: University, sqlite_engine: Engine, order: str
) -> None:
    changes = _moodle_changes(clean_tiny)
    if order == "shuffled":
        # Memberships before their groups, enrolments before users and role assignments…
        random.Random(1).shuffle(changes)
    with sqlite_engine.begin() as conn:
        for start in range(0, len(changes), 700):
            apply_changes(conn, changes[start : start + 700], SNAPSHOT)
    with sqlite_engine.connect() as conn:
        loaded = load_facts(conn, moodle=DATABASE_ONLY)
    expected = _expected(clean_tiny)
    got = _views(loaded)
    assert _without_as_of(got)["courses"] == _without_as_of(expected)["courses"]
    assert got["enrolments"] == expected["enrolments"]
    assert got["members"] == expected["members"]
    assert len(loaded.enrolments) == len(clean_tiny.tables["moodle_enrolment"])
