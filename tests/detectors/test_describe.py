"""The French describer: agreement from counts, acronyms kept, French numbers, facts in words."""

from __future__ import annotations

from datetime import UTC, datetime

from detectors.facts import Elp, Group, Ip
from detectors.model.describe import (
    agree,
    capitalised,
    date,
    describe_fact,
    in_sentence,
    listing,
    number,
    plural,
)


def test_counts_agree_without_parenthesised_plurals() -> None:
    assert plural(1, "étudiant non inscrit") == "1 étudiant non inscrit"
    assert plural(24, "étudiant non inscrit") == "24 étudiants non inscrits"
    assert plural(0, "inscription perdue") == "0 inscription perdue"
    assert plural(2, "personne concernée") == "2 personnes concernées"
    assert plural(3, "journal") == "3 journaux" and plural(2, "cours") == "2 cours"
    assert agree(1, "est inscrit", "sont inscrits") == "est inscrit"
    assert agree(5, "inscrit") == "inscrits"


def test_acronyms_keep_their_capitals_inside_a_sentence() -> None:
    assert in_sentence("FOAD cas a : IA à distance") == "FOAD cas a : IA à distance"
    assert in_sentence("IA annulée puis remplacée") == "IA annulée puis remplacée"
    assert in_sentence("Élément suspendu dans APOGÉE") == "élément suspendu dans APOGÉE"
    assert capitalised("élément suspendu dans APOGÉE") == "Élément suspendu dans APOGÉE"


def test_numbers_dates_and_lists_in_french() -> None:
    assert number(12345) == "12\u202f345"
    assert plural(1500, "étudiant") == "1\u202f500 étudiants"
    assert date(datetime(2026, 12, 4, 12, 21, tzinfo=UTC)) == "04/12/2026 à 13:21"
    assert listing(["a", "b"]) == "a et b"
    assert listing([str(n) for n in range(8)], 5) == "0, 1, 2, 3, 4 et 3 autres"


def test_facts_are_described_in_french() -> None:
    ip = Ip("22300027", "M.1.MS03", "M.1.MS03TD2", False, 2026)
    assert describe_fact(ip) == (
        "inscription pédagogique de l'étudiant 22300027 à M.1.MS03, groupe M.1.MS03TD2, "
        "à distance : non, année 2026"
    )
    elp = Elp("M.1.MS03", "Théories chang. social", "12", status="suspended")
    said = describe_fact(elp)
    assert said.startswith("élément M.1.MS03 « Théories chang. social » (12) : suspendu")
    assert "a_distance" not in said and "True" not in said
    assert describe_fact(Group("ELP_X_CM")) == (
        "groupe ELP_X_CM, collection aucune, pseudo-groupe automatique"
    )
