"""Declared causes: a declaration is checked, a catalogue refuses disagreeing twins, a
detector labels its findings and refuses a cause it does not declare."""

from __future__ import annotations

from dataclasses import replace

import pytest

from detectors.base import Detector
from detectors.causes import Catalogue, CauseConflict, DeclaredCause, UndeclaredCause
from detectors.known import course_archived
from detectors.model.causes import CAUSES as MODEL
from detectors.registry import CAUSES, DETECTORS
from tests.fixtures.findings import COURSE_ARCHIVED

GONE = DeclaredCause("removed_from_offer", "élément supprimé de l'offre", "scolarite")


def test_a_declaration_needs_a_label_and_a_known_fixer() -> None:
    with pytest.raises(ValueError, match="label"):
        DeclaredCause("removed_from_offer", "", "scolarite")
    with pytest.raises(ValueError, match="fixer"):
        DeclaredCause("removed_from_offer", "Élément supprimé", "dsi")  # type: ignore[arg-type]
    assert GONE.shown == "Élément supprimé de l'offre"


def test_a_catalogue_takes_one_declaration_twice_and_refuses_two_that_disagree() -> None:
    assert len(Catalogue((GONE,), (GONE,))) == 1
    with pytest.raises(CauseConflict, match="removed_from_offer"):
        Catalogue((GONE,), (replace(GONE, label="élément retiré"),))
    with pytest.raises(CauseConflict, match="removed_from_offer"):
        Catalogue((GONE,), (replace(GONE, fixer="cemu"),))


def test_the_registry_holds_every_detector_s_causes_and_the_model_s() -> None:
    for detector in DETECTORS:
        for cause in detector.causes:
            assert CAUSES[cause.code] == cause
    assert {str(c) for c in MODEL} <= set(CAUSES)
    # The model says who acts on its causes (default: the scolarité).
    assert CAUSES["ia_cancelled_replaced"].fixer == "cemu_dsi"
    assert CAUSES["outgoing_exchange"].fixer == "nobody"
    assert CAUSES["ip_without_group"].fixer == "scolarite"


def test_a_detector_labels_its_findings_and_refuses_an_undeclared_cause() -> None:
    detector = course_archived.DETECTOR
    finding = replace(COURSE_ARCHIVED, cause="removed_from_offer")
    (labelled,) = detector.labelled([finding])
    assert labelled.cause_label == "Élément supprimé de l'offre de formation"
    assert replace(labelled, cause_label="") == finding  # nothing else changes
    with pytest.raises(UndeclaredCause, match="elp_removed"):
        detector.labelled([replace(COURSE_ARCHIVED, cause="elp_removed")])
    bare = Detector(detector.name, detector.moments, detector.detect)
    with pytest.raises(UndeclaredCause):
        bare.labelled([finding])


def test_every_cause_a_diagnosis_point_names_has_a_french_label() -> None:
    """The page shows a point's cause by its label: every literal cause of a ``Point(...)``
    in detectors/diagnose (and each course action's) is in the catalogue."""
    import ast
    from pathlib import Path

    from detectors.diagnose.text import _ACTION_TEXT
    from detectors.registry import CAUSES

    labels = CAUSES.labels()
    named = {f"course_{action}" for action in _ACTION_TEXT}
    for source in Path("detectors/diagnose").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Point":
                given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "cause")]
                named |= {
                    g.value
                    for g in given
                    if isinstance(g, ast.Constant) and isinstance(g.value, str)
                }
    assert len(named) > 20
    assert sorted(named - set(labels)) == []
