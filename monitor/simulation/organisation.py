"""How the synthetic university is organised: composantes, étapes, and the kind of each ELP.

Not source rows: what the generator decided, which the injectors and the daily
traffic read to pick their targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EtapeKind = Literal["presential", "mixed", "distance"]
# real: a collection of groups; pseudo: no group, teaching load, pseudo-group ELP_<cod>_CM;
# no_load: real groups but no teaching load (internships, theses); porte: porté by another ELP.
ElpKind = Literal["real", "pseudo", "no_load", "porte"]


@dataclass(frozen=True, slots=True)
class Composante:
    """A faculty and the address of its scolarité (who receives the alerts)."""

    cod_cmp: str
    name: str
    scolarite: str
    letter: str
    disciplines: tuple[str, ...]
    category: int  # its Moodle course category


@dataclass(slots=True)
class Etape:
    """A year of a diploma: its ELPs, its kind of teaching, and the Moodle cohort of its IAs."""

    cod_etp: str
    label: str
    cod_cmp: str
    kind: EtapeKind
    cohort_id: int
    elps: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
