"""Builders of facts for the sync-rule model's tests (the seed's examples use them).

A Unicaen-sized university comes from the simulator: tests/fixtures/university.py.
"""

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
