"""People: students with their IA and IPs, teachers, guests and vacataires, and their accounts.

A student's IA is on one étape; their IPs are on that étape's ELPs (the
mandatory ones and a few options). Students of a distance étape, and some of
a mixed one, are in télé-enseignement: their IPs are ``distant`` and put in
the CEMU group (R4 normal case). Exchange programmes use the seed's codes.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from datetime import datetime, timedelta

from detectors.facts import Account, AccountKind, Ia, Ip
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.organisation import Etape
from monitor.simulation.scale import Scale
from monitor.simulation.university import University
from monitor.simulation.words import (
    DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    PERSONAL_DOMAINS,
    STUDENT_DOMAIN,
    ascii_slug,
)

INCOMING = ("Eras+ A>S1", "Eras+ A>S2", "Eras+ A>An", "EraFM A>S1", "UE A>S1", "IntU A>An")
OUTGOING = ("Eras+ D>S1", "Eras+ D>S2", "Eras+ D>An", "EraFM D>S1", "UE D>An", "IntU D>An")
MIXED_DISTANT_SHARE = 0.4
MANDATORY_SHARE = 0.6

Registration = tuple[str, str, bool]  # cod_etu, cod_elp, distant


def _etape_sizes(rng: random.Random, etapes: list[Etape], students: int) -> list[int]:
    """Skewed étape sizes (first years are crowded, some masters tiny), at least 5 each."""
    weights = [rng.paretovariate(1.3) for _ in etapes]
    total = sum(weights)
    sizes = [max(5, int(students * w / total)) for w in weights]
    sizes[0] += students - sum(sizes)
    return sizes


def _exchange(rng: random.Random, scale: Scale) -> str | None:
    draw = rng.random()
    if draw < scale.incoming_share:
        return rng.choice(INCOMING)
    if draw < scale.incoming_share + scale.outgoing_share:
        return rng.choice(OUTGOING)
    return None


def make_ia(
    cod_etu: str,
    etape: Etape,
    year: int,
    at: datetime,
    *,
    tele: bool,
    programme: str | None,
    number: int = 1,
) -> Ia:
    """An active IA; the programme's ``A>``/``D>`` and period give the exchange columns."""
    direction = period = None
    if programme is not None:
        direction = "incoming" if " A>" in programme else "outgoing"
        tail = programme.rsplit(">", 1)[1]
        period = "year" if tail == "An" else tail
    return Ia(
        f"{cod_etu}-{year}-{number}",
        cod_etu,
        etape.cod_etp,
        year,
        tele_enseignement=tele,
        exchange_programme=programme,
        exchange_direction=direction,  # type: ignore[arg-type]
        exchange_period=period,  # type: ignore[arg-type]
        as_of=at,
    )


def generate_students(
    uni: University, scale: Scale, rng: random.Random, cal: AcademicCalendar, at: datetime
) -> list[Registration]:
    """Students, IAs and accounts; returns the IPs to make once groups are sized."""
    registrations: list[Registration] = []
    etapes = list(uni.etapes.values())
    number = 0
    for etape, size in zip(etapes, _etape_sizes(rng, etapes, scale.students), strict=True):
        mandatory = etape.elps[: math.ceil(len(etape.elps) * MANDATORY_SHARE)]
        options = etape.elps[len(mandatory) :]
        for _ in range(size):
            number += 1
            entry = cal.year % 100 - rng.randrange(0, 4)
            cod_etu = f"2{entry:02d}{number:05d}"
            tele = etape.kind == "distance" or (
                etape.kind == "mixed" and rng.random() < MIXED_DISTANT_SHARE
            )
            ia = make_ia(cod_etu, etape, cal.year, at, tele=tele, programme=_exchange(rng, scale))
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{ascii_slug(first)}.{ascii_slug(last)}.{cod_etu[-5:]}@{STUDENT_DOMAIN}"
            uni.load(
                Account(cod_etu, "student", cod_etu, None, last, first, email, etape.cod_cmp, at)
            )
            etape.students.append(cod_etu)
            if rng.random() < scale.cancelled_ia_share:
                # Left during the year: IA cancelled, IPs gone (no enrolment expected, no fault).
                cancelled = at - timedelta(days=rng.randrange(1, 20))
                uni.load(dataclasses.replace(ia, status="cancelled", cancelled_at=cancelled))
                continue
            uni.load(ia)
            wanted = round(rng.gauss(scale.ips_per_student, 1.5))
            count = min(len(etape.elps), max(5, wanted))
            chosen = mandatory[:count] + rng.sample(options, max(0, count - len(mandatory)))
            if ia.exchange_direction == "outgoing" and ia.exchange_period == "year":
                # Away for the year: registered for the first semester's equivalences only
                # (groups in both semesters would contradict the departure: exchange hint).
                chosen = [c for c in chosen if uni.elps[c].period != "S2"]
            registrations.extend((cod_etu, code, tele) for code in chosen)
    return registrations


