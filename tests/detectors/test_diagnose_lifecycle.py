"""diagnose on the seed's FAQ answers, pure: course not created, archived (deleted when, new
code), hidden before its start, enrolled how, the person found (seed « Foire Aux Questions »)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from model_builders import NOW, elp, ip
from moodle_builders import LAST_NIGHT, LAST_WEEK, accounts, course, instances

from detectors.base import DetectorConfig
from detectors.diagnose import diagnose, render_text
from detectors.diagnose.people_search import find_people
from detectors.facts import Account, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.state import FactSet

CONFIG = DetectorConfig()


def test_a_course_without_group_nor_load_is_not_created_and_diagnosis_says_why() -> None:
    facts = FactSet.build(
        elps=[elp("UE-X", has_teaching_load=False)], ips=[ip("1", "UE-X")], runs=[LAST_NIGHT]
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="UE-X")
    (point,) = [p for p in d.points if p.cause == "course_not_created"]
    assert point.fault and point.rule == "R1"
    assert point.fixer == "la scolarité de la composante 12 UFR HSS"
    assert "ne sera pas créé cette nuit" in point.statement
    assert "course_create" not in [p.cause for p in d.points]
    assert "aucun problème" not in render_text(d)


def test_an_archived_course_with_a_new_code_gives_dates_and_the_copy() -> None:
    old = elp("OLD-1")
    facts = FactSet.build(
        elps=[replace(elp("NEW-1"), label=old.label)],
        deleted_elps=[old],
        courses=[MoodleCourse(3, "OLD-1", archived=True, as_of=datetime(2025, 9, 2, tzinfo=UTC))],
        runs=[LAST_NIGHT],
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="OLD-1")
    (point,) = [p for p in d.points if p.cause == "code_changed"]
    assert "archivé depuis le 02/09/2025 ; il sera supprimé le 02/09/2026 (date estimée)" in (
        point.statement
    )
    assert "nouveau code NEW-1. Copiez le contenu du cours archivé OLD-1 dans NEW-1." in (
        point.statement
    )
    assert point.fixer == "les enseignants du cours"


def test_hidden_before_its_period_is_normal_and_said_so() -> None:
    facts = FactSet.build(
        elps=[elp("S2-X", period="S2")], courses=[course(4, "S2-X")], runs=[LAST_NIGHT]
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="S2-X")
    (point,) = [p for p in d.points if p.cause == "hidden_before_start"]
    assert not point.fault
    assert "caché, ce qui est normal avant le début de sa période le 15/01/2026" in point.statement
    text = render_text(d)
    assert "aucun problème" not in text
    assert "Verdict : rien à corriger : le cours est caché jusqu'au début de sa période" in text


def test_enrolled_how_lists_methods_and_dates() -> None:
    cohort = MoodleEnrolInstance(43, 4, "cohort", "student", cohort_id=9, created=LAST_WEEK)
    until = datetime(2026, 1, 31, 12, tzinfo=UTC)
    facts = FactSet.build(
        elps=[elp("Y")],
        ips=[ip("21500001", "Y", "ELP_Y_CM")],
        courses=[course(4, "Y")],
        enrol_instances=[*instances(4), cohort],
        enrolments=[
            MoodleEnrolment(1, 41, "u21500001", timestart=LAST_WEEK),
            MoodleEnrolment(2, 43, "u21500001", timestart=LAST_WEEK, timeend=until),
        ],
        accounts=accounts(("21500001",)),
        runs=[LAST_NIGHT],
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_etu="21500001")
    (how,) = [p for p in d.points if p.cause == "enrolled_how"]
    assert "cours Y : étudiant, inscrit par base de données" in how.statement
    assert "depuis le 10/11/2025, sans date de fin" in how.statement
    assert (
        "inscrit par synchronisation de cohorte (ajoutée à la main), depuis le 10/11/2025, "
        "jusqu'au 31/01/2026" in how.statement
    )
    course_d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="Y")
    (methods,) = [p for p in course_d.points if p.cause == "enrolment_methods"]
    assert "base de données : 1 inscription ; cohorte 9 : 1 inscription" in methods.statement


def test_the_person_found_and_an_account_without_email() -> None:
    guest = Account("g1", "guest", staff_id="G1", last_name="Roux", first_name="Zoé",
                    cod_cmp="12 UFR HSS")  # fmt: skip
    (match,) = find_people([guest], "zoe ROUX")
    d = diagnose(FactSet.build(runs=[LAST_NIGHT]), now=NOW, config=CONFIG, teacher="G1",
                 person=match)  # fmt: skip
    assert d.person == "Zoé ROUX (invité ; identifiant g1)"
    causes = [p.cause for p in d.points]
    assert causes[:2] == ["person", "missing_email"]
    text = render_text(d)
    assert "Personne trouvée par nom : Zoé ROUX" in text
    assert "Compte invité ou vacataire sans adresse électronique" in text
