"""ADE: a fiche per activity of each ELP, and its planned sessions (R6).

A lecture fiche (CM) associates the whole teaching team but plans only the
lecturer; the tutorial fiche (TD) plans each tutor on their groups. So some
teachers are associated without planning on a fiche, yet planned on another
fiche of the same ELP: enrolled, no fault. Porté ELPs are planned on their
porteur; ELPs without teaching load have no fiche; courses of distance étapes
are usually not planned in ADE (the seed) and their teachers are enrolled by
hand. Some fiches exist only in ADE (meetings, exams) with no teacher.
"""

from __future__ import annotations

import random
from datetime import datetime

from detectors.facts import AdeFiche, AdeSession, Elp
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.scale import Scale
from monitor.simulation.university import University


def fiche_id(number: int) -> str:
    return f"F{number:06d}"


def session_id(number: int) -> str:
    return f"S{number:07d}"


def add_session(
    uni: University,
    rng: random.Random,
    cal: AcademicCalendar,
    fiche: str,
    period: str,
    groups: tuple[str, ...],
    teachers: tuple[str, ...],
    at: datetime,
    *,
    load: bool = True,
) -> AdeSession:
    start = cal.session_time(rng, period)  # type: ignore[arg-type]
    session = AdeSession(
        session_id(uni.new_id("session")), fiche, start, groups, teachers, as_of=at
    )
    if load:
        uni.load(session)
    return session


def planned_groups(uni: University, elp: Elp) -> tuple[str, ...]:
    """The groups sessions of the ELP are planned on: its real groups, else its pseudo-group."""
    real = sorted(uni.groups_by_collection.get(f"{elp.cod_elp}TD", ()))
    return tuple(real) if real else (f"ELP_{elp.cod_elp}_CM",)


def generate_ade(
    uni: University, scale: Scale, rng: random.Random, cal: AcademicCalendar, at: datetime
) -> None:
    for code, elp in uni.elps.items():
        kind = uni.elp_kind[code]
        if kind in ("porte", "no_load") or uni.etapes[uni.elp_etape[code]].kind == "distance":
            continue
        pool = uni.teachers_by_cmp[elp.cod_cmp]
        sessions = max(2, round(rng.gauss(scale.sessions_per_elp, 3)))
        main = pool[rng.randrange(len(pool))]
        groups = planned_groups(uni, elp)
        if kind == "pseudo":
            fiche = AdeFiche(fiche_id(uni.new_id("fiche")), code, (main,), at)
            uni.load(fiche)
            for _ in range(sessions):
                add_session(uni, rng, cal, fiche.fiche_id, elp.period, groups, (main,), at)
            continue
        tutors = tuple(sorted(set(rng.sample(pool, k=min(len(pool), rng.randint(1, 3))))))
        lecture = AdeFiche(fiche_id(uni.new_id("fiche")), code, (main, *tutors), at)
        tutorial = AdeFiche(fiche_id(uni.new_id("fiche")), code, tutors, at)
        uni.load(lecture)
        uni.load(tutorial)
        lectures = max(1, sessions // 3)
        for _ in range(lectures):
            add_session(uni, rng, cal, lecture.fiche_id, elp.period, groups, (main,), at)
        for index in range(sessions - lectures):
            group = (groups[index % len(groups)],)
            tutor = (tutors[index % len(tutors)],)
            add_session(uni, rng, cal, tutorial.fiche_id, elp.period, group, tutor, at)
    for _ in range(round(scale.ade_only_fiche_share * len(uni.elps))):
        fiche = AdeFiche(fiche_id(uni.new_id("fiche")), None, (), at)
        uni.load(fiche)
        for _ in range(rng.randint(1, 3)):
            add_session(uni, rng, cal, fiche.fiche_id, rng.choice(("S1", "S2")), (), (), at)
