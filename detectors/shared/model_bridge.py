"""How detectors reach the sync-rule model: one ``ModelConfig``, one evaluation per pass.

The pipeline hands every detector of a pass the same ``FactSet`` and ``now``.
The model's full pass costs seconds at Unicaen's scale, so it is evaluated
once per (facts, ``now``, config) and kept with the facts (``FactSet.memo``):
still pure, the answer depends on nothing else. R7 and R9 are read from the
model's ``timing`` here too, so detectors never re-encode them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from detectors.base import DetectorConfig
from detectors.facts import Ip
from detectors.model import (
    ExpectedCourse,
    ExpectedState,
    ModelConfig,
    ModelContext,
    Refusal,
    expected_course,
    expected_for_elp,
    expected_state,
    in_year_overlap,
    is_overlap_year,
    is_pending_since,
    sync_horizon,
)
from detectors.state import FactSet


def model_config(config: DetectorConfig) -> ModelConfig:
    """The model's switches and calendar, as the settings gave them."""
    return config.model


@dataclass(frozen=True, slots=True)
class Around:
    """The model around a scope: the courses it reaches and the refusals reaching no course."""

    courses: tuple[ExpectedCourse, ...]
    orphan_refusals: tuple[Refusal, ...]

    def refusals(self) -> Iterator[Refusal]:
        for course in self.courses:
            yield from course.refusals
        yield from self.orphan_refusals


class ModelPass:
    """The model evaluated for one detector pass, with R7 and R9 at ``now``."""

    def __init__(self, facts: FactSet, now: datetime, config: ModelConfig) -> None:
        self.facts = facts
        self.now = now
        self.config = config
        self.horizon = sync_horizon(facts, now)  # R9: start of the last completed run
        self.in_overlap = in_year_overlap(now, config)
        self._ctx = ModelContext(facts, now, config)
        self._state: ExpectedState | None = None
        self._courses: dict[str, ExpectedCourse | None] = {}
        self._orphans: dict[str, tuple[Refusal, ...]] = {}

    def pending(self, as_of: datetime) -> bool:
        """R9: a fact at or after the last completed run's start waits for tonight's run."""
        return is_pending_since(as_of, self.horizon)

    def overlap_year(self, year: int | None) -> bool:
        """R7: the previous year, still active until the end of September."""
        return is_overlap_year(year, self.now, self.config)

    def overlap_refusal(self, refusal: Refusal) -> bool:
        """A refusal about a previous-year IP during the overlap: expected, not a fault (R7)."""
        ip = refusal.facts[0] if refusal.facts else None
        return isinstance(ip, Ip) and self.overlap_year(ip.year)

    def state(self) -> ExpectedState:
        if self._state is None:
            self._state = expected_state(self.facts, self.now, self.config)
        return self._state

    def course(self, idnumber: str) -> ExpectedCourse | None:
        """The expected course of a current ELP, None for any other idnumber."""
        if self._state is not None:
            return self._state.courses.get(idnumber)
        if idnumber not in self._courses:
            self._courses[idnumber] = expected_course(self._ctx, idnumber)
        return self._courses[idnumber]

    def around(self, scope: Collection[str] | None) -> Around:
        """Every course and orphan refusal (``scope`` None), or those the scope's ELPs reach."""
        if scope is None:
            state = self.state()
            return Around(tuple(state.courses.values()), state.orphan_refusals)
        courses: dict[str, ExpectedCourse] = {}
        orphans: list[Refusal] = []
        for code in dict.fromkeys(scope):
            idnumber = self._ctx.elp(code).course_idnumber
            course = self.course(idnumber) if idnumber is not None else None
            if course is not None:
                courses[course.idnumber] = course
            else:
                orphans.extend(self._orphan_refusals(code))
        return Around(tuple(courses.values()), tuple(orphans))

    def _orphan_refusals(self, code: str) -> tuple[Refusal, ...]:
        if code not in self._orphans:
            self._orphans[code] = expected_for_elp(self.facts, code, self.now, self.config).refusals
        return self._orphans[code]


def model_pass(facts: FactSet, now: datetime, config: DetectorConfig) -> ModelPass:
    """The pass shared by every detector called with these facts, ``now`` and config."""
    model = model_config(config)
    key = f"model_pass:{now.isoformat()}:{model!r}"
    return facts.memo(key, lambda: ModelPass(facts, now, model))
