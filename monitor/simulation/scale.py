"""How big the synthetic university is: ``tiny`` (tests, a quick trial), the ``small`` demo and ``unicaen`` (ARCHITECTURE.md's scale)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScaleName = Literal["tiny", "small", "unicaen"]


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes and shares of one university; shares are fractions of ELPs, étapes or students.

    ``unicaen`` aims at about 14,000 ELPs, 30,000 students, 400,000 IPs,
    200,000 ADE sessions and 500,000 Moodle enrolments.
    """

    name: str
    composantes: int
    etapes: int
    elps_per_etape: int
    students: int
    ips_per_student: float
    sessions_per_elp: float
    elps_per_teacher: float
    # ELP kinds (shares of ELPs)
    pseudo_group_share: float = 0.35
    no_load_share: float = 0.04
    porte_share: float = 0.03
    # étapes
    distance_etape_share: float = 0.03
    mixed_etape_share: float = 0.05
    # students
    incoming_share: float = 0.02
    outgoing_share: float = 0.015
    cancelled_ia_share: float = 0.005
    students_per_group: int = 28
    # accounts and Moodle hygiene
    guests: int = 40
    vacataires: int = 60
    archived_courses_share: float = 0.07
    # A cohort sync is a stop-gap (seed): once the database enrolments are right its members
    # are either database-enrolled (redundant) or without IP on the element (a fault, "ne
    # prennent pas en compte ... toutes les UEs"), so a clean university holds none.
    cohort_sync_share: float = 0.0
    manual_share: float = 0.04
    self_share: float = 0.05
    ade_only_fiche_share: float = 0.02
    # daily traffic (working days; weekends get a tenth)
    daily_new_ips: int = 30
    daily_group_moves: int = 20
    daily_dropped_ips: int = 5
    daily_new_sessions: int = 40
    daily_new_accounts: int = 3
    daily_manual_enrolments: int = 4

    @property
    def elps(self) -> int:
        return self.etapes * self.elps_per_etape


# About a quarter of ``small``'s events, for the tests that push a university through a
# real daemon, and a quick trial. Four étapes a composante (``small`` has about four, the
# first try of this scale two): a new porté needs a porteur of the same composante in
# another presential étape, and every kind of ``FaultConfig.every_kind(1)`` (and of the
# default faults) must find its target at the seeds the tests use (1 to 9 checked).
TINY = Scale(
    name="tiny",
    composantes=4,
    etapes=16,
    elps_per_etape=10,
    students=1_200,
    ips_per_student=8.0,
    sessions_per_elp=16.0,
    elps_per_teacher=5.0,
    porte_share=0.04,
    # one distance étape and two mixed ones, the fewest _etape_kinds makes
    distance_etape_share=0.06,
    mixed_etape_share=0.12,
    guests=6,
    vacataires=8,
    daily_new_ips=20,
    daily_group_moves=12,
    daily_dropped_ips=4,
    daily_new_sessions=24,
    daily_new_accounts=3,
    daily_manual_enrolments=4,
)

SMALL = Scale(
    name="small",
    composantes=4,
    etapes=15,
    elps_per_etape=20,
    students=3_000,
    ips_per_student=13.3,
    sessions_per_elp=16.0,
    elps_per_teacher=5.0,
    guests=10,
    vacataires=15,
)

UNICAEN = Scale(
    name="unicaen",
    composantes=20,
    etapes=700,
    elps_per_etape=20,
    students=30_000,
    ips_per_student=13.3,
    sessions_per_elp=16.0,
    elps_per_teacher=5.0,
    guests=400,
    vacataires=600,
    daily_new_ips=1_500,
    daily_group_moves=800,
    daily_dropped_ips=150,
    daily_new_sessions=2_000,
    daily_new_accounts=40,
    daily_manual_enrolments=80,
)

SCALES: dict[str, Scale] = {"tiny": TINY, "small": SMALL, "unicaen": UNICAEN}


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; known: {', '.join(SCALES)}") from None
