"""Routing: the composante's scolarité gets its alerts, the CEMU everything else."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from alerts.routing import Router, RoutingFileError

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


def alert(audience: str, cod_cmp: str | None = "12") -> SimpleNamespace:
    return SimpleNamespace(audience=audience, cod_cmp=cod_cmp)


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
