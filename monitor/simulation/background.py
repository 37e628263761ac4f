"""A normal working day's edits, none of them a fault: the traffic the faults hide in.

Late pedagogical registrations (IPs down to the group), students moving from
one TD group to another, dropped options, new ADE sessions, new accounts,
and teachers showing the courses lmsjonction created hidden last night. They
avoid every target a fault took, so they never blur the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from detectors.facts import Account, AccountKind, Ip
from monitor.simulation.generate_moodle import add_enrolment
from monitor.simulation.injection import SimState
from monitor.simulation.words import DOMAIN, FIRST_NAMES, LAST_NAMES, PERSONAL_DOMAINS, ascii_slug

Action = Callable[[SimState, datetime], None]
ATTEMPTS = 20
GUEST_STAY = timedelta(days=60)


def _students(state: SimState) -> list[str]:
    if not state.student_ids:
        state.student_ids = sorted(state.uni.ips_by_etu)
    return state.student_ids


def _free_student(state: SimState, students: list[str]) -> str | None:
    for _ in range(ATTEMPTS):
        cod_etu = students[state.rng.randrange(len(students))]
        if cod_etu not in state.used.students and state.uni.active_ia(cod_etu) is not None:
            return cod_etu
    return None


def _td_groups(state: SimState, code: str) -> list[str]:
    uni = state.uni
    return [
        g
        for g in sorted(uni.groups_by_collection.get(f"{code}TD", ()))
        if not uni.groups[g].is_cemu
    ]


def _group_for(state: SimState, code: str, distant: bool) -> str | None:
    """The group a new IP goes in, as the generator does it (None: no safe group)."""
    uni = state.uni
    kind = uni.elp_kind.get(code)
    if kind == "pseudo":
        pseudo = f"ELP_{code}_CM"
        return pseudo if pseudo in uni.groups and not distant else None
    if kind not in ("real", "no_load"):
        return None
    members = sorted(uni.groups_by_collection.get(f"{code}TD", ()))
    pool = [g for g in members if uni.groups[g].is_cemu == distant]
    return pool[state.rng.randrange(len(pool))] if pool else None


def new_ip(state: SimState, at: datetime) -> None:
    uni = state.uni
    cod_etu = _free_student(state, _students(state))
    ia = uni.active_ia(cod_etu) if cod_etu else None
    if cod_etu is None or ia is None:
        return
    etape = uni.etapes[ia.cod_etp]
    away_for_the_year = ia.exchange_direction == "outgoing" and ia.exchange_period == "year"
    options = [
        c
        for c in etape.elps
        if c in uni.elps
        and c not in state.used.elps
        and c not in uni.ips_by_etu[cod_etu]
        and uni.elps[c].status == "open"
        and not (away_for_the_year and uni.elps[c].period == "S2")  # as the generator does
    ]
    if not options:
        return
    code = options[state.rng.randrange(len(options))]
    group = _group_for(state, code, ia.tele_enseignement)
    if group is not None:
        uni.write(Ip(cod_etu, code, group, ia.tele_enseignement, uni.elps[code].year), at)


def group_move(state: SimState, at: datetime) -> None:
    uni = state.uni
    cod_etu = _free_student(state, _students(state))
    if cod_etu is None:
        return
    codes = sorted(c for c in uni.ips_by_etu[cod_etu] if c not in state.used.elps)
    for code in codes:
        ip = uni.ips[(cod_etu, code)]
        groups = _td_groups(state, code)
        if not ip.distant and uni.elp_kind.get(code) in ("real", "no_load") and len(groups) > 1:
            others = [g for g in groups if g != ip.group_id]
            uni.write(replace(ip, group_id=others[state.rng.randrange(len(others))]), at)
            return


def dropped_ip(state: SimState, at: datetime) -> None:
    uni = state.uni
    cod_etu = _free_student(state, _students(state))
    if cod_etu is None or len(uni.ips_by_etu[cod_etu]) < 6:
        return
    codes = sorted(c for c in uni.ips_by_etu[cod_etu] if c not in state.used.elps)
    if codes:
        uni.delete(uni.ips[(cod_etu, codes[state.rng.randrange(len(codes))])], at)


def new_session(state: SimState, at: datetime) -> None:
    """One more session on a fiche, planning a teacher already planned there."""
    uni = state.uni
    for _ in range(ATTEMPTS):
        fiche_id = f"F{state.rng.randint(1, max(1, uni.next_ids['fiche'] - 1)):06d}"
        fiche = uni.fiches.get(fiche_id)
        if fiche is None or fiche.cod_elp is None or fiche.cod_elp in state.used.elps:
            continue
        sessions = sorted(uni.sessions_by_fiche.get(fiche_id, ()))
        if not sessions:
            continue
        model = uni.sessions[sessions[state.rng.randrange(len(sessions))]]
        period = uni.elps[fiche.cod_elp].period if fiche.cod_elp in uni.elps else "S1"
        start = state.cal.session_time(state.rng, period)
        number = uni.new_id("session")
        uni.write(replace(model, session_id=f"S{number:07d}", start=start), at)
        return


def new_account(state: SimState, at: datetime) -> None:
    uni, rng = state.uni, state.rng
    kind: AccountKind = rng.choice(("staff", "vacataire", "guest"))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    uid = f"n{ascii_slug(first)[0]}{ascii_slug(last).replace('-', '')}{uni.new_id('account')}"
    if uid in uni.accounts:
        return
    domain = DOMAIN if kind == "staff" else rng.choice(PERSONAL_DOMAINS)
    email = f"{ascii_slug(first)}.{ascii_slug(last)}.{uid[-3:]}@{domain}"
    cod_cmp = sorted(uni.composantes)[rng.randrange(len(uni.composantes))]
    uni.write(Account(uid, kind, None, None, last, first, email, cod_cmp), at)


def manual_enrolment(state: SimState, at: datetime) -> None:
    """A teacher enrols a guest by hand for a while (with an end date, as the seed asks)."""
    uni, rng = state.uni, state.rng
    guests = sorted(a.uid for a in uni.accounts.values() if a.kind == "guest" and a.email)
    for _ in range(ATTEMPTS):
        course_id = rng.randint(1, max(1, uni.next_ids["course"] - 1))
        course = uni.courses.get(course_id)
        if course is None or course.archived or course.idnumber not in uni.elps:
            continue
        if course.idnumber in state.used.elps or course_id in state.used.courses:
            continue
        manual = uni.instances_of(course_id, "manual", "student")
        if manual and guests:
            guest = guests[rng.randrange(len(guests))]
            if guest not in uni.users_by_instance.get(manual[0], {}):
                add_enrolment(uni, manual[0], guest, at, timestart=at, timeend=at + GUEST_STAY)
            return


def reveal(course_id: int) -> Action:
    """A teacher shows a course created hidden last night, once its period has started."""

    def show(state: SimState, at: datetime) -> None:
        course = state.uni.courses.get(course_id)
        if course is None or course.visible or course.archived:
            return
        if course_id in state.untouchable_courses or course.idnumber not in state.uni.elps:
            return
        if state.cal.period_started(state.uni.elps[course.idnumber].period, at):
            state.uni.write(replace(course, visible=True), at)

    return show


ACTIONS: dict[str, Action] = {
    "daily_new_ips": new_ip,
    "daily_group_moves": group_move,
    "daily_dropped_ips": dropped_ip,
    "daily_new_sessions": new_session,
    "daily_new_accounts": new_account,
    "daily_manual_enrolments": manual_enrolment,
}
ADE_ACTIONS = frozenset({"daily_new_sessions"})
# Hours (local) each action happens in; Moodle sees people late in the evening too.
HOURS: dict[str, tuple[int, int]] = {"daily_manual_enrolments": (7 * 60, 23 * 60 + 30)}
OFFICE_HOURS = (8 * 60, 18 * 60 + 30)
# The first of these each day comes after LATE_EVENING: even after a failed run, Moodle
# changes within the night (sync_run_health calls Moodle silent after 12 working hours).
LATE_ACTIONS = frozenset({"daily_manual_enrolments"})
LATE_EVENING = 22 * 60
