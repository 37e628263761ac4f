"""Source rows to canonical facts, with the default column mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors.facts import Elp
from monitor.config import TopicMapping, load_settings
from monitor.kafka.contracts import DebeziumPayload
from monitor.kafka.mapping import InvalidRow, change_from_debezium, map_row

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
TOPICS = load_settings().sources.topics
ELP = TOPICS["refer.REFER.T_ADE_ACTIVITES"]

ELP_ROW = {
    "COD_ELP": "M.1.MS03",
    "LIB_ELP": "Théories chang. social",
    "COD_CMP": "12",
    "A_DISTANCE": "N",
    "ETA_ELP": "S",
    "COD_ELP_PORTEUR": None,
    "TEM_CHARGES_ENS": "O",
    "PERIODE": "S1",
    "ANNEE": 2019,
}


def test_elp_row_maps_codes_and_flags() -> None:
    elp = map_row(ELP, ELP_ROW, AT)
    assert elp == Elp(
        cod_elp="M.1.MS03",
        label="Théories chang. social",
        cod_cmp="12",
        a_distance=False,
        status="suspended",
        porteur=None,
        has_teaching_load=True,
        period="S1",
        year=2019,
        as_of=AT,
    )


def test_unknown_status_code_is_an_invalid_row() -> None:
    with pytest.raises(InvalidRow, match="ETA_ELP: unknown code 'X'"):
        map_row(ELP, ELP_ROW | {"ETA_ELP": "X"}, AT)


def test_missing_key_is_an_invalid_row() -> None:
    with pytest.raises(InvalidRow, match="cod_elp"):
        map_row(ELP, ELP_ROW | {"COD_ELP": None}, AT)


def test_moodle_rows_are_kept_as_moodle_has_them() -> None:
    """Numeric ids, epoch seconds and 0 for "no date": the store resolves them when loading."""
    course = map_row(
        TOPICS["moodle.moodle.mdl_course"],
        {
            "id": 42,
            "idnumber": "RCAED334",
            "shortname": "RCAED334",
            "fullname": "Méthodologie",
            "visible": 0,
            "category": 999,
            "startdate": 1756684800,
            "enddate": 0,
            "summary": "a column we do not read",
        },
        AT,
    )
    assert (course.id, course.idnumber, course.category) == (42, "RCAED334", 999)
    assert (course.startdate, course.enddate, course.visible) == (1756684800, 0, 0)


def test_ade_session_lists_split_on_commas() -> None:
    session = map_row(
        TOPICS["ade.ADE.SEANCES"],
        {
            "ID_SEANCE": "S1",
            "ID_FICHE": "F1",
            "DEBUT": 1764489600000,
            "GROUPES": "M.1HRP9CTD, M.1HRP9CEM",
            "ENS_PLANIFIES": "T001",
        },
        AT,
    )
    assert session.group_ids == ("M.1HRP9CTD", "M.1HRP9CEM")
    assert session.teachers == ("T001",)


def test_delete_event_becomes_a_tombstone_change_keyed_by_the_row_before() -> None:
    payload = DebeziumPayload.model_validate(
        {"op": "d", "before": ELP_ROW, "source": {"ts_ms": 1000, "scn": "7"}}
    )
    change = change_from_debezium(ELP, payload)
    assert (change.entity, change.key, change.deleted, change.version) == (
        "elp",
        "M.1.MS03",
        True,
        (1000, 7),
    )
    assert change.cod_elp == "M.1.MS03"


def test_mapping_to_an_unknown_field_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="no field"):
        TopicMapping(entity="elp", columns={"COD_ELP": "cod_elp", "X": "colour"})
