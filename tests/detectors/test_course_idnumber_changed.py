"""course_idnumber_changed (R8; seed "idnumber modifié")."""

from __future__ import annotations

from model_builders import NOW, elp

from detectors.base import DetectorConfig
from detectors.facts import EnrolMethod, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.known.course_idnumber_changed import detect
from detectors.state import FactSet

CONFIG = DetectorConfig(critical_affected=20)


def _course(
    idnumber: str,
    method: EnrolMethod = "database",
    students: int = 3,
    *,
    named_after: str = "AN-10A",
    archived: bool = False,
) -> FactSet:
    prefix = "[Archivé] " if archived else ""
    return FactSet.build(
        elps=[elp("AN-10A")],
        deleted_elps=[elp("AN-09Z")],
        courses=[
            MoodleCourse(
                42,
                idnumber,
                shortname=f"{named_after}-EC1 Langue Traduction",
                fullname=f"{prefix}({named_after}) EC1 Langue Traduction",
                visible=True,
                category=999 if archived else 1,
                archived=archived,
            )
        ],
        enrol_instances=[MoodleEnrolInstance(1, 42, method)],
        enrolments=[MoodleEnrolment(n, 1, f"s{n}") for n in range(students)],
    )


def test_idnumber_edited_by_hand_on_a_synced_course_is_flagged_for_the_cemu() -> None:
    (finding,) = detect(_course("AN-10A-v2"), now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "idnumber_edited"
    assert finding.subject == "AN-10A-v2"
    assert finding.audience == "cemu"
    assert finding.course_id == 42
    assert finding.affected_count == 3
    # The original code is read from the course's name, and its composante routes the alert.
    assert "(AN-10A, d'après le nom du cours)" in finding.remediation
    assert finding.cod_cmp == "12 UFR HSS"
    assert "ne doit jamais être modifié manuellement" in finding.remediation
    assert any(e.rule == "R8" for e in finding.evidence)


def test_the_edited_idnumber_is_the_dirty_key_ahead_of_the_night() -> None:
    assert len(detect(_course("AN-10A-v2"), now=NOW, scope=["AN-10A-v2"], config=CONFIG)) == 1
    assert detect(_course("AN-10A-v2"), now=NOW, scope=["AN-10A"], config=CONFIG) == []


def test_a_course_made_by_hand_with_a_free_idnumber_is_none_of_lmsjonction_business() -> None:
    assert detect(_course("SANDBOX-1", method="manual"), now=NOW, scope=None, config=CONFIG) == []


def test_known_codes_are_not_edits() -> None:
    # A current code, or one REFER showed before deleting it (course_archived's business).
    for code in ("AN-10A", "AN-09Z"):
        assert detect(_course(code), now=NOW, scope=None, config=CONFIG) == []


def test_a_course_r2_archived_before_the_monitor_started_is_not_an_edit() -> None:
    # Its ELP left the offer years ago: REFER never showed the code to the monitor,
    # yet the idnumber is the one lmsjonction wrote (the name carries the same code).
    facts = _course("AN-07B", named_after="AN-07B", archived=True)
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []
    assert detect(facts, now=NOW, scope=["AN-07B"], config=CONFIG) == []


def test_the_edited_course_stays_flagged_once_the_night_has_archived_it() -> None:
    # R2 archived it for its unknown idnumber; its name still gives the current ELP AN-10A.
    (finding,) = detect(_course("AN-10A-v2", archived=True), now=NOW, scope=None, config=CONFIG)
    assert finding.subject == "AN-10A-v2"
    assert finding.cod_cmp == "12 UFR HSS"
