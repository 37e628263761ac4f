"""The simulated academic calendar: semesters, course dates, and local times of day.

Assumptions (the seed gives no dates): semester 1 runs from the first Monday
of September to mid-January, semester 2 from the following Monday to the end
of June; Moodle courses end on 31 August, the end of the academic year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the nightly run imports this module and must not import the model
    from detectors.facts import Period
    from detectors.model import ModelConfig


def _first_monday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


@dataclass(frozen=True, slots=True)
class AcademicCalendar:
    """Academic year ``year`` (APOGÉE's COD_ANU: 2026 is 2026-2027) in the university's zone."""

    year: int
    zone: ZoneInfo

    @classmethod
    def around(cls, moment: datetime, config: ModelConfig) -> AcademicCalendar:
        from detectors.model import academic_year

        return cls(academic_year(moment, config), config.zone)

    def at(self, day: date, hour: int = 0, minute: int = 0) -> datetime:
        """A local wall-clock time, as an aware UTC datetime."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def period_bounds(self, period: Period) -> tuple[date, date]:
        s1_start = _first_monday(self.year, 9)
        s2_start = _first_monday(self.year + 1, 1) + timedelta(days=14)
        if period == "S1":
            return s1_start, s2_start - timedelta(days=2)
        if period == "S2":
            return s2_start, date(self.year + 1, 6, 30)
        return s1_start, date(self.year + 1, 6, 30)

    def period_start(self, period: Period) -> datetime:
        return self.at(self.period_bounds(period)[0])

    def course_end(self) -> datetime:
        """End date of every current course (end of the academic year)."""
        return self.at(date(self.year + 1, 8, 31))

    def period_started(self, period: Period, moment: datetime) -> bool:
        return moment >= self.period_start(period)

    def session_time(self, rng: random.Random, period: Period) -> datetime:
        """A weekday slot (08:00 to 18:00 local) inside the period's teaching weeks."""
        first, last = self.period_bounds(period)
        day = first + timedelta(days=rng.randrange((last - first).days + 1))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return self.at(day, rng.choice((8, 10, 13, 15, 17)), rng.choice((0, 15, 30, 45)))
