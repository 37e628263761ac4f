"""The teaching offer: composantes, étapes, ELPs, porteur/porté pairs, groups and collections.

Shapes follow the seed: a collection ``<cod>TD`` attached to its ELP holds the
groups ``<cod>TD1``…; distance-learning ELPs add a group labelled "CEMU"
(``<cod>EM``); an ELP without groups but with a teaching load gets the
pseudo-group ``ELP_<cod>_CM``; a porté ELP has no groups of its own and its
students sit in the porteur's groups, whose collection is attached to both (R5).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from datetime import datetime

from detectors.facts import CollectionLink, Elp, Group, Period
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.organisation import Composante, ElpKind, Etape, EtapeKind
from monitor.simulation.scale import Scale
from monitor.simulation.university import University
from monitor.simulation.words import (
    COMPOSANTES,
    DISTANCE_SUFFIX,
    DOMAIN,
    LEVELS,
    NO_LOAD_LABELS,
    PREFIXES,
    SUFFIXES,
    ascii_slug,
    course_label,
)

PERIODS: tuple[Period, ...] = ("S1", "S2", "year")
PERIOD_WEIGHTS = (45, 45, 10)
# Presential ELPs declared feasible at distance: the seed's case b, without consequence.
DISTANCE_CAPABLE_SHARE = 0.03


def _abbreviation(discipline: str) -> str:
    return ascii_slug(discipline).replace("-", "").upper()[:3]


def make_composantes(uni: University, scale: Scale) -> list[Composante]:
    made = []
    for index, (code, name, slug, letter, disciplines) in enumerate(
        COMPOSANTES[: scale.composantes]
    ):
        composante = Composante(
            code, name, f"scolarite.{slug}@{DOMAIN}", letter, disciplines, 100 + index
        )
        uni.composantes[code] = composante
        made.append(composante)
    return made


def _etape_kinds(rng: random.Random, scale: Scale) -> list[EtapeKind]:
    """At least one distance étape and two mixed ones, whatever the scale (faults need them)."""
    distance = max(1, round(scale.distance_etape_share * scale.etapes))
    mixed = max(2, round(scale.mixed_etape_share * scale.etapes))
    kinds: list[EtapeKind] = ["presential"] * scale.etapes
    for index, number in enumerate(rng.sample(range(scale.etapes), distance + mixed)):
        kinds[number] = "distance" if index < distance else "mixed"
    return kinds


def generate_offer(
    uni: University, scale: Scale, rng: random.Random, cal: AcademicCalendar, at: datetime
) -> None:
    """Étapes and their ELPs (no groups yet: they are sized once the IPs are known)."""
    composantes = make_composantes(uni, scale)
    kinds = _etape_kinds(rng, scale)
    labels: set[tuple[str, str]] = set()  # (composante, label)
    for index in range(scale.etapes):
        composante = composantes[index % len(composantes)]
        level_name, level = rng.choice(LEVELS)
        discipline = rng.choice(composante.disciplines)
        abbr = _abbreviation(discipline)
        etape_kind = kinds[index]
        label = f"{level_name} {discipline.capitalize()}"
        etape = Etape(
            cod_etp=f"{level}{composante.letter}{abbr}{index:03d}",
            label=label + (" à distance" if etape_kind == "distance" else ""),
            cod_cmp=composante.cod_cmp,
            kind=etape_kind,
            cohort_id=5000 + index,
        )
        uni.etapes[etape.cod_etp] = etape
        for number in range(scale.elps_per_etape):
            elp, elp_kind = _make_elp(
                rng, scale, cal, at, composante, etape, level, abbr, index, number
            )
            elp = _unique_label(elp, labels, etape)
            etape.elps.append(elp.cod_elp)
            uni.elp_etape[elp.cod_elp] = etape.cod_etp
            uni.elp_kind[elp.cod_elp] = elp_kind
            uni.load(elp)
    _pair_portes(uni, scale, rng)


def _unique_label(elp: Elp, labels: set[tuple[str, str]], etape: Etape) -> Elp:
    """Labels unique in a composante: course_archived reads "same label" as "code changed"."""
    label, number = elp.label, 1
    while (elp.cod_cmp, label) in labels:
        number += 1
        label = f"{elp.label} ({etape.label}{'' if number == 2 else f' {number}'})"
    labels.add((elp.cod_cmp, label))
    return elp if label == elp.label else dataclasses.replace(elp, label=label)


def _make_elp(
    rng: random.Random,
    scale: Scale,
    cal: AcademicCalendar,
    at: datetime,
    composante: Composante,
    etape: Etape,
    level: int,
    abbr: str,
    index: int,
    number: int,
) -> tuple[Elp, ElpKind]:
    code = f"{composante.letter}{level}{abbr}{index:03d}{number:02d}"
    discipline = rng.choice(composante.disciplines)
    label = course_label(rng.choice(PREFIXES), discipline, rng.choice(SUFFIXES))
    a_distance = etape.kind != "presential"
    load = True
    kind: ElpKind = "real"
    if etape.kind == "presential":
        draw = rng.random()
        if draw < scale.pseudo_group_share:
            kind = "pseudo"
        elif draw < scale.pseudo_group_share + scale.no_load_share:
            kind, load = "no_load", False
            label = f"{rng.choice(NO_LOAD_LABELS)} {discipline}"
        else:
            kind = "real"
            a_distance = rng.random() < DISTANCE_CAPABLE_SHARE
    else:
        label += DISTANCE_SUFFIX  # FOAD étapes: only real groups, CEMU ones for distant students
    period = rng.choices(PERIODS, PERIOD_WEIGHTS)[0]
    elp = Elp(
        code,
        label[0].upper() + label[1:],
        composante.cod_cmp,
        a_distance=a_distance,
        has_teaching_load=load,
        period=period,
        year=cal.year,
        as_of=at,
    )
    return elp, kind


def _pair_portes(uni: University, scale: Scale, rng: random.Random) -> None:
    """Make some presential ELPs porté by an ELP of another étape of the same composante."""
    reals = [
        e
        for e in uni.elps.values()
        if uni.elp_kind[e.cod_elp] == "real"
        and not e.a_distance
        and uni.etapes[uni.elp_etape[e.cod_elp]].kind == "presential"
    ]
    wanted = round(scale.porte_share * len(uni.elps))
    rng.shuffle(reals)
    porteurs: set[str] = set()
    portes = 0
    by_key: dict[tuple[str, Period], list[Elp]] = {}
    for elp in reals:
        by_key.setdefault((elp.cod_cmp, elp.period), []).append(elp)
    for elp in reals:
        if portes >= wanted:
            break
        if elp.cod_elp in porteurs or uni.elp_kind[elp.cod_elp] == "porte":
            continue
        options = [
            p
            for p in by_key[(elp.cod_cmp, elp.period)]
            if p.cod_elp not in porteurs
            and uni.elp_kind[p.cod_elp] != "porte"
            and uni.elp_etape[p.cod_elp] != uni.elp_etape[elp.cod_elp]
        ]
        if not options:
            continue
        porteur = options[rng.randrange(len(options))]
        porteurs.add(porteur.cod_elp)
        uni.elp_kind[elp.cod_elp] = "porte"
        uni.load(dataclasses.replace(elp, porteur=porteur.cod_elp))
        portes += 1


def make_groups(
    uni: University,
    at: datetime,
    presential: Counter[str],
    distant: Counter[str],
    students_per_group: int,
) -> None:
    """Groups sized by the IPs: TD groups, CEMU groups for distant students, pseudo-groups.

    ``presential``/``distant`` count the IPs per course-bearing ELP (a porté's
    go to its porteur, whose groups hold them).
    """
    for code, elp in uni.elps.items():
        kind = uni.elp_kind[code]
        if kind == "porte":
            continue
        if kind == "pseudo":
            uni.load(Group(f"ELP_{code}_CM", f"CM {elp.label}", None, at))
            continue
        collection = f"{code}TD"
        uni.load(CollectionLink(collection, code, at))
        etape_kind = uni.etapes[uni.elp_etape[code]].kind
        if etape_kind != "distance":
            count = max(1, math.ceil(presential[code] / students_per_group))
            for number in range(1, count + 1):
                uni.load(Group(f"{collection}{number}", f"TD {number}", collection, at))
        if etape_kind != "presential":
            count = max(1, math.ceil(distant[code] / (2 * students_per_group)))
            for number in range(1, count + 1):
                suffix = "" if count == 1 else str(number)
                uni.load(Group(f"{code}EM{suffix}", f"Groupe CEMU {number}", collection, at))
    for code, elp in uni.elps.items():
        if elp.porteur is not None:
            uni.load(CollectionLink(f"{elp.porteur}TD", code, at))
