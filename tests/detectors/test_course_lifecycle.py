"""R1 creation condition and R2 archive -> deletion (seed FAQ « Pourquoi mon cours n'existe pas
sur Ecampus ? », sections « Manque inscription jusqu'au groupe » and « Cours archivé »)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from model_builders import NOW, collection, elp, ip, with_collections

from detectors.base import DetectorConfig
from detectors.facts import AdeFiche, Group, MoodleCourse
from detectors.known import course_archived
from detectors.model import ModelConfig, course_actions, course_actions_for, expected_state
from detectors.model.exchange import Exchange, counts_as_erasmus
from detectors.model.lifecycle import deletion_date, not_created
from detectors.state import FactSet

CONFIG = DetectorConfig()


def _bare(**changes: object) -> FactSet:
    """An ELP without any group nor teaching load, one student registered on it."""
    return FactSet.build(
        elps=[elp("UE-NOLOAD", has_teaching_load=False)],
        ips=[ip("21700001", "UE-NOLOAD")],
        **changes,  # type: ignore[arg-type]
    )


def test_no_group_and_no_teaching_load_means_no_course_is_created() -> None:
    facts = _bare()
    missing = not_created(facts, "UE-NOLOAD")
    assert missing is not None and missing.reason == "no_group_no_load"
    assert "aucune charge d'enseignement" in missing.text
    assert course_actions_for(facts, "UE-NOLOAD") == ()
    assert [a.idnumber for a in expected_state(facts, NOW).course_actions] == []


def test_a_teaching_load_gives_the_pseudo_group_and_the_course() -> None:
    facts = FactSet.build(elps=[elp("UE-LOAD")], ips=[ip("21700001", "UE-LOAD")])
    assert not_created(facts, "UE-LOAD") is None
    (action,) = course_actions(facts)
    assert (action.action, action.idnumber) == ("create", "UE-LOAD")


def test_real_groups_without_teaching_load_give_the_course() -> None:
    groups = collection("TDC", {"TD1": "TD 1"}, ("UE-GRP",))
    facts = with_collections(groups, elps=[elp("UE-GRP", has_teaching_load=False)])
    assert not_created(facts, "UE-GRP") is None
    assert [a.action for a in course_actions_for(facts, "UE-GRP")] == ["create"]


def test_an_existing_pseudo_group_row_counts_as_a_group() -> None:
    facts = FactSet.build(
        elps=[elp("UE-PS", has_teaching_load=False)], groups=[Group("ELP_UE-PS_CM", "CM")]
    )
    assert not_created(facts, "UE-PS") is None


def test_a_porte_never_gets_its_own_course() -> None:
    facts = FactSet.build(elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")])
    missing = not_created(facts, "2HR5C")
    assert missing is not None and missing.reason == "elp_porte"
    assert [a.idnumber for a in course_actions(facts)] == ["M.1HRP9C"]


def test_the_creation_condition_is_a_switch() -> None:
    facts = _bare()
    lenient = ModelConfig(course_needs_group=False)
    assert not_created(facts, "UE-NOLOAD", lenient) is None
    assert [a.action for a in course_actions_for(facts, "UE-NOLOAD", lenient)] == ["create"]


def test_an_existing_course_is_kept_even_when_the_element_loses_its_load() -> None:
    facts = _bare(courses=[MoodleCourse(7, "UE-NOLOAD")])
    assert course_actions_for(facts, "UE-NOLOAD") == ()  # neither created nor archived


def test_course_archived_predicts_the_course_will_not_be_created_tonight() -> None:
    facts = _bare(fiches=[AdeFiche("F1", "UE-NOLOAD", ("T1",))])
    (finding,) = course_archived.detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "course_not_created"
    assert finding.phase == "predicted" and finding.audience == "scolarite"
    assert finding.title == "Cours UE-NOLOAD « label of UE-NOLOAD » : ne sera pas créé cette nuit"
    assert "1 étudiant inscrit pédagogiquement à l'élément n'y aura pas accès" in finding.summary
    assert "Définissez les charges d'enseignement" in finding.remediation
    assert finding.cod_cmp == "12 UFR HSS"


def test_an_element_nobody_registers_to_is_not_reported() -> None:
    facts = FactSet.build(elps=[elp("UE-STRUCT", has_teaching_load=False)])
    assert course_archived.detect(facts, now=NOW, scope=None, config=CONFIG) == []


ARCHIVED_ON = datetime(2024, 12, 1, 9, 0, tzinfo=UTC)


def _archived(*, as_of: datetime = ARCHIVED_ON, successor: bool = False) -> FactSet:
    old = elp("HIST-OLD")
    new = replace(elp("HIST-NEW"), label=old.label)
    return FactSet.build(
        elps=[new] if successor else [],
        deleted_elps=[old],
        courses=[MoodleCourse(9, "HIST-OLD", archived=True, as_of=as_of)],
    )


def test_the_deletion_date_is_the_archive_date_plus_the_configured_delay() -> None:
    course = MoodleCourse(9, "X", archived=True, as_of=ARCHIVED_ON)
    assert deletion_date(course) == ARCHIVED_ON + timedelta(days=365)
    assert deletion_date(course, ModelConfig(archived_course_deleted_after_days=None)) is None
    assert deletion_date(replace(course, archived=False)) is None


def test_an_archived_course_due_within_the_notice_is_reported_with_its_date() -> None:
    facts = _archived(successor=True)
    found = course_archived.detect(facts, now=NOW, scope=["HIST-OLD"], config=CONFIG)
    (deletion,) = [f for f in found if f.cause == "archived_course_deleted"]
    assert deletion.title == "Cours archivé HIST-OLD : suppression prévue le 01/12/2025"
    assert "archivé le 01/12/2024, sera supprimé le 01/12/2025. Nouveau code : HIST-NEW" in (
        deletion.summary
    )
    assert "Copiez le contenu du cours archivé HIST-OLD dans le nouvel espace HIST-NEW" in (
        deletion.remediation
    )


def test_an_archived_course_far_from_its_deletion_is_quiet() -> None:
    facts = _archived(as_of=datetime(2025, 10, 1, tzinfo=UTC))
    found = course_archived.detect(facts, now=NOW, scope=["HIST-OLD"], config=CONFIG)
    assert [f for f in found if f.cause == "archived_course_deleted"] == []


def test_a_code_change_tells_to_copy_the_archived_content_into_the_new_code() -> None:
    facts = _archived(as_of=NOW - timedelta(days=1), successor=True)
    found = course_archived.detect(facts, now=NOW, scope=["HIST-OLD"], config=CONFIG)
    (changed,) = [f for f in found if f.cause == "code_changed"]
    assert "copiez le contenu du cours archivé HIST-OLD dans HIST-NEW" in changed.remediation
    assert "sera supprimé le 16/11/2026 (date estimée)" in changed.summary


def test_only_the_configured_programmes_count_as_erasmus() -> None:
    default = ModelConfig()
    assert counts_as_erasmus(Exchange("outgoing", "year", "Eras+ D>An"), default)
    assert counts_as_erasmus(Exchange("outgoing", "S1", "EraFM D>S1"), default)
    assert not counts_as_erasmus(Exchange("outgoing", "year", "IntU D>An"), default)
    assert not counts_as_erasmus(Exchange("outgoing", "year", "UE D>An"), default)
    assert not counts_as_erasmus(Exchange("incoming", "year", "Eras+ A>An"), default)
    every = ModelConfig(erasmus_programmes=("*",))
    assert counts_as_erasmus(Exchange("outgoing", "year", "IntU D>An"), every)
    local = ModelConfig(erasmus_programmes=("eras+", "intu"))
    assert counts_as_erasmus(Exchange("outgoing", "year", "IntU D>An"), local)


def test_a_course_moodle_deleted_after_its_archive_is_reported_with_its_date() -> None:
    gone = MoodleCourse(9, "HIST-OLD", archived=True, as_of=NOW - timedelta(days=2))
    facts = FactSet.build(deleted_elps=[elp("HIST-OLD")], deleted_courses=[gone])
    (finding,) = course_archived.detect(facts, now=NOW, scope=None, config=CONFIG)
    assert (finding.cause, finding.phase) == ("archived_course_deleted", "occurred")
    assert finding.title == "Cours archivé HIST-OLD : supprimé le 15/11/2025"
    assert "a été supprimé d'Ecampus le 15/11/2025" in finding.remediation
    old = replace(gone, as_of=NOW - timedelta(days=30))
    quiet = FactSet.build(deleted_elps=[elp("HIST-OLD")], deleted_courses=[old])
    assert course_archived.detect(quiet, now=NOW, scope=None, config=CONFIG) == []


def test_a_course_awaited_only_by_its_ade_planning_is_predicted_too() -> None:
    facts = FactSet.build(
        elps=[elp("UE-ADE", has_teaching_load=False)], fiches=[AdeFiche("F2", "UE-ADE", ("T1",))]
    )
    (finding,) = course_archived.detect(facts, now=NOW, scope=["UE-ADE"], config=CONFIG)
    assert finding.cause == "course_not_created" and finding.severity == "info"
    assert finding.summary.endswith(
        "Aucun étudiant n'y est encore inscrit ; les enseignants planifiés n'y auront pas accès."
    )
