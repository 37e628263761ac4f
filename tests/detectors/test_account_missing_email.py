"""account_missing_email (seed: "bloqué sur ma page de profil, dès ma première connexion")."""

from __future__ import annotations

from model_builders import NOW

from detectors.base import DetectorConfig
from detectors.facts import Account
from detectors.known.account_missing_email import detect
from detectors.state import FactSet

CONFIG = DetectorConfig()


def _accounts() -> FactSet:
    return FactSet.build(
        accounts=[
            Account("inv.dupont", "guest", last_name="Dupont", cod_cmp="12"),
            Account("vac.martin", "vacataire", last_name="Martin", email="  ", cod_cmp="12"),
            Account("vac.ok", "vacataire", email="ok@example.org", cod_cmp="12"),
            Account("e21609846", "student", cod_etu="21609846", cod_cmp="12"),
            Account("staff.x", "staff", cod_cmp="12"),
            Account("inv.orphan", "guest"),
        ]
    )


def test_guest_and_vacataire_without_email_are_one_alert_for_their_composante() -> None:
    findings = detect(_accounts(), now=NOW, scope=None, config=CONFIG)
    by_subject = {f.subject: f for f in findings}
    hss = by_subject["12"]
    assert hss.audience == "scolarite"
    assert hss.cod_cmp == "12"
    assert hss.affected_count == 2
    assert hss.severity == "warning"
    people = {e.who for e in hss.evidence if e.is_person}
    assert people == {"inv.dupont", "vac.martin"}  # a table of accounts, not prose
    assert all(e.fact.endswith("sans adresse électronique") for e in hss.evidence)
    assert "bloquée sur sa page de profil" in hss.remediation


def test_no_name_nor_login_appears_outside_the_evidence() -> None:
    for finding in detect(_accounts(), now=NOW, scope=None, config=CONFIG):
        shown = f"{finding.subject} {finding.title} {finding.summary} {finding.remediation}"
        for private in ("Dupont", "Martin", "inv.dupont", "vac.martin", "inv.orphan"):
            assert private not in shown


def test_an_account_of_no_known_composante_goes_to_the_cemu() -> None:
    findings = detect(_accounts(), now=NOW, scope=None, config=CONFIG)
    orphan = next(f for f in findings if f.subject == "sans-composante")
    assert orphan.cod_cmp is None  # routing falls back to the CEMU
    assert orphan.affected_count == 1


def test_a_pass_scoped_to_elps_has_no_account_to_look_at() -> None:
    assert detect(_accounts(), now=NOW, scope=["RCAED334"], config=CONFIG) == []
