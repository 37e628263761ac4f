"""What a detector returns: a finding with its evidence, cause and remediation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Severity = Literal["info", "warning", "critical"]
Audience = Literal["scolarite", "teachers", "cemu", "oncall"]
Phase = Literal["predicted", "occurred"]

SEVERITY_ORDER: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact that shows the finding, with its source date and the rule it bears on.

    A row about one person (``who`` set: a student number or an ADE teacher id)
    is a line of the people table, not prose: ``fact`` says why in French,
    ``as_of`` since when; ``name``, ``group`` and ``email`` are shown when known
    (``email`` addresses teachers, from their REFER account).
    """

    rule: str
    fact: str
    as_of: datetime | None = None
    who: str | None = None
    name: str | None = None
    group: str | None = None
    email: str | None = None

    @property
    def is_person(self) -> bool:
        return self.who is not None


@dataclass(frozen=True, slots=True)
class Finding:
    """A known problem found in the state, grouped at the level a person acts on.

    ``subject`` is the key the finding is about (a ``cod_elp``, a run id, …) and
    ``cause`` the variant of the problem; together with the detector they make
    the alert's fingerprint, so the same problem found again is the same alert.
    ``pending_until_next_run`` is rule R9: the difference is younger than the
    last completed run and tonight's run will settle it. ``cause_label`` is the
    cause's French label from its declaration (``detectors.causes``): the
    pipeline writes it (``Detector.labelled``), the monitor's own alerts set it,
    and the alert stores it, so nothing downstream looks a code up.
    """

    detector: str
    subject: str
    cause: str
    title: str
    summary: str
    remediation: str
    severity: Severity
    audience: Audience
    phase: Phase = "occurred"
    cod_cmp: str | None = None
    cod_elp: str | None = None
    course_id: int | None = None
    affected_count: int = 0
    pending_until_next_run: bool = False
    evidence: tuple[Evidence, ...] = field(default=())
    cause_label: str = ""

    @property
    def fingerprint(self) -> str:
        raw = f"{self.detector}\x1f{self.subject}\x1f{self.cause}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]
