"""lmsjonction's rules for one registration, written from the seed's text alone.

This is the simulated nightly run's own reading of the seed (``shared/seed``),
deliberately plain and independent of the detectors' model (``detectors.model``):
it imports nothing from ``detectors`` and reads rows by attribute, so that the
scored tests compare two implementations of the same rules
(``tests/simulation/test_two_implementations.py``). Where the two disagreed,
``docs/DECISIONS.md`` ("Two implementations of the nightly run") says who was
right, with the seed's words.

Seed sections used here: "Manque inscription jusqu'au groupe", "Mauvaise
gestion statut à distance" (the table of cases a to f), "Mauvaise gestion de
la relation porteur/porté", "Élément suspendu", "Étudiant Erasmus", "IA
annulée et remplacée", "Trop d'enseignants" (the year overlap "active jusqu'à
fin septembre").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

PSEUDO_PREFIX = "ELP_"  # "un pseudo-groupe (préfixé ELP_) est créé automatiquement"


class RunSwitches(Protocol):
    """The site's hypotheses the run needs (``ModelConfig`` has them; so does ``RunSettings``)."""

    @property
    def ia_replacement_defect(self) -> bool: ...
    @property
    def academic_year_start(self) -> tuple[int, int]: ...
    @property
    def year_overlap_until(self) -> tuple[int, int]: ...
    @property
    def timezone(self) -> str: ...
    @property
    def exchange_semester_excludes_year_elps(self) -> bool: ...
    @property
    def suspension_covers_teachers(self) -> bool: ...
    @property
    def erasmus_programmes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Defaults of the site's hypotheses, for callers without a ``ModelConfig``."""

    ia_replacement_defect: bool = True
    academic_year_start: tuple[int, int] = (9, 1)
    year_overlap_until: tuple[int, int] = (9, 30)
    timezone: str = "Europe/Paris"
    exchange_semester_excludes_year_elps: bool = False
    suspension_covers_teachers: bool = True
    erasmus_programmes: tuple[str, ...] = ("Eras+", "EraFM")


# The seed's table "Synthèse des conséquences": (groupe FOAD, ELP à distance, IA
# télé-enseignement) -> (situation, erreur Insc. BDD, warning update_groups,
# non inscription, absence groupe). "warning update_oof" is 0 on every row.
FOAD_ROWS: dict[tuple[int, int, int], tuple[str, bool, str | None, bool, bool]] = {
    (1, 0, 1): ("e", True, None, True, True),
    (0, 0, 1): ("a", True, "w9", True, True),
    (0, 1, 1): ("c", False, "w9", False, True),
    (1, 0, 0): ("d", False, None, False, True),
    (1, 1, 0): ("f", False, None, False, True),
    (0, 0, 0): ("normal", False, None, False, False),
    (0, 1, 0): ("b", False, None, False, False),
    (1, 1, 1): ("normal", False, None, False, False),
}


def is_pseudo(group_id: str) -> bool:
    return group_id.startswith(PSEUDO_PREFIX)


def group_is_foad(group: Any | None) -> bool:
    """ "groupes ... au moins partiellement, libellés "cemu"", and a pseudo-group never is."""
    if group is None or is_pseudo(group.group_id):
        return False
    return "cemu" in (group.label or "").lower()


class Years:
    """Which academic years the run applies: the current one, and the previous until 30 Sept."""

    def __init__(self, now: datetime, switches: RunSwitches) -> None:
        self.zone = ZoneInfo(switches.timezone)
        self.switches = switches
        self.current = self.year_of(now)
        local = now.astimezone(self.zone).date()
        start, until = switches.academic_year_start, switches.year_overlap_until
        in_overlap = start <= (local.month, local.day) <= until
        self.active = {self.current, self.current - 1} if in_overlap else {self.current}

    def year_of(self, moment: datetime) -> int:
        local = moment.astimezone(self.zone).date()
        started = (local.month, local.day) >= self.switches.academic_year_start
        return local.year if started else local.year - 1

    def counts(self, year: int | None) -> bool:
        """A row without a year is this year's."""
        return year is None or year in self.active

    def session_counts(self, start: datetime | None) -> bool:
        """Sessions of a closed year plan nobody; sessions planned ahead do."""
        if start is None:
            return True
        year = self.year_of(start)
        return year >= self.current or year in self.active

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)


def departure(ia: Any, erasmus: tuple[str, ...]) -> str | None:
    """The period ("S1", "S2", "year") an Erasmus departure covers, or None.

    "Quand un étudiant Unicaen est dans un dispositif Erasmus ... Il a été décidé qu'il
    ne soit pas inscrit dans Ecampus". The seed's programme table has Erasmus+
    "Départ" and Erasmus Free Mover "Dép" rows; other programmes count only if the
    site lists them (``erasmus_programmes``).
    """
    programme = ia.exchange_programme or ""
    if programme and not any(programme.startswith(prefix) for prefix in erasmus):
        return None  # a departure without programme code is taken as the site says
    direction = ia.exchange_direction
    period = ia.exchange_period
    if direction is None or period is None:
        if "D>" not in programme:
            return None
        tail = programme.rsplit(">", 1)[1].strip()
        direction = "outgoing"
        period = {"S1": "S1", "S2": "S2", "An": "year"}.get(tail)
    return period if direction == "outgoing" else None


@dataclass(frozen=True, slots=True)
class Registration:
    """What one IP row gives: the course (ELP code) and group, or nothing, and the report lines."""

    course: str | None
    enrolled: bool
    group: str | None
    lines: tuple[tuple[str, str, str], ...] = ()  # (level, code, text)
    suspended: bool = False


def same_year(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def student_blocked(ias: list[Any], year: int | None, elp_period: str, sw: RunSwitches) -> bool:
    """Erasmus departure for the ELP's period, an IA cancelled and replaced, or no active IA."""
    mine = [ia for ia in ias if same_year(ia.year, year)]
    active = [ia for ia in mine if ia.status == "active"]
    for ia in active:
        away = departure(ia, sw.erasmus_programmes)
        if away is None:
            continue
        if away in ("year", elp_period):
            return True
        if elp_period == "year" and sw.exchange_semester_excludes_year_elps:
            return True
    if sw.ia_replacement_defect:
        replaced = {ia.replaces for ia in ias if ia.replaces is not None}
        if any(ia.status == "cancelled" and ia.ia_id in replaced for ia in mine):
            return True
    return bool(mine) and not active
