"""Builders of facts for the sync-rule model's tests (the seed's examples use them)."""

from __future__ import annotations

from datetime import UTC, datetime

from detectors.facts import CollectionLink, Elp, ElpStatus, Group, Ip, Period
from detectors.state import FactSet

# A Monday of November 2025: academic year 2025, no overlap, no maintenance.
NOW = datetime(2025, 11, 17, 10, 0, tzinfo=UTC)
YEAR = 2025


def elp(
    cod_elp: str,
    *,
    a_distance: bool = False,
    status: ElpStatus = "open",
    porteur: str | None = None,
    has_teaching_load: bool = True,
    period: Period = "year",
) -> Elp:
    return Elp(
        cod_elp,
        label=f"label of {cod_elp}",
        cod_cmp="12 UFR HSS",
        a_distance=a_distance,
        status=status,
        porteur=porteur,
        has_teaching_load=has_teaching_load,
        period=period,
        year=YEAR,
    )


def ip(
    cod_etu: str,
    cod_elp: str,
    group_id: str | None = None,
    *,
    distant: bool = False,
    year: int | None = YEAR,
    as_of: datetime | None = None,
) -> Ip:
    if as_of is None:
        return Ip(cod_etu, cod_elp, group_id, distant, year)
    return Ip(cod_etu, cod_elp, group_id, distant, year, as_of)


def collection(
    code: str, groups: dict[str, str], attached_to: tuple[str, ...]
) -> tuple[list[Group], list[CollectionLink]]:
    """A group collection: its groups (id -> label) and its links to ELPs."""
    return (
        [Group(gid, label, code) for gid, label in groups.items()],
        [CollectionLink(code, cod_elp) for cod_elp in attached_to],
    )


def with_collections(
    *collections: tuple[list[Group], list[CollectionLink]],
    groups: tuple[Group, ...] = (),
    **facts: object,
) -> FactSet:
    """``FactSet.build`` with the groups and links of ``collections`` added."""
    all_groups = [*groups, *(g for made, _ in collections for g in made)]
    links = [link for _, made in collections for link in made]
    return FactSet.build(groups=all_groups, collection_links=links, **facts)  # type: ignore[arg-type]


def university(elps: int, students: int, ips_per_student: int = 13) -> FactSet:
    """A synthetic university for timing the model: groups, portés, FOAD, ADE, IAs.

    At ``elps=14_000, students=30_000`` it holds about 400,000 IPs and 200,000 sessions.
    """
    import random

    from detectors.facts import AdeFiche, AdeSession, Ia

    rng = random.Random(7)
    codes = [f"E{n:05d}" for n in range(elps)]
    elp_rows: list[Elp] = []
    groups: list[Group] = []
    links: list[CollectionLink] = []
    group_ids: dict[str, list[str]] = {}
    for n, code in enumerate(codes):
        porteur = codes[n - 1] if n % 10 == 9 else None
        elp_rows.append(
            Elp(code, code, "12", a_distance=n % 7 == 0, porteur=porteur, period="S1", year=YEAR)
        )
        if n % 3 == 0:  # no real group: pseudo-group
            groups.append(Group(f"ELP_{code}_CM"))
            group_ids[code] = [f"ELP_{code}_CM"]
            continue
        owner = porteur or code
        ids = [f"{owner}_TD{k}" for k in range(3)]
        if porteur is None:
            groups.extend(Group(g, f"TD {g}", f"{code}C") for g in ids)
        links.append(CollectionLink(f"{owner}C", code))
        group_ids[code] = ids
    ip_rows = [
        Ip(f"S{s:06d}", code, rng.choice(group_ids[code]), distant=s % 50 == 0, year=YEAR)
        for s in range(students)
        for code in rng.sample(codes, ips_per_student)
    ]
    ias = [Ia(f"IA{s}", f"S{s:06d}", "L1", YEAR) for s in range(students)]
    fiches = [AdeFiche(f"F{code}", code, ("t1", "t2")) for code in codes]
    start = datetime(2025, 10, 6, 8, tzinfo=UTC)
    sessions = [
        AdeSession(f"X{code}{k}", f"F{code}", start, (rng.choice(group_ids[code]),), ("t1",))
        for code in codes
        for k in range(14)
    ]
    return FactSet.build(
        elps=elp_rows,
        groups=groups,
        collection_links=links,
        ips=ip_rows,
        ias=ias,
        fiches=fiches,
        sessions=sessions,
    )
