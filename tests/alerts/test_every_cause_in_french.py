"""Every cause of every detector, and of the monitor's own alerts, has a French label and a
French 'what to do', and renders.

The causes are collected from where they are declared, not from a list kept
here: every module of ``detectors``, ``alerts`` and ``monitor`` is imported,
and its ``OWN_CAUSES`` (code, French label, who acts: ``detectors.causes``),
its ``CAUSE`` (with its ``REMEDIATION`` text), its ``REMEDIATION`` table, its
``Cause = Literal[...]`` and diagnosis' ``REMEDY`` are read; then every
``Finding(cause=...)`` in their source is checked to use a cause some module
declares in ``OWN_CAUSES``, and every declaration to reach the catalogue the
daemon labels alerts from (``monitor.cause_catalogue``). A new cause without a
declaration, a label, a remediation or a way into the catalogue fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import get_args

import pytest

from alerts.notify.causes import UNLABELLED, cause_label
from alerts.notify.digest_compose import CauseGroup, CourseGroup, Digest, DigestItem
from alerts.notify.render import render_alert
from alerts.notify.render_digest import render_digest
from alerts.repository import AlertRecord
from detectors.base import Detector
from detectors.causes import FIXERS, Catalogue, DeclaredCause
from detectors.diagnose.text import REMEDY
from detectors.model import CAUSES
from detectors.registry import DETECTORS
from monitor.cause_catalogue import CAUSES as CATALOGUE
from monitor.dead_letter_alerts import REASON_LABELS
from monitor.kafka.ingest.decode import ReasonKind

PACKAGES = ("detectors", "alerts", "monitor")
# Alembic's scripts run inside a migration context; the CLI's entry point runs on import.
_NOT_IMPORTED = ("monitor.store.migrations", "monitor.__main__")


def _modules() -> list[ModuleType]:
    found: list[ModuleType] = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not info.name.startswith(_NOT_IMPORTED):
                found.append(importlib.import_module(info.name))
    return found


MODULES = _modules()


@dataclass(frozen=True, slots=True)
class Declared:
    """The causes declared in the code, each with its remediation (None: not declared)."""

    causes: Mapping[str, tuple[DeclaredCause, str]]  # OWN_CAUSES: code -> (declaration, module)
    remediation: Mapping[str, str | None]  # CAUSE and REMEDIATION tables
    typed: Mapping[str, str]  # cause -> module, from ``Cause = Literal[...]``
    uses: tuple[tuple[str, int, str], ...]  # (module, line, problem) of Finding(cause=...)


def _literal_causes(tree: ast.Module) -> Iterator[str]:
    """The strings of a module-level ``...Cause = Literal[...]``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(n.endswith("Cause") for n in names) and ast.unparse(node.value.value).endswith(
                "Literal"
            ):
                for item in ast.walk(node.value.slice):
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        yield item.value


def _finding_causes(tree: ast.Module) -> Iterator[tuple[int, ast.expr]]:
    """``cause=`` of every ``Finding(...)`` or ``replace(..., cause=...)`` call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func).rsplit(".", 1)[-1]
        if called in ("Finding", "replace"):
            for keyword in node.keywords:
                if keyword.arg == "cause":
                    yield node.lineno, keyword.value


def _own_causes(module: ModuleType) -> tuple[DeclaredCause, ...]:
    """The module's ``OWN_CAUSES``; a cause declared otherwise fails here."""
    own = getattr(module, "OWN_CAUSES", ())
    assert isinstance(own, tuple) and all(isinstance(c, DeclaredCause) for c in own), module
    return own


def _declared() -> Declared:
    causes: dict[str, tuple[DeclaredCause, str]] = {}
    remediation: dict[str, str | None] = {}
    typed: dict[str, str] = {}
    calls: list[tuple[ModuleType, int, ast.expr]] = []
    for module in MODULES:
        for own in _own_causes(module):
            # The same declaration imported by another module is one declaration.
            first = causes.setdefault(own.code, (own, module.__name__))
            assert first[0] == own, f"{own.code}: declared by {first[1]} and {module.__name__}"
        cause = getattr(module, "CAUSE", None)
        text = getattr(module, "REMEDIATION", None)
        if isinstance(cause, str):
            remediation[cause] = text if isinstance(text, str) else None
        if isinstance(text, Mapping):
            remediation.update({str(c): str(t) for c, t in text.items()})
        source = inspect.getsourcefile(module)
        assert source is not None
        tree = ast.parse(Path(source).read_text(encoding="utf-8"))
        typed.update(dict.fromkeys(_literal_causes(tree), module.__name__))
        calls.extend((module, line, value) for line, value in _finding_causes(tree))
    uses: list[tuple[str, int, str]] = []
    for module, line, value in calls:
        where = module.__name__
        if isinstance(value, ast.Constant):
            if value.value not in causes:
                uses.append(
                    (
                        where,
                        line,
                        f"cause {value.value!r} is not declared: add it to an OWN_CAUSES",
                    )
                )
        elif isinstance(value, ast.Name) and value.id == "CAUSE":
            declared = getattr(module, "CAUSE", None)
            if not isinstance(declared, str):
                uses.append((where, line, "uses CAUSE but declares none"))
            elif declared not in causes:
                uses.append((where, line, f"CAUSE {declared!r} is in no OWN_CAUSES"))
        elif not (
            isinstance(getattr(module, "REMEDIATION", None), Mapping) or hasattr(module, "Cause")
        ):
            uses.append((where, line, f"cause {ast.unparse(value)} comes from no declared set"))
    return Declared(causes, remediation, typed, tuple(uses))


