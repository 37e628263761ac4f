"""forgotten_cohort_sync: cohort members without IP, and partial redundancy.

Seed, "Puis-je me dépanner en synchronisant une cohorte (basée sur les IA) dans
le cours ?": "les cohortes s'appuient sur les IA, donc ne prennent pas en compte
le fait que certains étudiants ne font pas toutes les UEs d'un parcours", and
"il faut penser à la retirer du cours quand les inscriptions automatiques sont
corrigées" (corrected for 38 members of 40 as for 40 of 40).
"""

from __future__ import annotations

from datetime import timedelta

from model_builders import NOW, elp, ip

from detectors.base import DetectorConfig
from detectors.facts import Account, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.known.forgotten_cohort_sync import detect
from detectors.shared.cohort_members import is_redundant
from detectors.state import FactSet

CONFIG = DetectorConfig()
CODE = "HSS-L2-SOC"


def _members(enrol_id: int, users: list[str]) -> list[MoodleEnrolment]:
    return [MoodleEnrolment(enrol_id * 1000 + n, enrol_id, u) for n, u in enumerate(users)]


def _course(
    database: list[str], cohort: list[str], ips: list[str], *, extra_elps: tuple[str, ...] = ()
) -> FactSet:
    people = sorted({*database, *cohort})
    return FactSet.build(
        elps=[elp(CODE), *(elp(code) for code in extra_elps)],
        courses=[MoodleCourse(7, CODE, fullname="Sociologie")],
        enrol_instances=[
            MoodleEnrolInstance(1, 7, "database"),
            MoodleEnrolInstance(2, 7, "cohort", cohort_id=20, created=NOW - timedelta(days=30)),
        ],
        enrolments=_members(1, database) + _members(2, cohort),
        ips=[ip(p.removeprefix("u"), CODE, f"{CODE}_TD1") for p in ips],
        accounts=[Account(p, cod_etu=p.removeprefix("u")) for p in people],
    )


def _causes(facts: FactSet, config: DetectorConfig = CONFIG) -> dict[str, int]:
    return {f.cause: f.affected_count for f in detect(facts, now=NOW, scope=None, config=config)}


def test_cohort_members_without_an_ip_on_the_element_are_flagged_and_named() -> None:
    facts = _course(["u1"], ["u1", "u8", "u9"], ips=["u1"])
    [finding] = [
        f
        for f in detect(facts, now=NOW, scope=None, config=CONFIG)
        if f.cause != "cohort_redundant"
    ]
    assert finding.cause == "cohort_member_without_ip"
    assert finding.affected_count == 2 and finding.audience == "teachers"
    assert [e.who for e in finding.evidence if e.is_person] == ["8", "9"]
    assert "ne font pas toutes les UE" in finding.remediation
    assert "8" not in finding.title + finding.summary


def test_members_with_an_ip_not_yet_enrolled_are_not_without_ip() -> None:
    facts = _course(["u1"], ["u2"], ips=["u1", "u2"])
    assert "cohort_member_without_ip" not in _causes(facts)


def test_a_member_with_an_ip_on_a_porte_of_the_element_has_access_by_rights() -> None:
    facts = _course(["u1"], ["u1", "u3"], ips=["u1"])
    porte = elp("PORTE", porteur=CODE)
    facts = FactSet.build(
        elps=[*facts.elps.values(), porte],
        courses=facts.courses.values(),
        enrol_instances=facts.enrol_instances.values(),
        enrolments=facts.enrolments,
        ips=[*facts.ips, ip("3", "PORTE", f"{CODE}_TD1")],
        accounts=facts.accounts.values(),
    )
    assert "cohort_member_without_ip" not in _causes(facts)


def test_members_without_a_student_account_are_not_judged() -> None:
    facts = _course(["u1"], ["u1"], ips=["u1"])
    staff = MoodleEnrolment(2999, 2, "guest-1")
    facts = FactSet.build(
        elps=facts.elps.values(),
        courses=facts.courses.values(),
        enrol_instances=facts.enrol_instances.values(),
        enrolments=[*facts.enrolments, staff],
        ips=facts.ips,
        accounts=facts.accounts.values(),
    )
    assert "cohort_member_without_ip" not in _causes(facts)


def test_38_members_of_40_database_enrolled_make_the_cohort_redundant() -> None:
    members = [f"u{n}" for n in range(40)]
    facts = _course(members[:38], members, ips=members)
    found = {f.cause: f for f in detect(facts, now=NOW, scope=None, config=CONFIG)}
    assert set(found) == {"cohort_redundant"}
    redundant = found["cohort_redundant"]
    assert any("38 sur 40 membres" in e.fact and "90" in e.fact for e in redundant.evidence)
    assert [e.who for e in redundant.evidence if e.is_person] == ["u38", "u39"]


def test_the_share_is_configurable_and_all_of_them_is_the_strict_reading() -> None:
    members = [f"u{n}" for n in range(40)]
    facts = _course(members[:38], members, ips=members)
    strict = DetectorConfig(cohort_redundant_share=1.0)
    assert "cohort_redundant" not in _causes(facts, strict)
    assert "cohort_redundant" in _causes(_course(members, members, ips=members), strict)


def test_below_the_share_the_cohort_still_bridges_a_gap() -> None:
    members = [f"u{n}" for n in range(40)]
    facts = _course(members[:30], members, ips=members)
    assert "cohort_redundant" not in _causes(facts)


def test_redundancy_share_boundaries() -> None:
    assert is_redundant({"a", "b"}, {"a", "b"}, 1.0)
    assert not is_redundant(set(), {"a"}, 0.5)
    assert is_redundant({f"{n}" for n in range(10)}, {f"{n}" for n in range(9)}, 0.9)
    assert not is_redundant({f"{n}" for n in range(10)}, {f"{n}" for n in range(8)}, 0.9)
