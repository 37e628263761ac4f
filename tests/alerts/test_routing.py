"""Routing: rules first, then the composante's scolarité, then the CEMU."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from alerts.routing import Composante, Router, RoutingFileError
from detectors.findings import Evidence

ROUTING = """\
cemu: cemu.assistance@example.org
composantes:
  "12":
    name: UFR HSS
    scolarite: [scolarite.hss@example.org, secretariat.hss@example.org]
  012: {name: "IAE", scolarite: ["scolarite.iae@example.org"]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def alert(
    audience: str,
    cod_cmp: str | None = "12",
    detector: str = "course_archived",
    severity: str = "warning",
) -> SimpleNamespace:
    return SimpleNamespace(audience=audience, cod_cmp=cod_cmp, detector=detector, severity=severity)


def test_scolarite_alert_goes_to_its_composante(tmp_path: Path) -> None:
    router = Router.load(write(tmp_path, ROUTING), cemu_fallback="fallback@example.org")
    assert router.recipients(alert("scolarite")) == [
        "scolarite.hss@example.org",
        "secretariat.hss@example.org",
    ]
    assert router.composante_name("12") == "UFR HSS"


def test_unquoted_composante_code_keeps_its_leading_zero(tmp_path: Path) -> None:
    router = Router.load(write(tmp_path, ROUTING), cemu_fallback="fallback@example.org")
    assert router.recipients(alert("scolarite", "012")) == ["scolarite.iae@example.org"]
    assert router.composante_name("10") is None


@pytest.mark.parametrize(
    "routed",
    [
        alert("scolarite", "99"),
        alert("scolarite", None),
        alert("cemu"),
        alert("oncall"),
        alert("teachers"),
    ],
    ids=["unknown-composante", "no-composante", "cemu", "oncall", "teachers"],
)
def test_everything_else_goes_to_the_cemu_named_in_the_file(
    tmp_path: Path, routed: SimpleNamespace
) -> None:
    router = Router.load(write(tmp_path, ROUTING), cemu_fallback="fallback@example.org")
    assert router.recipients(routed) == ["cemu.assistance@example.org"]


def test_without_a_file_everything_goes_to_the_fallback() -> None:
    router = Router.load(None, cemu_fallback="fallback@example.org")
    assert router.recipients(alert("scolarite")) == ["fallback@example.org"]
    assert router.composante_name("12") is None


def test_file_without_cemu_uses_the_fallback(tmp_path: Path) -> None:
    text = 'composantes:\n  "12": {name: UFR HSS, scolarite: [scolarite.hss@example.org]}\n'
    router = Router.load(write(tmp_path, text), cemu_fallback="fallback@example.org")
    assert router.recipients(alert("oncall")) == ["fallback@example.org"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'composantes:\n  "12":\n    name: UFR HSS\n    scolarite: [pas-une-adresse]\n',
            r"routing.yaml:4: composantes\.12\.scolarite\.0: String should match pattern",
        ),
        (
            'composantes:\n  "12":\n    name: UFR HSS\n',
            r"routing.yaml:3: composantes\.12\.scolarite: Field required",
        ),
        (
            'composantes:\n  "12": {name: UFR HSS, scolarite: []}\n',
            r"routing.yaml:2: composantes\.12\.scolarite: List should have at least 1 item",
        ),
        (
            "cemu: cemu@example.org\ncomposante: {}\n",
            r"routing.yaml:2: composante: Extra inputs are not permitted",
        ),
        (
            'composantes:\n  "12": {name: A, scolarite: [a@example.org]}\n  "12": {name: B, scolarite: [b@example.org]}\n',
            r"routing.yaml:3: key '12' is given twice",
        ),
        ("composantes:\n  - [unclosed\n", r"routing.yaml:3: not valid YAML"),
    ],
    ids=[
        "bad-address",
        "missing-scolarite",
        "empty-scolarite",
        "misspelt-key",
        "duplicate",
        "yaml",
    ],
)
def test_bad_file_is_refused_naming_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RoutingFileError, match=message):
        Router.load(write(tmp_path, text), cemu_fallback="fallback@example.org")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RoutingFileError, match="cannot read the routing file"):
        Router.load(tmp_path / "absent.yaml", cemu_fallback="fallback@example.org")


RULES = (
    ROUTING
    + """\
  "13": {name: UFR Droit, scolarite: [scolarite.droit@example.org]}
rules:
  - match: {detector: sync_run_health}
    to: exploitation@example.org
  - match: {audience: teachers, composante: ["12", "13"]}
    to: [scolarite]
  - match: {severity: critical}
    to: [cemu]
    continue: true
  - match: {composante: "13", audience: [scolarite, cemu]}
    to: [scolarite, juriste.droit@example.org]
"""
)


