"""One evaluation of the model: facts, clock and config, with per-ELP and per-student views.

Interpretation (DOMAIN.md, brief of the model): an ELP is *current* when it is
in ``FactSet.elps`` (not deleted) and not porté; a porté ELP has no course of
its own and its students go to the porteur's course (R5). *Real groups* of an
ELP are the non-pseudo groups of the collections attached to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from detectors.facts import Elp, Group, Ia
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.model.exchange import Exchange, exchange_of
from detectors.model.timing import academic_year, active_years, require_aware
from detectors.state import FactSet

ElpStanding = Literal["current", "porte", "porteur_not_current", "obsolete"]


@dataclass(frozen=True, slots=True)
class ElpView:
    """An ELP as the sync rules see it: where its students go and which groups it has.

    ``elp`` is the REFER row, or the last known row of a deleted ELP, or None.
    ``shared_collections`` (porté only) are the collections attached to the
    porteur and to every porté: the only way into the porteur's course (R5).
    """

    cod_elp: str
    elp: Elp | None
    standing: ElpStanding
    course_idnumber: str | None
    real_groups: Mapping[str, Group]
    pseudo_groups: tuple[Group, ...]
    porteur: Elp | None = None
    portes: tuple[Elp, ...] = ()
    shared_collections: frozenset[str] = frozenset()

    @property
    def has_real_groups(self) -> bool:
        return bool(self.real_groups)


@dataclass(frozen=True, slots=True)
class StudentStanding:
    """A student's administrative registrations (IAs) for one academic year."""

    ias: tuple[Ia, ...]
    active: tuple[Ia, ...]
    replaced: tuple[tuple[Ia, Ia], ...]  # (cancelled IA, the IA that replaces it)
    outgoing: tuple[tuple[Ia, Exchange], ...]  # exchanges of active IAs, outgoing


def _same_year(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


class ModelContext:
    """Facts, ``now`` and config of one model pass, memoising what many IPs share.

    ``years`` are the active academic years at ``now`` (R7); a fact without a
    year counts as current (assumption).

    Build one per pass (or per batch of dirty keys) and hand it to the
    ``expected_*`` functions; it never reads a clock itself.
    """

    __slots__ = (
        "_cemu",
        "_elps",
        "_students",
        "config",
        "current_year",
        "facts",
        "now",
        "years",
    )

    def __init__(self, facts: FactSet, now: datetime, config: ModelConfig = DEFAULT_CONFIG):
        require_aware(now)
        self.facts = facts
        self.now = now
        self.config = config
        self.years = active_years(now, config)
        self.current_year = academic_year(now, config)
        self._elps: dict[str, ElpView] = {}
        self._students: dict[tuple[str, int | None], StudentStanding] = {}
        self._cemu: dict[str, bool] = {}

    def overlap_only(self, year: int | None) -> bool:
        """Active only through the September overlap with the previous year (R7)."""
        return year is not None and year < self.current_year and year in self.years

    def is_cemu(self, group: Group) -> bool:
        """R4's G flag, memoised per group (label matching on every IP is the pass's cost)."""
        cemu = self._cemu.get(group.group_id)
        if cemu is None:
            cemu = self._cemu[group.group_id] = group.is_cemu
        return cemu

    def elp(self, cod_elp: str) -> ElpView:
        view = self._elps.get(cod_elp)
        if view is None:
            view = self._elps[cod_elp] = self._view_of(cod_elp)
        return view

    def _view_of(self, cod_elp: str) -> ElpView:
        facts = self.facts
        real: dict[str, Group] = {}
        pseudo: list[Group] = []
        for group in facts.groups_of_elp(cod_elp):
            if group.is_pseudo:
                pseudo.append(group)
            else:
                real[group.group_id] = group
        groups = (real, tuple(pseudo))
        elp = facts.elps.get(cod_elp)
        if elp is None:
            last_known = facts.deleted_elps.get(cod_elp)
            return ElpView(cod_elp, last_known, "obsolete", None, *groups)
        if elp.porteur is None:
            portes = tuple(facts.portes_of(cod_elp))
            return ElpView(cod_elp, elp, "current", cod_elp, *groups, portes=portes)
        porteur = facts.elps.get(elp.porteur)
        if porteur is None or porteur.porteur is not None:
            return ElpView(cod_elp, elp, "porteur_not_current", None, *groups, porteur=porteur)
        portes = tuple(facts.portes_of(porteur.cod_elp))
        shared = set(facts.collections_of_elp(porteur.cod_elp))
        for porte in portes:
            shared &= facts.collections_of_elp(porte.cod_elp)
        return ElpView(
            cod_elp,
            elp,
            "porte",
            porteur.cod_elp,
            *groups,
            porteur=porteur,
            portes=portes,
            shared_collections=frozenset(shared),
        )

    def student(self, cod_etu: str, year: int | None) -> StudentStanding:
        key = (cod_etu, year)
        standing = self._students.get(key)
        if standing is None:
            standing = self._students[key] = self._standing_of(cod_etu, year)
        return standing

    def _standing_of(self, cod_etu: str, year: int | None) -> StudentStanding:
        every = self.facts.ias_of_student(cod_etu)
        ias = tuple(ia for ia in every if _same_year(ia.year, year))
        active = tuple(ia for ia in ias if ia.status == "active")
        replacements = {ia.replaces: ia for ia in every if ia.replaces is not None}
        replaced = tuple(
            (ia, replacements[ia.ia_id])
            for ia in ias
            if ia.status == "cancelled" and ia.ia_id in replacements
        )
        outgoing: list[tuple[Ia, Exchange]] = []
        erasmus = self.config.erasmus_programmes
        for ia in active:
            exchange = exchange_of(ia)
            programme = ia.exchange_programme or ""
            if (
                exchange is not None
                and exchange.direction == "outgoing"
                and (not programme or any(programme.startswith(p) for p in erasmus))
            ):
                outgoing.append((ia, exchange))
        return StudentStanding(ias, active, replaced, tuple(outgoing))
