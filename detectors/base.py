"""What every detector is: a name, the moments it runs at, and a pure function."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal, Protocol

from detectors.causes import Catalogue, DeclaredCause, label_findings
from detectors.findings import Finding
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.state import FactSet

# ahead: after each ingested batch, on the dirty ELPs; after_run: when a sync run
# finished, on everything; daily: once a day; continuous: every few minutes, on a
# light view of the state (the runs and the newest fact of each source).
Moment = Literal["ahead", "after_run", "daily", "continuous"]


@dataclass(frozen=True, slots=True)
class RunHealthConfig:
    """``sync_run_health``'s thresholds (assumptions of ours, see that module)."""

    # run_missing / run_late: the night's run must have succeeded by this local time.
    deadline: time = time(7, 0)
    # warnings_spike / errors_spike: a code above max(factor x median, median + margin)
    # of the same code over the ``baseline_runs`` previous completed runs.
    baseline_runs: int = 7
    spike_factor: float = 3.0
    spike_margin: float = 50.0
    # source_silent: working-day hours without any change from each source.
    silence_hours_refer: float = 24.0
    silence_hours_ade: float = 24.0
    silence_hours_moodle: float = 12.0
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday=0

    def silence_hours(self, source: Literal["refer", "ade", "moodle"]) -> float:
        return {
            "refer": self.silence_hours_refer,
            "ade": self.silence_hours_ade,
            "moodle": self.silence_hours_moodle,
        }[source]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Everything detectors can be told: the sync-rule model's switches and the thresholds.

    Built from the settings (``monitor.config``) once; detectors read typed
    fields only. The rules' calendar (R7 overlap, R10 window, periods, time
    zone) lives in ``model``, the one owner shared with the model.
    """

    model: ModelConfig = DEFAULT_CONFIG
    # Severity: from this many people losing access, a finding is critical (warning when
    # the course starts later than ``severity_soon_days`` from now).
    critical_affected: int = 20
    severity_soon_days: int = 14
    # course_archived: how far back an archive is still reported.
    course_archived_lookback_days: int = 7
    # course_archived: an archived course due for deletion is reported this many days ahead.
    course_deletion_notice_days: int = 30
    # enrolments_lost: how far back deleted enrolments count as losses.
    enrolments_lost_lookback_days: int = 7
    # forgotten_cohort_sync: a cohort sync older than this is reported.
    cohort_sync_max_age_days: int = 180
    # forgotten_cohort_sync: a cohort sync is redundant once this share of its members
    # (0-1) is also enrolled by the database method (38 of 40 is 95 %).
    cohort_redundant_share: float = 0.9
    # course_hidden: days after the period's start before a hidden course is reported.
    course_hidden_grace_days: int = 0
    run_health: RunHealthConfig = field(default_factory=RunHealthConfig)
    # Seed "IA annulée et remplacée" (« qu'une hypothèse en cours d'analyse »): who receives
    # the alert; the CEMU by default (the intermediate tables are the DSI's).
    ia_replacement_audience: Literal["cemu", "scolarite"] = "cemu"

    @property
    def severity_soon(self) -> timedelta:
        return timedelta(days=self.severity_soon_days)

    @property
    def timezone(self) -> str:
        return self.model.timezone

    @property
    def ia_replacement_defect(self) -> bool:
        return self.model.ia_replacement_defect


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
    """A known problem of DOMAIN.md; ``scope`` None means the whole state, else those cod_elp.

    ``causes`` are every cause its findings may carry, declared where they are
    emitted (its own module, a shared helper, the model); ``labelled`` writes
    their labels on the findings and refuses any other cause.
    """

    name: str
    moments: frozenset[Moment]
    detect: DetectFunction
    causes: tuple[DeclaredCause, ...] = ()

    def labelled(self, findings: Iterable[Finding]) -> list[Finding]:
        """``findings`` with their cause's label; ``UndeclaredCause`` on an undeclared one."""
        return label_findings(findings, Catalogue(self.causes))