@pytest.mark.parametrize(
    ("routed", "expected"),
    [
        # A rule by detector, whatever the audience or composante.
        (
            alert("oncall", None, detector="sync_run_health", severity="critical"),
            ["exploitation@example.org"],
        ),
        # Teachers of a listed composante: through its scolarité.
        (alert("teachers", "13", detector="teacher_missing"), ["scolarite.droit@example.org"]),
        # Teachers elsewhere: no rule, the audience's fallback, the CEMU.
        (alert("teachers", "99", detector="teacher_missing"), ["cemu.assistance@example.org"]),
        # ``continue``: the CEMU added, then the default for the audience.
        (
            alert("scolarite", "12", severity="critical"),
            [
                "cemu.assistance@example.org",
                "scolarite.hss@example.org",
                "secretariat.hss@example.org",
            ],
        ),
        # ``continue`` then a deciding rule; each address once.
        (
            alert("cemu", "13", severity="critical"),
            [
                "cemu.assistance@example.org",
                "scolarite.droit@example.org",
                "juriste.droit@example.org",
            ],
        ),
        (
            alert("scolarite", "13"),
            ["scolarite.droit@example.org", "juriste.droit@example.org"],
        ),
        # No rule matches: the existing behaviour.
        (
            alert("scolarite", "12"),
            ["scolarite.hss@example.org", "secretariat.hss@example.org"],
        ),
        (alert("cemu", "12"), ["cemu.assistance@example.org"]),
    ],
    ids=[
        "by-detector",
        "teachers-via-scolarite",
        "teachers-fallback-cemu",
        "continue-then-audience",
        "continue-then-rule",
        "by-composante-and-audience",
        "no-rule-scolarite",
        "no-rule-cemu",
    ],
)
def test_rules_decide_in_order_with_fallbacks(
    tmp_path: Path, routed: SimpleNamespace, expected: list[str]
) -> None:
    router = Router.load(write(tmp_path, RULES), cemu_fallback="fallback@example.org")
    assert router.recipients(routed) == expected


def test_scolarite_target_of_an_unknown_composante_falls_back_to_the_cemu(tmp_path: Path) -> None:
    text = (
        "cemu: cemu@example.org\nrules:\n  - match: {detector: group_missing}\n    to: scolarite\n"
    )
    router = Router.load(write(tmp_path, text), cemu_fallback="fallback@example.org")
    assert router.recipients(alert("scolarite", "77", detector="group_missing")) == [
        "cemu@example.org"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - match: {detector: x}\n    to: [nobody]\n",
            r"routing.yaml:3: rules\.0\.to\.0",
        ),
        (
            "rules:\n  - match: {severity: urgent}\n    to: [cemu]\n",
            r"routing.yaml:2: rules\.0\.match\.severity\.0: Input should be 'info', 'warning' or 'critical'",
        ),
        (
            "rules:\n  - match: {composant: '12'}\n    to: [cemu]\n",
            r"routing.yaml:2: rules\.0\.match\.composant: Extra inputs are not permitted",
        ),
        ("rules:\n  - match: {detector: x}\n", r"routing.yaml:2: rules\.0\.to: Field required"),
        (
            "rules:\n  - match: {detector: x}\n    to: [cemu]\n    continue: peut-être\n",
            r"routing.yaml:4: rules\.0\.continue: Input should be a valid boolean",
        ),
    ],
    ids=["bad-target", "bad-severity", "misspelt-match", "no-target", "bad-continue"],
)
def test_bad_rule_is_refused_naming_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RoutingFileError, match=message):
        Router.load(write(tmp_path, text), cemu_fallback="fallback@example.org")


TEACHER_T1 = Evidence("R6", "enseignant planifié", who="T1", email="t1@univ.fr")


def _alert(detector: str, audience: str, cause: str, evidence: tuple[Evidence, ...]) -> Any:
    """What routing reads of an alert, its people rows included."""
    return SimpleNamespace(
        audience=audience,
        cod_cmp="12",
        detector=detector,
        severity="warning",
        cause=cause,
        evidence=evidence,
    )


def test_teacher_facing_alerts_go_to_the_teachers_planned_in_ade_else_to_the_cemu() -> None:
    router = Router(cemu="cemu@example.org", composantes={})
    no_address = Evidence("R6", "enseignant planifié", who="T2")
    hidden = _alert("course_hidden", "teachers", "hidden_after_start", (TEACHER_T1, no_address))
    assert router.recipients(hidden) == ["t1@univ.fr"]
    hidden.evidence = (no_address, Evidence("R1", "cours Moodle 7 caché"))
    assert router.recipients(hidden) == ["cemu@example.org"]


def test_a_changed_code_goes_to_the_scolarite_with_the_teachers_in_copy() -> None:
    hss = Composante("12", "UFR HSS", ("scolarite.hss@example.org",))
    router = Router(cemu="cemu@example.org", composantes={"12": hss})
    changed = _alert("course_archived", "scolarite", "code_changed", (TEACHER_T1,))
    assert router.recipients(changed) == ["scolarite.hss@example.org", "t1@univ.fr"]
