"""Time in the sync rules: R7 year overlap, R9 nightly propagation, R10 maintenance window.

All inputs are timezone-aware datetimes; calendar rules (the academic year, the
Sunday window) are read in the configured local zone (Europe/Paris), so they
hold across daylight-saving changes. Results are returned in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from detectors.facts import Period
from detectors.model.config import DEFAULT_CONFIG, ModelConfig, PeriodEdge
from detectors.state import FactSet


def require_aware(moment: datetime, name: str = "now") -> None:
    """Refuse naive datetimes: a wall-clock time without zone cannot be compared with facts."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _local_date(moment: datetime, config: ModelConfig) -> date:
    require_aware(moment, "moment")
    return moment.astimezone(config.zone).date()


def _local_midnight(day: date, config: ModelConfig) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=config.zone).astimezone(UTC)


# --- R7: academic years and their overlap (tuilage) -------------------------------------


def academic_year(moment: datetime, config: ModelConfig = DEFAULT_CONFIG) -> int:
    """The academic year of a moment: 2025 from 1 September 2025 (local) to 31 August 2026."""
    local = _local_date(moment, config)
    started = (local.month, local.day) >= config.academic_year_start
    return local.year if started else local.year - 1


def in_year_overlap(now: datetime, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """Whether the previous academic year is still active (R7: until 30 September inclusive).

    The overlap runs from the start of the academic year to ``year_overlap_until``
    inclusive; an end month-day before the start month-day wraps into the next
    calendar year.
    """
    local = _local_date(now, config)
    today = (local.month, local.day)
    start, until = config.academic_year_start, config.year_overlap_until
    if until >= start:
        return start <= today <= until
    return today >= start or today <= until


def active_years(now: datetime, config: ModelConfig = DEFAULT_CONFIG) -> frozenset[int]:
    """The academic years whose registrations and plannings lmsjonction applies at ``now``."""
    current = academic_year(now, config)
    if in_year_overlap(now, config):
        return frozenset({current - 1, current})
    return frozenset({current})


def is_year_active(year: int | None, now: datetime, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """R7 for one fact's year; a fact without a year is taken as current (assumption)."""
    return year is None or year in active_years(now, config)


def is_overlap_year(year: int | None, now: datetime, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """Whether ``year`` is active only thanks to the overlap (the previous year, in September)."""
    return year is not None and in_year_overlap(now, config) and year < academic_year(now, config)


def year_inactive_from(year: int, config: ModelConfig = DEFAULT_CONFIG) -> datetime:
    """The UTC instant at which academic year ``year`` stops being active (1 October, 00:00 local)."""
    start, until = config.academic_year_start, config.year_overlap_until
    calendar_year = year + 1 if until >= start else year + 2
    last_day = date(calendar_year, *until)
    return _local_midnight(last_day + timedelta(days=1), config)


def period_day(
    period: Period, year: int, edge: PeriodEdge, config: ModelConfig = DEFAULT_CONFIG
) -> datetime:
    """Local midnight of the first or last day of ``period`` in academic year ``year``.

    The days are ``config.periods``; one before the academic year's start
    month-day falls in the next calendar year (S2 starts in January of N+1).
    """
    month, day = config.periods.day(period, edge)
    calendar_year = year if (month, day) >= config.academic_year_start else year + 1
    return datetime(calendar_year, month, day, tzinfo=config.zone)


# --- R9: nightly propagation ----------------------------------------------------------


def sync_horizon(facts: FactSet, now: datetime) -> datetime | None:
    """Start of the last completed sync run at ``now``: facts older than it are on Ecampus."""
    require_aware(now)
    run = facts.last_completed_run(before=now)
    return run.started_at if run is not None else None


def is_pending_since(fact_as_of: datetime, horizon: datetime | None) -> bool:
    """R9: a fact at or after the last completed run's start waits for the next night.

    With no completed run at all, nothing has been propagated yet: every
    difference is pending.
    """
    require_aware(fact_as_of, "fact_as_of")
    return horizon is None or fact_as_of >= horizon


def is_pending(fact_as_of: datetime, facts: FactSet, now: datetime) -> bool:
    """R9 against the runs recorded in ``facts``: True means "will be fixed tonight", not a fault."""
    return is_pending_since(fact_as_of, sync_horizon(facts, now))


# --- R10: maintenance window ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One weekly Moodle database optimisation, in UTC; ``end`` is exclusive."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        require_aware(moment, "moment")
        return self.start <= moment < self.end


def maintenance_window_at_or_after(
    now: datetime, config: ModelConfig = DEFAULT_CONFIG
) -> MaintenanceWindow:
    """The maintenance window containing ``now``, or else the next one."""
    today = _local_date(now, config)
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() != config.maintenance_weekday:
            continue
        start = datetime.combine(day, config.maintenance_start, tzinfo=config.zone)
        end = datetime.combine(day, config.maintenance_end, tzinfo=config.zone)
        window = MaintenanceWindow(start.astimezone(UTC), end.astimezone(UTC))
        if window.end > now:
            return window
    raise AssertionError("a weekday recurs within eight days")  # pragma: no cover


def in_maintenance_window(now: datetime, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """R10: database connection failures are expected now (Sunday 09:00-11:00 Europe/Paris)."""
    return maintenance_window_at_or_after(now, config).contains(now)


def failure_expected(moment: datetime, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """R10 with its overrun: a database failure at ``moment`` is expected.

    Inside the window, or up to ``maintenance_overrun`` after its end (the seed:
    "en période de forte activité, cela peut durer un peu plus").
    """
    require_aware(moment, "moment")
    window = maintenance_window_at_or_after(moment - config.maintenance_overrun, config)
    return window.start <= moment < window.end + config.maintenance_overrun
