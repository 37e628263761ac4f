"""R5: a porté recognised by its disappearance from REFER (seed "Mauvaise gestion de la
relation porteur/porté": "l'élément porté disparaît de REFER, ainsi que de l'espace de
cours correspondant dans Ecampus"), and by its porteur column; which signals count is
``ModelConfig.porte_signals``. The seed's example: 2HR5C now porté by M.1HRP9C, the
collection M.1HRP9CTD (groups M.1HRP9CEM and M.1HRP9CTD) attached to both."""

from __future__ import annotations

from dataclasses import replace

from model_builders import NOW, collection, elp, ip, with_collections
from moodle_builders import CONFIG, LAST_NIGHT, LAST_WEEK, course, instances

from detectors.base import DetectorConfig
from detectors.known.course_archived import detect as course_archived
from detectors.known.students_not_enrolled import detect as students_not_enrolled
from detectors.model import ModelConfig, expected_for_elp, expected_state, gone_porteurs
from detectors.state import FactSet

PORTEUR, PORTE = "M.1HRP9C", "2HR5C"
GROUPS = {"M.1HRP9CEM": "EM", "M.1HRP9CTD": "TD"}
COLUMN_ONLY = ModelConfig(porte_signals=frozenset({"porteur_column"}))
GONE_ONLY = ModelConfig(porte_signals=frozenset({"disappearance"}))


def _gone(attached_to: tuple[str, ...], *, last_row: bool = False) -> FactSet:
    """2HR5C gone from REFER; its IPs remain, naming groups of M.1HRP9C's collection."""
    deleted = [replace(elp(PORTE), as_of=LAST_WEEK)] if last_row else []
    return with_collections(
        collection("M.1HRP9CTD", GROUPS, attached_to),
        elps=[elp(PORTEUR)],
        deleted_elps=deleted,
        ips=[ip("A", PORTEUR, "M.1HRP9CEM"), ip("B", PORTE, "M.1HRP9CTD")],
        courses=[course(1, PORTEUR), course(2, PORTE)],
        enrol_instances=[*instances(1), *instances(2)],
        runs=[LAST_NIGHT],
    )


def test_a_porte_gone_from_refer_with_its_collection_shared_reaches_the_porteur_course() -> None:
    facts = _gone((PORTEUR, PORTE))
    assert gone_porteurs(facts) == {PORTE: PORTEUR}
    result = expected_for_elp(facts, PORTE, NOW)
    assert result.standing == "porte"
    assert result.course is not None and result.course.idnumber == PORTEUR
    assert result.course.portes == (PORTE,)
    assert set(result.course.students) == {"A", "B"} and result.refusals == ()


def test_with_the_collection_not_shared_the_collection_rule_fires_not_elp_obsolete() -> None:
    facts = _gone((PORTEUR,))
    result = expected_for_elp(facts, PORTE, NOW)
    [refusal] = result.refusals
    assert (refusal.cause, refusal.who) == ("porte_collection_not_shared", "B")
    assert refusal.text == "la collection M.1HRP9CTD n'est pas associée au porté 2HR5C"
    [finding] = students_not_enrolled(facts, now=NOW, scope=None, config=CONFIG)
    assert (finding.subject, finding.cause) == (PORTE, "porte_collection_not_shared")


def test_counting_only_the_porteur_column_the_gone_porte_is_obsolete() -> None:
    facts = _gone((PORTEUR,))
    assert gone_porteurs(facts, COLUMN_ONLY) == {}
    result = expected_for_elp(facts, PORTE, NOW, COLUMN_ONLY)
    assert [r.cause for r in result.refusals] == ["elp_obsolete"]


def test_the_last_known_row_naming_its_porteur_is_a_link_that_remains() -> None:
    facts = with_collections(
        collection("OWN", {"X_TD": "TD"}, (PORTE,)),
        elps=[elp(PORTEUR)],
        deleted_elps=[replace(elp(PORTE, porteur=PORTEUR), as_of=LAST_WEEK)],
        ips=[ip("B", PORTE, "X_TD")],
    )
    assert gone_porteurs(facts) == {PORTE: PORTEUR}
    assert expected_for_elp(facts, PORTE, NOW).standing == "porte"


def test_an_elp_removed_from_the_offer_with_groups_of_no_current_elp_stays_obsolete() -> None:
    facts = with_collections(
        collection("OLD", {"OLD_TD": "TD"}, ("OLD",)),
        elps=[elp(PORTEUR)],
        deleted_elps=[elp("OLD")],
        ips=[ip("B", "OLD", "OLD_TD")],
    )
    assert gone_porteurs(facts) == {}
    assert [r.cause for r in expected_for_elp(facts, "OLD", NOW).refusals] == ["elp_obsolete"]


def test_two_current_elps_sharing_the_groups_decide_nothing() -> None:
    facts = with_collections(
        collection("M.1HRP9CTD", GROUPS, (PORTEUR, "OTHER")),
        elps=[elp(PORTEUR), elp("OTHER")],
        ips=[ip("B", PORTE, "M.1HRP9CTD")],
    )
    assert gone_porteurs(facts) == {}


def test_counting_only_disappearance_a_porteur_column_gives_the_elp_its_own_course() -> None:
    facts = with_collections(
        collection("M.1HRP9CTD", GROUPS, (PORTEUR, PORTE)),
        elps=[elp(PORTEUR), elp(PORTE, porteur=PORTEUR)],
        ips=[ip("B", PORTE, "M.1HRP9CTD")],
    )
    assert set(expected_state(facts, NOW).courses) == {PORTEUR}
    assert set(expected_state(facts, NOW, GONE_ONLY).courses) == {PORTEUR, PORTE}


def test_the_porte_s_archived_course_is_explained_as_became_porte() -> None:
    facts = _gone((PORTEUR, PORTE), last_row=True)
    found = {f.cause for f in course_archived(facts, now=NOW, scope=None, config=CONFIG)}
    assert found == {"became_porte"}
    column_only = DetectorConfig(model=COLUMN_ONLY)
    found = {f.cause for f in course_archived(facts, now=NOW, scope=None, config=column_only)}
    assert found == {"removed_from_offer"}