def ip_counts(
    registrations: list[Registration], uni: University
) -> tuple[Counter[str], Counter[str]]:
    """Presential and distant IPs per course-bearing ELP (a porté counts for its porteur)."""
    presential: Counter[str] = Counter()
    distant: Counter[str] = Counter()
    for _cod_etu, code, tele in registrations:
        target = uni.elps[code].porteur or code
        (distant if tele else presential)[target] += 1
    return presential, distant


def assign_groups(uni: University, registrations: list[Registration], at: datetime) -> None:
    """Make every IP "down to the group": TD groups, the CEMU group, or the pseudo-group."""
    td: dict[str, list[str]] = {}
    em: dict[str, list[str]] = {}
    for code in uni.elps:
        members = sorted(uni.groups_by_collection.get(f"{code}TD", ()))
        em[code] = [g for g in members if uni.groups[g].is_cemu]
        td[code] = [g for g in members if not uni.groups[g].is_cemu]
    turns: Counter[tuple[str, bool]] = Counter()
    year = uni.elps[registrations[0][1]].year if registrations else None
    for cod_etu, code, tele in registrations:
        if uni.elp_kind[code] == "pseudo":
            group = f"ELP_{code}_CM"
        else:
            target = uni.elps[code].porteur or code
            pool = em[target] if tele else td[target]
            group = pool[turns[(target, tele)] % len(pool)]
            turns[(target, tele)] += 1
        uni.load(Ip(cod_etu, code, group, tele, year, at))


def generate_staff(uni: University, scale: Scale, rng: random.Random, at: datetime) -> None:
    """Teachers per composante (staff or vacataires), then guests and non-teaching vacataires."""
    taken: set[str] = set()
    per_cmp = Counter(e.cod_cmp for e in uni.elps.values())
    number = 0
    for cod_cmp, elps in sorted(per_cmp.items()):
        for _ in range(max(2, math.ceil(elps / scale.elps_per_teacher))):
            number += 1
            kind: AccountKind = "vacataire" if rng.random() < 0.2 else "staff"
            uid = _person(uni, rng, at, taken, kind, cod_cmp, f"P{number:05d}")
            uni.teachers_by_cmp[cod_cmp].append(uid)
    cmps = sorted(uni.composantes)
    for index in range(scale.guests):
        _person(uni, rng, at, taken, "guest", cmps[index % len(cmps)], None)
    for index in range(scale.vacataires):
        _person(uni, rng, at, taken, "vacataire", cmps[index % len(cmps)], f"V{index:05d}")


def _person(
    uni: University,
    rng: random.Random,
    at: datetime,
    taken: set[str],
    kind: AccountKind,
    cod_cmp: str,
    staff_id: str | None,
) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    base = (ascii_slug(first)[0] + ascii_slug(last)).replace("-", "")[:10]
    uid, suffix = base, 1
    while uid in taken:
        suffix += 1
        uid = f"{base}{suffix}"
    taken.add(uid)
    if kind == "staff":
        email = f"{uid}@{DOMAIN}"
    else:
        email = f"{ascii_slug(first)}.{ascii_slug(last)}{suffix}@{rng.choice(PERSONAL_DOMAINS)}"
    uni.load(Account(uid, kind, None, staff_id, last, first, email, cod_cmp, at))
    return uid
