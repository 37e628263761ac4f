"""Which fault happens on which day, and what goes wrong on which night.

Day ``k`` (1..N) is the calendar day ``start + k - 1``; night ``k`` follows it.
Data faults are shuffled over the days; a missing, late or failed run each
needs a night of its own; a warnings spike needs a night that runs; a silent
source needs a working day (Monday to Friday), on which no ADE fault is put.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from monitor.simulation.fault_kinds import FAULT_KINDS
from monitor.simulation.faults import RUN_SECTION, FaultConfig

SPIKE_BASELINE_RUNS = 3


class ScheduleError(ValueError):
    """The faults asked for do not fit in the nights simulated; the message says what to change."""


@dataclass(frozen=True, slots=True)
class NightTrouble:
    missing: bool = False
    late: bool = False
    failed: bool = False
    spike: bool = False


@dataclass(frozen=True)
class Schedule:
    start: date
    nights: int
    data_faults: dict[int, list[str]] = field(default_factory=dict)
    troubles: dict[int, NightTrouble] = field(default_factory=dict)
    silent_days: frozenset[int] = frozenset()
    silence_starts: frozenset[int] = frozenset()

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day - 1)

    def trouble(self, night: int) -> NightTrouble:
        return self.troubles.get(night, NightTrouble())


def make_schedule(config: FaultConfig, nights: int, start: date, rng: random.Random) -> Schedule:
    if nights < 1:
        raise ScheduleError("simulate at least one night")
    runs = config.sync_run_health
    broken = runs.missing_run + runs.failed_run
    exclusive = broken + runs.late_run
    # The last night applies the last day's faults: it is never missing nor failed.
    if broken > nights - 1 or exclusive > nights:
        needed = max(broken + 1, exclusive)
        raise ScheduleError(
            f"{runs.missing_run} missing, {runs.failed_run} failed and {runs.late_run} late runs "
            f"need a night each, the last one running normally: use --nights {needed}"
        )
    order = list(range(1, nights + 1))
    troubles: dict[int, dict[str, bool]] = {n: {} for n in order}
    broken_nights = rng.sample(order[:-1], broken)
    kinds = ["missing"] * runs.missing_run + ["failed"] * runs.failed_run
    for night, kind in zip(broken_nights, kinds, strict=True):
        troubles[night][kind] = True
    free = [n for n in order if n not in broken_nights]
    for night in rng.sample(free, runs.late_run):
        troubles[night]["late"] = True

    # A spike stands out against the completed runs before it (night 0 included):
    # sync_run_health wants SPIKE_BASELINE_RUNS of them.
    def completed_before(night: int) -> int:
        return 1 + sum(1 for n in range(1, night) if not troubles[n].get("missing"))

    running = [
        n
        for n in order
        if completed_before(n) >= SPIKE_BASELINE_RUNS
        and not (troubles[n].get("missing") or troubles[n].get("failed"))
    ]
    if runs.warnings_spike > len(running):
        raise ScheduleError(
            f"{runs.warnings_spike} warnings spike(s) need as many running nights with "
            f"{SPIKE_BASELINE_RUNS} completed runs before each: add nights"
        )
    for night in rng.sample(running, runs.warnings_spike):
        troubles[night]["spike"] = True

    # Silent two working days in a row: sync_run_health waits 24 working hours.
    def working(day: int) -> bool:
        return (start + timedelta(days=day - 1)).weekday() < 5

    pairs = [n for n in order if n + 1 <= nights and working(n) and working(n + 1)]
    silent_starts: list[int] = []
    for first in rng.sample(pairs, len(pairs)):
        if len(silent_starts) == runs.silent_source:
            break
        if all(abs(first - other) > 1 for other in silent_starts):
            silent_starts.append(first)
    if len(silent_starts) < runs.silent_source:
        raise ScheduleError(
            f"{runs.silent_source} silent source(s) need as many pairs of working days among "
            f"the {nights} simulated: add nights"
        )
    silent = frozenset(d for first in silent_starts for d in (first, first + 1))
    data = _spread_data_faults(config, order, silent, rng)
    return Schedule(
        start,
        nights,
        data,
        {n: NightTrouble(**t) for n, t in troubles.items() if t},
        silent,
        frozenset(silent_starts),
    )


def _spread_data_faults(
    config: FaultConfig, days: list[int], silent: frozenset[int], rng: random.Random
) -> dict[int, list[str]]:
    keys = [
        f"{section}.{variant}"
        for section, variant, count in config.counts()
        if section != RUN_SECTION
        for _ in range(count)
    ]
    rng.shuffle(keys)
    by_day: dict[int, list[str]] = {day: [] for day in days}
    for index, key in enumerate(keys):
        candidates = days
        if FAULT_KINDS[key].touches_ade:
            candidates = [d for d in days if d not in silent]
            if not candidates:
                raise ScheduleError(f"{key} writes to ADE, silent on every simulated day")
        by_day[candidates[index % len(candidates)]].append(key)
    return by_day
