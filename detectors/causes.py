"""What a cause is once declared: its code, its French label, and who acts on it.

Every module that emits a cause declares it next to the code that emits it
(``OWN_CAUSES`` of a known detector, of a shared helper, of diagnosis, of the
monitor's own alerts; the model's in ``detectors.model.causes``), and every
detector lists on its ``Detector`` the causes it can emit.
``detectors.registry`` collects them into one ``Catalogue``; the pipeline
writes each finding's label on it (``label_findings``), so alerts, emails and
the page show ``Finding.cause_label`` and look nothing up. A raw code
(``without_planning``) never reaches a person.

The model's causes (``detectors.model.causes``) are not repeated here; this
module imports nothing of the model (the model imports it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

from detectors.findings import Finding

# Who acts on a cause; ``FIXERS`` says it in French (diagnosis shows it).
Fixer = Literal[
    "scolarite", "cemu", "cemu_dsi", "teachers", "inscriptions", "oncall", "nobody", "tonight"
]

FIXERS: Mapping[Fixer, str] = {
    "scolarite": "la scolarité de la composante",
    "cemu": "le CEMU",
    "cemu_dsi": "le CEMU, avec la DSI (hypothèse sur les tables intermédiaires)",
    "teachers": "les enseignants du cours",
    "inscriptions": "le bureau des inscriptions (SI-Scol, DEVE)",
    "oncall": "l'astreinte du CEMU (exploitation de lmsjonction)",
    "nobody": "personne : situation voulue",
    "tonight": "personne : la synchronisation de cette nuit s'en charge",
}


@dataclass(frozen=True, slots=True)
class DeclaredCause:
    """One cause as its module declares it: ``code`` on the finding, ``label`` for people."""

    code: str
    label: str
    fixer: Fixer

    def __post_init__(self) -> None:
        if not self.code or not self.label:
            raise ValueError(f"cause {self.code!r}: a code and a French label are needed")
        if self.fixer not in get_args(Fixer):
            raise ValueError(f"cause {self.code!r}: unknown fixer {self.fixer!r}")

    @property
    def shown(self) -> str:
        """The label as people read it, first letter raised (as ``describe.capitalised``)."""
        return self.label[:1].upper() + self.label[1:]


class CauseConflict(ValueError):
    """One code declared twice with different labels or fixers."""


class UndeclaredCause(LookupError):
    """A finding whose cause its detector does not declare."""


class Catalogue(Mapping[str, DeclaredCause]):
    """Declared causes by code; built from declarations, it refuses two that disagree."""

    def __init__(self, *declarations: Iterable[DeclaredCause]) -> None:
        causes: dict[str, DeclaredCause] = {}
        for group in declarations:
            for cause in group:
                known = causes.setdefault(cause.code, cause)
                if known != cause:
                    raise CauseConflict(
                        f"cause {cause.code!r} declared twice: {known.label!r} ({known.fixer}) "
                        f"and {cause.label!r} ({cause.fixer})"
                    )
        self._causes = causes

    def __getitem__(self, code: str) -> DeclaredCause:
        return self._causes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._causes)

    def __len__(self) -> int:
        return len(self._causes)

    def labels(self) -> dict[str, str]:
        """Code -> label as shown (the alerts' ``cause_label`` column is filled from this)."""
        return {code: cause.shown for code, cause in self._causes.items()}


def declared(
    causes: Mapping[str, DeclaredCause], codes: Iterable[str]
) -> tuple[DeclaredCause, ...]:
    """The declarations of ``codes`` in ``causes`` (a KeyError names an undeclared one)."""
    return tuple(causes[code] for code in codes)


def label_findings(
    findings: Iterable[Finding], causes: Mapping[str, DeclaredCause]
) -> list[Finding]:
    """The findings with their cause's label; ``UndeclaredCause`` on a cause not in ``causes``."""
    labelled: list[Finding] = []
    for finding in findings:
        cause = causes.get(finding.cause)
        if cause is None:
            raise UndeclaredCause(
                f"detector {finding.detector} found cause {finding.cause!r}, which it does "
                "not declare"
            )
        labelled.append(replace(finding, cause_label=cause.shown))
    return labelled
