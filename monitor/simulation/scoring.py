"""Score detectors against the ground truth: precision and recall per detector.

An alert is identified as the daemon fingerprints it: (detector, subject,
cause). ``DetectorReplay`` runs detectors in-process at checkpoints of a
simulation (each evening after the edits, each morning after the run) on the
simulator's own facts, so scoring needs neither broker nor store; the findings
of every checkpoint are pooled (an alert raised once counts, as an alert opened
once would).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from detectors.base import Detector, DetectorConfig
from detectors.incidents import OWNERS
from monitor.simulation.faults import TruthRecord
from monitor.simulation.university import University

# DOMAIN.md's table, in order.
DETECTOR_NAMES = (
    "course_archived",
    "students_not_enrolled",
    "enrolments_lost",
    "group_missing",
    "teacher_missing",
    "too_many_teachers",
    "forgotten_cohort_sync",
    "course_hidden",
    "course_idnumber_changed",
    "account_missing_email",
    "course_ended_early",
    "sync_run_health",
    "run_report_check",
)

AlertKey = tuple[str, str, str]  # detector, subject, cause
ALL_MOMENTS = frozenset({"ahead", "after_run", "daily", "continuous"})


def available_detectors(names: Iterable[str] = DETECTOR_NAMES) -> list[Detector]:
    """The detectors of ``names`` that exist (module ``detectors.<name>`` with ``DETECTOR``)."""
    found = []
    for name in names:
        try:
            module = importlib.import_module(f"detectors.{name}")
        except ImportError:
            continue
        detector = getattr(module, "DETECTOR", None)
        if isinstance(detector, Detector):
            found.append(detector)
    return found


def truth_keys(truth: Iterable[TruthRecord | dict[str, Any]]) -> set[AlertKey]:
    keys = set()
    for record in truth:
        if isinstance(record, TruthRecord):
            keys.add((record.detector, record.expected_alert_subject, record.cause))
        else:
            keys.add((record["detector"], record["expected_alert_subject"], record["cause"]))
    return keys


@dataclass(frozen=True, slots=True)
class Score:
    """How one detector did: alerts expected, raised, and both."""

    detector: str
    expected: int
    raised: int
    matched: int
    missed: tuple[AlertKey, ...] = ()
    unexpected: tuple[AlertKey, ...] = ()

    @property
    def precision(self) -> float | None:
        return self.matched / self.raised if self.raised else None

    @property
    def recall(self) -> float | None:
        return self.matched / self.expected if self.expected else None


def with_incidents(raised: Iterable[AlertKey], expected: Iterable[AlertKey]) -> set[AlertKey]:
    """``raised``, plus the expected keys an incident alert of another detector stands for.

    Findings of ``detectors.incidents.OWNERS`` about one ELP and cause are one
    alert, kept under its owner's detector: an expected enrolments_lost alert
    is found when the students_not_enrolled alert of that ELP and cause is.
    """

    found = set(raised)
    incidents = {(s, c) for d, s, c in found if d in OWNERS}
    return found | {(d, s, c) for d, s, c in expected if d in OWNERS and (s, c) in incidents}


def score(raised: Iterable[AlertKey], expected: Iterable[AlertKey]) -> dict[str, Score]:
    """Per detector: matched = raised ∩ expected, by (detector, subject, cause)."""
    raised_by: dict[str, set[AlertKey]] = defaultdict(set)
    expected_by: dict[str, set[AlertKey]] = defaultdict(set)
    expected = list(expected)
    for key in with_incidents(raised, expected):
        raised_by[key[0]].add(key)
    for key in expected:
        expected_by[key[0]].add(key)
    scores = {}
    for detector in sorted(raised_by.keys() | expected_by.keys()):
        got, want = raised_by[detector], expected_by[detector]
        scores[detector] = Score(
            detector,
            len(want),
            len(got),
            len(got & want),
            tuple(sorted(want - got)),
            tuple(sorted(got - want)),
        )
    return scores


@dataclass
class DetectorReplay:
    """Runs detectors on the simulator's facts at checkpoints; pools what they raise."""

    uni: University
    config: DetectorConfig = field(default_factory=DetectorConfig)
    detectors: list[Detector] = field(default_factory=available_detectors)
    raised: set[AlertKey] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)

    def __call__(self, moment: datetime, moments: frozenset[str] = ALL_MOMENTS) -> None:
        """Run the detectors of ``moments`` (ahead, after_run, daily…) at ``moment``."""
        facts = self.uni.fact_set()
        for detector in self.detectors:
            if not detector.moments & moments:
                continue
            try:
                findings = detector.detect(facts, now=moment, scope=None, config=self.config)
            except Exception as error:  # a detector under construction must not stop scoring
                self.errors[detector.name] = f"{type(error).__name__}: {error}"
                continue
            self.raised.update(
                (f.detector, f.subject, f.cause) for f in findings if not f.pending_until_next_run
            )