DECLARED = _declared()
DETECTOR_CAUSES = {c: t for c, t in DECLARED.remediation.items() if t is not None}
ALL_CAUSES = sorted(
    {
        *DECLARED.causes,
        *DECLARED.remediation,
        *DECLARED.typed,
        *(str(c) for c in CAUSES),
        *REMEDY,
    }
)
_RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def test_the_collection_finds_the_monitors_own_alerts_and_every_detector() -> None:
    # Not a list to keep up to date: a guard that the collection above still looks everywhere.
    for own in ("dead_lettered", "notifications_failed", "drift", "run_failed", "source_silent"):
        assert own in ALL_CAUSES
    assert len(MODULES) > 100


def test_every_finding_uses_a_declared_cause() -> None:
    assert DECLARED.uses == ()


@pytest.mark.parametrize("cause", sorted(DECLARED.remediation))
def test_every_declared_cause_has_its_remediation(cause: str) -> None:
    assert DECLARED.remediation[cause] is not None, f"{cause}: CAUSE without a REMEDIATION text"


@pytest.mark.parametrize("cause", sorted(DECLARED.typed))
def test_every_typed_cause_says_what_to_do(cause: str) -> None:
    module = DECLARED.typed[cause]
    assert cause in DETECTOR_CAUSES or cause in REMEDY, f"{cause} ({module}): no remediation"


def test_every_dead_letter_reason_is_in_french() -> None:
    assert set(REASON_LABELS) == set(get_args(ReasonKind))


@pytest.mark.parametrize("cause", ALL_CAUSES)
def test_every_cause_has_a_french_label_and_someone_to_act(cause: str) -> None:
    assert cause in DECLARED.causes, f"cause {cause} is in no module's OWN_CAUSES"
    assert cause in CATALOGUE, f"cause {cause} is declared but never reaches the catalogue"
    label = CATALOGUE[cause].shown
    assert not _RAW_CODE.search(label) and "(s)" not in label
    assert label[:1].isupper()
    assert CATALOGUE[cause].fixer in FIXERS


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_every_cause_a_detector_declares_says_what_to_do(detector: Detector) -> None:
    # The detector's own remediation texts: it may word a shared cause its own way.
    module = importlib.import_module(detector.detect.__module__)
    table = getattr(module, "REMEDIATION", None)
    said = {str(c) for c in table} if isinstance(table, Mapping) else {module.CAUSE}
    declared = {c.code for c in detector.causes}
    assert declared, f"{detector.name} declares no cause"
    assert declared <= said, f"{detector.name}: no remediation for {declared - said}"


def test_the_catalogue_refuses_a_cause_declared_twice_differently() -> None:
    some = next(iter(CATALOGUE.values()))
    Catalogue(CATALOGUE.values(), (some,))  # the same declaration twice is one
    reworded = DeclaredCause(some.code, some.label + " (autrement)", some.fixer)
    with pytest.raises(ValueError, match=some.code):
        Catalogue(CATALOGUE.values(), (reworded,))


@pytest.mark.parametrize("cause", sorted(DETECTOR_CAUSES))
def test_every_detector_cause_says_what_to_do_in_french(cause: str) -> None:
    text = DETECTOR_CAUSES[cause]
    assert len(text) > 60 and "(s)" not in text and "`" not in text
    words = re.sub(r"\{\w+\}", "", text).replace("ELP_", "")  # placeholders filled later
    assert not _RAW_CODE.search(words), text


@pytest.mark.parametrize("cause", sorted(str(c) for c in CAUSES))
def test_every_model_cause_has_a_diagnosis_remedy(cause: str) -> None:
    who, how = REMEDY[cause]
    assert who in FIXERS and how and "(s)" not in how


def test_the_catalogue_is_what_the_modules_declare() -> None:
    assert set(CATALOGUE) == set(DECLARED.causes)
    for code, (declaration, module) in DECLARED.causes.items():
        assert CATALOGUE[code] == declaration, f"{code} ({module})"


@pytest.mark.parametrize("cause", ALL_CAUSES)
def test_every_cause_renders_in_an_email_and_a_digest_without_its_code(
    cause: str, make_alert: Callable[..., AlertRecord]
) -> None:
    label = CATALOGUE[cause].shown
    alert = make_alert(
        cause=cause,
        cause_label=label,
        remediation=DETECTOR_CAUSES.get(cause, "Rien à faire."),
    )
    email = render_alert(alert, rule="new-open", public_url="https://m.example", contact="c@x")
    assert cause not in email.text and cause not in email.html
    now = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    item = DigestItem(alert, "new")
    assert cause_label(alert) == label
    group = CauseGroup(cause, cause_label(alert), (item,))
    course = CourseGroup(alert.cod_elp, alert.cod_cmp, (group,))
    digest = Digest("scolarite.hss@example.org", now.date(), now, now, (course,))
    rendered = render_digest(
        digest, public_url="https://m.example", contact="c@x", composante_name=lambda _: None
    )
    assert f"Cause : {label}" in rendered.text
    assert f"Cause : {cause}\n" not in rendered.text


def test_an_alert_without_a_label_says_so_in_french(
    make_alert: Callable[..., AlertRecord],
) -> None:
    assert cause_label(make_alert(cause="removed_from_offer", cause_label=None)) == UNLABELLED
