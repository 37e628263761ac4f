"""R3.5, outgoing exchange students (seed "Étudiant Erasmus"): who leaves, and for which period.

A student away on an exchange (Erasmus, free mover, inter-university…) is
deliberately not enrolled in the courses of the period they spend abroad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detectors.facts import ExchangeDirection, Ia, Period
from detectors.model.config import ModelConfig

# The seed's programme codes: "Eras+ D>S1", "EraFM A>S1", "UE D>An", "IntU D>An"…
_PROGRAMME = re.compile(r"(?<![A-Za-z])([AD])>(S1|S2|An)\b")
_DIRECTIONS: dict[str, ExchangeDirection] = {"A": "incoming", "D": "outgoing"}
_PERIODS: dict[str, Period] = {"S1": "S1", "S2": "S2", "An": "year"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """An IA's exchange programme: direction and period."""

    direction: ExchangeDirection
    period: Period
    programme: str | None = None


def parse_programme(code: str) -> Exchange | None:
    """Read direction and period from a programme code: ``Eras+ D>S1`` is outgoing S1."""
    match = _PROGRAMME.search(code)
    if match is None:
        return None
    return Exchange(_DIRECTIONS[match.group(1)], _PERIODS[match.group(2)], code)


def exchange_of(ia: Ia) -> Exchange | None:
    """The IA's exchange: its explicit fields first, else parsed from the programme code."""
    if ia.exchange_direction is not None and ia.exchange_period is not None:
        return Exchange(ia.exchange_direction, ia.exchange_period, ia.exchange_programme)
    if ia.exchange_programme:
        parsed = parse_programme(ia.exchange_programme)
        if parsed is not None:
            direction = ia.exchange_direction or parsed.direction
            period = ia.exchange_period or parsed.period
            return Exchange(direction, period, ia.exchange_programme)
    return None


def departure_covers(departure: Period, elp_period: Period, config: ModelConfig) -> bool:
    """Whether a departure for ``departure`` keeps the student out of an ELP of ``elp_period``.

    A yearly departure covers every ELP; a semester departure covers that
    semester's ELPs, and yearly ELPs only if configured (assumption: the
    student attends them the other semester).
    """
    if departure == "year" or departure == elp_period:
        return True
    return elp_period == "year" and config.exchange_semester_excludes_year_elps


def counts_as_erasmus(exchange: Exchange, config: ModelConfig) -> bool:
    """R3.5: whether an outgoing exchange keeps the student out (``config.erasmus_programmes``).

    Seed "Étudiant Erasmus": « Quand un étudiant Unicaen est dans un dispositif
    Erasmus … Il a été décidé qu'il ne soit pas inscrit dans Ecampus ». Only the
    configured programmes count (prefixes of the code, e.g. ``Eras+`` for
    ``Eras+ D>An``; ``*`` for all); an exchange known only by its direction,
    without a programme code, counts (nothing tells it is not Erasmus).
    """
    if exchange.direction != "outgoing":
        return False
    prefixes = config.erasmus_programmes
    if "*" in prefixes or not exchange.programme:
        return True
    code = exchange.programme.casefold()
    return any(code.startswith(prefix.casefold()) for prefix in prefixes if prefix)
