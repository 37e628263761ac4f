"""A ticket's person by name, email, login or number; case and accents ignored; homonyms listed."""

from __future__ import annotations

from detectors.diagnose.people_search import find_people, normalised
from detectors.facts import Account

HELOISE = Account(
    "hdupont1", "student", cod_etu="21609846", last_name="Dupont", first_name="Héloïse",
    email="heloise.dupont@etu.unicaen.fr",
)  # fmt: skip
HOMONYM = Account("hdupont2", "student", cod_etu="21700002", last_name="DUPONT",
                  first_name="Heloise")  # fmt: skip
TEACHER = Account("mleroy", "staff", staff_id="T042", last_name="Le Roy-Écuyer",
                  first_name="Michèle", email="michele.leroy@unicaen.fr")  # fmt: skip
PEOPLE = [HELOISE, HOMONYM, TEACHER]


def _uids(query: str) -> list[str]:
    return [m.account.uid for m in find_people(PEOPLE, query)]


def test_normalised_drops_case_accents_and_extra_spaces() -> None:
    assert normalised("  Héloïse   DUPONT ") == "heloise dupont"
    assert normalised("Écuyer") == "ecuyer"


def test_a_number_a_login_or_an_email_names_one_person() -> None:
    assert _uids("21609846") == ["hdupont1"]
    assert _uids("HDUPONT2") == ["hdupont2"]
    assert _uids("Heloise.Dupont@etu.unicaen.fr") == ["hdupont1"]
    assert _uids("T042") == ["mleroy"]


def test_a_name_matches_whatever_the_case_accents_and_order() -> None:
    assert _uids("michele le roy-ecuyer") == ["mleroy"]
    assert _uids("ECUYER Michèle") == ["mleroy"]


def test_homonyms_are_all_returned_to_choose_from() -> None:
    matches = find_people(PEOPLE, "heloise dupont")
    assert sorted(m.account.uid for m in matches) == ["hdupont1", "hdupont2"]
    assert {m.how for m in matches} == {"nom"}
    described = [m.describe() for m in matches]
    assert "Héloïse DUPONT (étudiant ; n° étudiant 21609846, identifiant hdupont1, " in (
        described[0] + described[1]
    )


def test_a_partial_word_or_nobody() -> None:
    assert _uids("dup") == []
    assert _uids("") == []
    assert _uids("Martin") == []
