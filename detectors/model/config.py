"""The sync-rule model's configuration: the seed's facts and our assumptions, as switches.

DOMAIN.md asks that every choice the seed leaves open stay configurable; each
field below names the rule it tunes and whether it is the seed's word or ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from detectors.facts import Period

MonthDay = tuple[int, int]
PeriodEdge = Literal["start", "end"]


def _check_month_day(name: str, value: MonthDay) -> None:
    month, day = value
    try:
        date(2000, month, day)  # a leap year, so (2, 29) is accepted
    except ValueError as error:
        raise ValueError(f"{name}={value!r} is not a valid (month, day)") from error


@dataclass(frozen=True, slots=True)
class PeriodCalendar:
    """First and last day ("MM-DD" as (month, day)) of each ELP period in its academic year.

    An assumption of ours (the seed gives no dates), used by ``course_hidden``
    and ``course_ended_early``: S1 and yearly ELPs start on 1 September, S2
    ones mid-January; S1 ends on 31 January, S2 and the year on 30 June. A
    day before ``ModelConfig.academic_year_start`` falls in the next calendar year.
    """

    start_s1: MonthDay = (9, 1)
    start_s2: MonthDay = (1, 15)
    start_year: MonthDay = (9, 1)
    end_s1: MonthDay = (1, 31)
    end_s2: MonthDay = (6, 30)
    end_year: MonthDay = (6, 30)

    def __post_init__(self) -> None:
        for name in ("start_s1", "start_s2", "start_year", "end_s1", "end_s2", "end_year"):
            _check_month_day(f"periods.{name}", getattr(self, name))

    def day(self, period: Period, edge: PeriodEdge) -> MonthDay:
        """The (month, day) a period starts or ends on."""
        return {
            ("S1", "start"): self.start_s1,
            ("S2", "start"): self.start_s2,
            ("year", "start"): self.start_year,
            ("S1", "end"): self.end_s1,
            ("S2", "end"): self.end_s2,
            ("year", "end"): self.end_year,
        }[(period, edge)]


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Switches of the sync-rule model (DOMAIN.md R1-R10).

    Example: ``ModelConfig(ia_replacement_defect=False)`` models an lmsjonction
    in which the cancelled-and-replaced IA defect (R3.6) has been fixed.
    """

    # R3.6, seed "IA annulée et remplacée": only a hypothesis, so a switch.
    ia_replacement_defect: bool = True
    # R7 (assumption): academic year N starts on this local date of calendar year N
    # (APOGÉE's COD_ANU convention: 2025 is 2025-2026).
    academic_year_start: MonthDay = (9, 1)
    # R7, seed "Trop d'enseignants": the previous year stays active until this
    # local date inclusive ("jusqu'à fin septembre").
    year_overlap_until: MonthDay = (9, 30)
    timezone: str = "Europe/Paris"
    # R10, seed "Erreur database connexion failed": Sunday (Monday=0) 09:00-11:00 local time.
    maintenance_weekday: int = 6
    maintenance_start: time = time(9, 0)
    maintenance_end: time = time(11, 0)
    # R10, seed "peut durer un peu plus": failures this long after the end are still expected.
    maintenance_overrun: timedelta = timedelta(minutes=30)
    # ELP periods' calendar (assumption), for course_hidden and course_ended_early.
    periods: PeriodCalendar = field(default_factory=PeriodCalendar)
    # R3.5 (assumption): a one-semester departure also excludes yearly ELPs.
    exchange_semester_excludes_year_elps: bool = False
    # R3.4 (assumption): suspension stops every database enrolment, teachers' too.
    suspension_covers_teachers: bool = True
    # R3.5, seed "Étudiant Erasmus": the outgoing programmes that keep a student out of
    # Ecampus, by code prefix. The seed names Erasmus only ("Eras+ D>…", "EraFM D>S1");
    # another outgoing programme ("UE D>An", "IntU D>An") counts only if listed here.
    erasmus_programmes: tuple[str, ...] = ("Eras+", "EraFM")

    def __post_init__(self) -> None:
        _check_month_day("academic_year_start", self.academic_year_start)
        _check_month_day("year_overlap_until", self.year_overlap_until)
        if not 0 <= self.maintenance_weekday <= 6:
            raise ValueError(f"maintenance_weekday={self.maintenance_weekday} not in 0..6")
        if self.maintenance_end <= self.maintenance_start:
            raise ValueError("maintenance_end must be after maintenance_start")
        if self.maintenance_overrun < timedelta(0):
            raise ValueError("maintenance_overrun must not be negative")
        ZoneInfo(self.timezone)  # fail at configuration time, not in a detector

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_CONFIG = ModelConfig()
