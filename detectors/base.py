"""What every detector is: a name, the moments it runs at, and a pure function."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from detectors.findings import Finding
from detectors.state import FactSet

# ahead: after each ingested batch, on the dirty ELPs; after_run: when a sync run
# finished, on everything; daily: once a day; continuous: every few minutes, on a
# light view of the state (the runs and the newest fact of each source).
Moment = Literal["ahead", "after_run", "daily", "continuous"]


@dataclass(frozen=True)
class DetectorConfig:
    """The knobs detectors share; DOMAIN.md's assumptions live here, configurable."""

    course_archived_lookback_days: int = 7
    critical_affected: int = 20
    ia_replacement_defect: bool = True
    timezone: str = "Europe/Paris"
    extra: dict[str, str] = field(default_factory=dict)


class DetectFunction(Protocol):
    def __call__(
        self,
        facts: FactSet,
        *,
        now: datetime,
        scope: Collection[str] | None,
        config: DetectorConfig,
    ) -> list[Finding]: ...


@dataclass(frozen=True)
class Detector:
    """A known problem of DOMAIN.md; ``scope`` None means the whole state, else those cod_elp."""

    name: str
    moments: frozenset[Moment]
    detect: DetectFunction
