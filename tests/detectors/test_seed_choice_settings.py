"""The seed's hypotheses and our local choices, written as a university writes its settings
(YAML), change what the detectors say: IA replaced (on/off, recipient), which exchange
programmes count as Erasmus, the course creation condition, the deletion delay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from model_builders import NOW, elp, ip
from moodle_builders import LAST_NIGHT
from test_students_not_enrolled import REPLACED

from detectors.base import DetectorConfig
from detectors.facts import Ia, MoodleCourse
from detectors.known import course_archived, students_not_enrolled
from detectors.model import expected_for_student
from detectors.state import FactSet
from monitor.config import load_settings


def from_yaml(tmp_path: Path, text: str) -> DetectorConfig:
    config = tmp_path / "ecampus-monitor.yaml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config).rules.detector_config()


def test_defaults_are_the_seeds_words() -> None:
    config = load_settings().rules.detector_config()
    assert config.model.ia_replacement_defect is True
    assert config.ia_replacement_audience == "cemu"
    assert config.model.erasmus_programmes == ("Eras+", "EraFM")
    assert config.model.course_needs_group is True
    assert config.model.archived_course_deleted_after_days == 365
    assert config.course_deletion_notice_days == 30


def _replaced_findings(config: DetectorConfig) -> list[str]:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y")], ias=REPLACED, runs=[LAST_NIGHT])
    found = students_not_enrolled.detect(facts, now=NOW, scope=None, config=config)
    return [f"{f.cause}:{f.audience}" for f in found]


def test_ia_replaced_goes_to_cemu_by_default_and_can_be_routed_or_switched_off(
    tmp_path: Path,
) -> None:
    assert _replaced_findings(from_yaml(tmp_path, "rules: {}\n")) == ["ia_cancelled_replaced:cemu"]
    routed = from_yaml(tmp_path, "rules:\n  ia_replacement_recipient: scolarite\n")
    assert _replaced_findings(routed) == ["ia_cancelled_replaced:scolarite"]
    off = from_yaml(tmp_path, "rules:\n  ia_replacement_defect: false\n")
    assert _replaced_findings(off) == []


def _away_with(programme: str) -> FactSet:
    ia = Ia("IA1", "1", "L2", 2025, exchange_programme=programme)
    return FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y", "ELP_Y_CM")], ias=[ia])


def _causes(facts: FactSet, config: DetectorConfig) -> list[str]:
    expectation = expected_for_student(facts, "1", NOW, config.model)
    return [r.cause for v in expectation.verdicts for r in v.refusals]


def test_only_the_configured_exchange_programmes_count_as_erasmus(tmp_path: Path) -> None:
    default = from_yaml(tmp_path, "rules: {}\n")
    assert _causes(_away_with("Eras+ D>An"), default) == ["outgoing_exchange"]
    assert _causes(_away_with("IntU D>An"), default) == []  # enrolled: not Erasmus
    local = from_yaml(tmp_path, "rules:\n  erasmus_programmes: ['Eras+', 'EraFM', 'IntU']\n")
    assert _causes(_away_with("IntU D>An"), local) == ["outgoing_exchange"]
    every = from_yaml(tmp_path, "rules:\n  erasmus_programmes: ['*']\n")
    assert _causes(_away_with("UE D>An"), every) == ["outgoing_exchange"]


def test_course_creation_and_deletion_settings(tmp_path: Path) -> None:
    bare = FactSet.build(elps=[elp("N", has_teaching_load=False)], ips=[ip("1", "N")])
    strict = from_yaml(tmp_path, "rules: {}\n")
    assert [f.cause for f in course_archived.detect(bare, now=NOW, scope=None, config=strict)] == [
        "course_not_created"
    ]
    lenient = from_yaml(tmp_path, "rules:\n  course_needs_group: false\n")
    assert course_archived.detect(bare, now=NOW, scope=None, config=lenient) == []

    archived = FactSet.build(
        courses=[MoodleCourse(9, "OLD", archived=True, as_of=datetime(2024, 12, 1, tzinfo=UTC))]
    )
    found = course_archived.detect(archived, now=NOW, scope=["OLD"], config=strict)
    assert [f.cause for f in found] == ["archived_course_deleted"]
    unknown = from_yaml(tmp_path, "rules:\n  archived_course_deleted_after_days: null\n")
    assert course_archived.detect(archived, now=NOW, scope=["OLD"], config=unknown) == []
    early = from_yaml(
        tmp_path,
        "rules:\n  archived_course_deleted_after_days: 400\n"
        "  thresholds: {course_deletion_notice_days: 60}\n",
    )
    (due,) = course_archived.detect(archived, now=NOW, scope=["OLD"], config=early)
    assert "sera supprimé le 05/01/2026" in due.summary
