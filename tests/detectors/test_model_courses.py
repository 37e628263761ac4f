"""R1 and R2: one course per current ELP; archive and unarchive (seed section "Cours archivé")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import get_args

from model_builders import NOW, elp

from detectors.facts import MoodleCourse
from detectors.model import CAUSES, Cause, course_actions, expected_for_elp, expected_state
from detectors.state import FactSet

DELETED_AT = datetime(2025, 11, 16, 14, tzinfo=UTC)


def _actions(facts: FactSet) -> list[tuple[str, str, int | None, str]]:
    return [(a.action, a.idnumber, a.course_id, a.reason) for a in course_actions(facts)]


def test_current_elp_without_course_gets_one_created() -> None:
    facts = FactSet.build(elps=[elp("X")])
    assert _actions(facts) == [("create", "X", None, "elp_current")]
    assert course_actions(facts)[0].rule == "R1"


def test_course_of_an_elp_removed_from_refer_is_archived_with_the_deletion_date() -> None:
    gone = replace(elp("OLD"), as_of=DELETED_AT)
    facts = FactSet.build(deleted_elps=[gone], courses=[MoodleCourse(7, idnumber="OLD")])
    [action] = course_actions(facts)
    assert (action.action, action.reason, action.course_id) == ("archive", "elp_deleted", 7)
    assert action.as_of == DELETED_AT
    assert action.text == "cours 7 archivé : élément OLD supprimé de REFER"


def test_course_of_an_elp_become_porte_is_archived() -> None:
    facts = FactSet.build(
        elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")],
        courses=[MoodleCourse(1, idnumber="M.1HRP9C"), MoodleCourse(2, idnumber="2HR5C")],
    )
    assert _actions(facts) == [("archive", "2HR5C", 2, "elp_porte")]


def test_archived_course_whose_code_came_back_is_unarchived() -> None:
    facts = FactSet.build(elps=[elp("X")], courses=[MoodleCourse(3, idnumber="X", archived=True)])
    assert _actions(facts) == [("unarchive", "X", 3, "elp_current")]
    assert expected_for_elp(facts, "X", NOW).course_actions[0].action == "unarchive"


def test_courses_in_place_and_manual_courses_need_no_action() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        courses=[MoodleCourse(3, idnumber="X"), MoodleCourse(4, idnumber="")],
    )
    assert _actions(facts) == []
    assert expected_state(facts, NOW).courses["X"].course_id == 3


def test_every_cause_has_its_rule_and_title() -> None:
    causes: tuple[Cause, ...] = get_args(Cause)
    assert set(causes) == set(CAUSES)
    assert all(info.rule.startswith("R") and info.title for info in CAUSES.values())
