"""R5: which ELPs are "porté", and by which porteur (seed "Mauvaise gestion de la relation
porteur/porté").

The seed: "l'élément porté disparaît de REFER, ainsi que de l'espace de cours
correspondant dans Ecampus. C'est alors l'espace de cours de l'élément porteur qui a
vocation à accueillir tous les étudiants (qu'ils soient inscrits pédagogiquement au
porteur ou aux portés)". Two signals, each switched on by ``ModelConfig.porte_signals``:

- ``porteur_column``: the porté's REFER row names its porteur (a site option);
- ``disappearance``: the porté's row is gone from REFER while a porteur link remains:
  its last known row named a porteur that is current, or else the collections of its
  code (its remaining collection links, and the collections of the groups its IPs
  still name) are attached to exactly one current ELP, its porteur. Ambiguous links
  (two current ELPs) decide nothing: the ELP stays obsolete.

An ELP removed from the offer whose groups belong to no current ELP stays obsolete
(R2). Pure, memoised per facts and signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

from detectors.facts import Elp
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.state import FactSet


def porteur_column(elp: Elp, config: ModelConfig = DEFAULT_CONFIG) -> str | None:
    """The porteur the ELP's own row names, when that signal counts."""
    return elp.porteur if "porteur_column" in config.porte_signals else None


def is_current(facts: FactSet, cod_elp: str, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """R1: in REFER and not porté by its column: an ELP with a course of its own."""
    elp = facts.elps.get(cod_elp)
    return elp is not None and porteur_column(elp, config) is None


def _carriers(facts: FactSet, config: ModelConfig) -> dict[str, set[str]]:
    """Collection -> the current ELPs it is attached to."""
    found: dict[str, set[str]] = defaultdict(set)
    for link in facts.collection_links:
        if is_current(facts, link.cod_elp, config):
            found[link.collection].add(link.cod_elp)
    return found


def _compute(facts: FactSet, config: ModelConfig) -> dict[str, str]:
    carriers = _carriers(facts, config)
    gone = {ip.cod_elp for ip in facts.ips} | set(facts.deleted_elps)
    found: dict[str, str] = {}
    for code in sorted(gone):
        if code in facts.elps:
            continue
        last = facts.deleted_elps.get(code)
        if last is not None and last.porteur and is_current(facts, last.porteur, config):
            found[code] = last.porteur
            continue
        collections = set(facts.collections_of_elp(code))
        for ip in facts.ips_of_elp(code):
            group = facts.groups.get(ip.group_id) if ip.group_id else None
            if group is not None and group.collection is not None:
                collections.add(group.collection)
        candidates = {e for c in collections for e in carriers.get(c, ()) if e != code}
        if len(candidates) == 1:
            found[code] = candidates.pop()
    return found


def gone_porteurs(facts: FactSet, config: ModelConfig = DEFAULT_CONFIG) -> Mapping[str, str]:
    """ELPs gone from REFER recognised as porté by disappearance: code -> porteur."""
    if "disappearance" not in config.porte_signals:
        return {}
    return facts.memo(
        f"gone_porteurs:{sorted(config.porte_signals)}", lambda: _compute(facts, config)
    )


def gone_portes_of(facts: FactSet, config: ModelConfig = DEFAULT_CONFIG) -> Mapping[str, list[str]]:
    """Porteur -> the codes gone from REFER it carries (the reverse of ``gone_porteurs``)."""

    def compute() -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for code, porteur in sorted(gone_porteurs(facts, config).items()):
            found[porteur].append(code)
        return dict(found)

    return facts.memo(f"gone_portes_of:{sorted(config.porte_signals)}", compute)


def porte_row(facts: FactSet, code: str, porteur: Elp) -> Elp:
    """The row a porté gone from REFER stands for: its last known row, naming its porteur.

    Without a last row (the porté was gone before the monitor saw it), the porteur's
    offer attributes stand in (composante, distance, period, year), labelled by the code.
    """
    last = facts.deleted_elps.get(code)
    if last is not None:
        return replace(last, porteur=porteur.cod_elp)
    return Elp(
        code,
        label=code,
        cod_cmp=porteur.cod_cmp,
        a_distance=porteur.a_distance,
        porteur=porteur.cod_elp,
        has_teaching_load=porteur.has_teaching_load,
        period=porteur.period,
        year=porteur.year,
    )
