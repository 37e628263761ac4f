"""GET /diagnose over a real SQLite store: the seed's tickets as JSON, as a French page, and 422."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine

from detectors.facts import (
    Account,
    AdeFiche,
    Elp,
    ElpStatus,
    Group,
    Ip,
    MoodleCourse,
    MoodleEnrolInstance,
    SyncRun,
)
from monitor.kafka.events import epoch_ms
from monitor.kafka.mapping import Change, fact_to_row
from monitor.simulation.moodle_source import MoodleSource, store_changes
from monitor.store.apply import apply_changes
from monitor.store.entities import ENTITIES
from tests.monitor.web_support import HOSTILE_LABEL, NOW, make_client, open_alert

LAST_WEEK = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LAST_NIGHT = SyncRun(
    "lmsjonction-20261201",
    datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
    datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
    "success",
    as_of=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
)
HTML = {"Accept": "text/html,application/xhtml+xml"}
_ENTITY_OF = {spec.fact: name for name, spec in ENTITIES.items()}


def store(engine: Engine, *facts: Any) -> None:
    """Write facts through the real apply path, versioned by their source dates."""
    changes = []
    moodle = MoodleSource()  # canonical Moodle facts go in as Moodle's own rows
    for fact in facts:
        entity = _ENTITY_OF[type(fact)]
        if not ENTITIES[entity].stored:
            changes += store_changes(moodle, fact, epoch_ms(fact.as_of))
            continue
        row = fact_to_row(fact)
        changes.append(Change(entity, ENTITIES[entity].key_of(row), row, epoch_ms(fact.as_of)))
    with engine.begin() as conn:
        apply_changes(conn, changes, NOW)


def elp(cod_elp: str, *, label: str = "", status: ElpStatus = "open") -> Elp:
    return Elp(
        cod_elp,
        label or f"Cours {cod_elp}",
        "12 UFR HSS",
        status=status,
        year=2026,
        as_of=LAST_WEEK,
    )


def moodle_course(course_id: int, idnumber: str) -> list[Any]:
    """The course space and its database methods (students ``*10+1``, teachers ``*10+2``)."""
    return [
        MoodleCourse(course_id, idnumber, idnumber, f"Cours {idnumber}", as_of=LAST_WEEK),
        MoodleEnrolInstance(course_id * 10 + 1, course_id, "database", "student", as_of=LAST_WEEK),
        MoodleEnrolInstance(course_id * 10 + 2, course_id, "database", "teacher", as_of=LAST_WEEK),
    ]


def student(cod_etu: str, cod_elp: str, group_id: str, *, distant: bool = False) -> list[Any]:
    return [
        Ip(cod_etu, cod_elp, group_id, distant, 2026, as_of=LAST_WEEK),
        Account(f"u{cod_etu}", "student", cod_etu=cod_etu, as_of=LAST_WEEK),
    ]


@pytest.fixture
def seeded(sqlite_engine: Engine) -> Engine:
    """The seed's RCAED334 (case a: distant IP, ELP not distant, pseudo-group not CEMU) with a
    teacher only associated on ADE, and M.1.MS03 suspended with three registered students."""
    store(
        sqlite_engine,
        elp("RCAED334", label=HOSTILE_LABEL),
        Group("ELP_RCAED334_CM", "CM", as_of=LAST_WEEK),
        *student("21500001", "RCAED334", "ELP_RCAED334_CM", distant=True),
        *moodle_course(1, "RCAED334"),
        AdeFiche("F-RCAED334", "RCAED334", ("T042",), as_of=LAST_WEEK),
        Account("t-T042", "staff", staff_id="T042", as_of=LAST_WEEK),
        elp("M.1.MS03", status="suspended"),
        Group("ELP_M.1.MS03_CM", as_of=LAST_WEEK),
        *(f for n in range(3) for f in student(f"2180000{n}", "M.1.MS03", "ELP_M.1.MS03_CM")),
        *moodle_course(3, "M.1.MS03"),
        LAST_NIGHT,
    )
    return sqlite_engine


@pytest.fixture
def client(seeded: Engine) -> Iterator[TestClient]:
    with make_client(seeded) as test_client:
        yield test_client


def _faults(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in answer["points"] if p["fault"]]


def test_rcaed334_ticket_answers_case_a_with_who_fixes_it_and_the_open_alert(
    client: TestClient, seeded: Engine
) -> None:
    alert_id = open_alert(seeded)

    response = client.get("/diagnose", params={"course": "RCAED334", "student": "21500001"})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["course"], answer["student"], answer["teacher"]) == (
        "RCAED334",
        "21500001",
        None,
    )
    assert answer["last_completed_run"] == "lmsjonction-20261201"
    assert answer["pending_tonight"] is False
    (fault,) = _faults(answer)
    assert (fault["rule"], fault["cause"], fault["people"]) == ("R4", "foad_case_a", ["21500001"])
    assert fault["who_fixes"] == "la scolarité de la composante 12 UFR HSS"
    assert "télé-enseignement" in fault["how"]
    ip_fact = next(
        f
        for f in fault["facts"]
        if f["fact"].startswith("inscription pédagogique de l'étudiant 21500001")
    )
    assert ip_fact["as_of"] == "2026-11-24T09:00:00+00:00"
    assert [a["id"] for a in answer["open_alerts"]] == [alert_id]
    assert answer["text"].startswith("Diagnostic — cours RCAED334, étudiant 21500001")


def test_m1ms03_suspended_names_its_three_students_and_the_scolarite(client: TestClient) -> None:
    answer = client.get("/diagnose", params={"course": "M.1.MS03"}).json()

    suspended = next(p for p in answer["points"] if p["cause"] == "elp_suspended")
    assert suspended["rule"] == "R3.4" and suspended["fault"]
    assert sorted(suspended["people"]) == ["21800000", "21800001", "21800002"]
    assert "Rétablir l'élément dans APOGÉE" in suspended["how"]
    assert answer["open_alerts"] == []


def test_a_teacher_only_associated_on_ade_is_told_to_be_planned(client: TestClient) -> None:
    answer = client.get("/diagnose", params={"teacher": "T042"}).json()

    assert answer["teacher"] == "T042"
    (fault,) = _faults(answer)
    assert fault["cause"] == "teacher_associated_not_planned"
    assert "Planifier les séances dans ADE" in fault["how"]


def test_a_browser_gets_the_diagnosis_as_a_french_page_with_data_escaped(
    client: TestClient, seeded: Engine
) -> None:
    alert_id = open_alert(seeded)

    response = client.get("/diagnose", params={"course": "RCAED334"}, headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="fr">' in page
    assert "Diagnostic d'un ticket" in page
    assert "Qui peut corriger :" in page
    assert "Dernière synchronisation" in page and "lmsjonction-20261201" in page
    assert f'href="/ui/alerts/{alert_id}"' in page
    assert 'value="RCAED334"' in page  # the form keeps the ticket
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Droit &amp; &lt;b&gt;civil" in page
    # Each rule applied names its cause in French, never by its code.
    answer = client.get("/diagnose", params={"course": "RCAED334"}).json()
    causes = {point["cause"] for point in answer["points"]}
    labels = {point["cause_label"] for point in answer["points"]}
    assert causes and "" not in labels
    assert all(f">{escape(label)}<" in page for label in labels)
    assert not any(f">{cause}<" in page for cause in causes)


@pytest.mark.parametrize("params", [{}, {"course": "", "student": "  ", "teacher": ""}])
def test_a_ticket_naming_nobody_is_refused_with_422(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.get("/diagnose", params=params)

    assert response.status_code == 422
    assert "cod_elp" in response.json()["detail"]


def test_a_browser_naming_nobody_gets_the_form_and_a_french_422(client: TestClient) -> None:
    response = client.get("/diagnose", headers=HTML)

    assert response.status_code == 422
    assert "Indiquez un cours (code APOGÉE)" in response.text
    assert '<form method="get" action="/diagnose"' in response.text


def test_a_code_longer_than_any_real_one_is_refused(client: TestClient) -> None:
    response = client.get("/diagnose", params={"course": "X" * 65})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "course"]


def test_an_unknown_course_is_diagnosed_as_unknown_to_refer(client: TestClient) -> None:
    answer = client.get("/diagnose", params={"course": "NOPE42"}).json()

    assert answer["points"][0]["cause"] == "elp_obsolete"
    assert "inconnu de REFER" in answer["points"][0]["statement"]
