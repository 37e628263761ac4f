"""GET /diagnose?person=: a ticket's person by name, email or login; homonyms to choose from."""

from __future__ import annotations

from sqlalchemy import Engine

from detectors.facts import Account, Group, Ip
from tests.monitor.test_api_diagnose import HTML, LAST_NIGHT, LAST_WEEK, elp, moodle_course, store
from tests.monitor.web_support import make_client


def _seed(engine: Engine) -> None:
    store(
        engine,
        elp("RCAED334"),
        Group("ELP_RCAED334_CM", "CM", as_of=LAST_WEEK),
        Ip("21500001", "RCAED334", "ELP_RCAED334_CM", True, 2026, as_of=LAST_WEEK),
        *moodle_course(1, "RCAED334"),
        Account("jmartin1", "student", cod_etu="21500001", last_name="Martin",
                first_name="Jérôme", email="jerome.martin@etu.unicaen.fr", as_of=LAST_WEEK),
        Account("jmartin2", "student", cod_etu="21500002", last_name="MARTIN",
                first_name="Jerome", as_of=LAST_WEEK),
        LAST_NIGHT,
    )  # fmt: skip


def test_person_by_email_homonyms_and_nobody(sqlite_engine: Engine) -> None:
    _seed(sqlite_engine)
    with make_client(sqlite_engine) as client:
        found = client.get("/diagnose", params={"person": "JEROME.martin@etu.unicaen.fr"})
        assert found.status_code == 200
        answer = found.json()
        assert answer["student"] == "21500001"
        assert answer["person"].startswith("Jérôme MARTIN (étudiant ; n° étudiant 21500001")
        assert [p["cause"] for p in answer["points"] if p["fault"]] == ["foad_case_a"]

        several = client.get("/diagnose", params={"person": "jerome martin"})
        assert several.status_code == 409
        keys = [c["key"] for c in several.json()["choose_one_of"]]
        assert sorted(keys) == ["21500001", "21500002"]
        assert "Précisez laquelle" in several.json()["text"]

        page = client.get("/diagnose", params={"person": "Jérôme Martin"}, headers=HTML)
        assert page.status_code == 409
        assert "Plusieurs personnes correspondent à « Jérôme Martin » (2)" in page.text

        nobody = client.get("/diagnose", params={"person": "Durand"})
        assert nobody.status_code == 404
