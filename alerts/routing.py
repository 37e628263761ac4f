"""Who receives an alert: rules from the routing file, then the composante's scolarité, then the CEMU.

The routing file (YAML)::

    cemu: cemu.assistance@example.org
    composantes:
      "12": {name: "UFR HSS", scolarite: ["scolarite.hss@example.org"]}
    rules:                                  # optional, tried in order
      - match: {detector: sync_run_health}  # composante, detector, severity, audience:
        to: [exploitation@example.org]      #   one value or a list; absent = any
      - match: {audience: teachers, composante: ["12", "13"]}
        to: [scolarite]                     # the alert's composante's scolarité
      - match: {severity: critical}
        to: [cemu]
        continue: true                      # add the CEMU, then keep looking

The composante code comes from the data (``alert.cod_cmp``), its scolarité's
addresses from the file. The first matching rule decides, unless it says
``continue: true``: then its recipients are added and the next rules are tried.
Fallbacks: no deciding rule, the alert's audience decides (``scolarite``: the
composante's scolarité; ``teachers``: the teachers planned in ADE on the
course, at the address of their REFER account, carried by the alert's people
rows; ``cemu`` and ``oncall``: the CEMU); a ``scolarite`` target or audience
whose composante is not in the file, and a ``teachers`` one without any known
address, go to the CEMU. A course whose APOGÉE code changed goes to the
scolarité with its teachers in copy: they copy the old course into the new one
(seed, "Cours archivé"). The target ``teachers`` can be used in rules too.
Nobody is ever left without a recipient.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from alerts.routing_file import RoutingFileError, parse_routing_file
from detectors.findings import Audience, Evidence, Severity

__all__ = ["Composante", "Routable", "Router", "RoutingFileError", "RoutingRule"]

T = TypeVar("T", bound=str)


class Routable(Protocol):
    """What routing looks at in an alert."""

    @property
    def audience(self) -> Audience: ...

    @property
    def cod_cmp(self) -> str | None: ...

    @property
    def detector(self) -> str: ...

    @property
    def severity(self) -> Severity: ...


@dataclass(frozen=True, slots=True)
class Composante:
    cod_cmp: str
    name: str
    scolarite: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Alerts matching every given field go to ``to`` (addresses, ``scolarite``, ``cemu``)."""

    to: tuple[str, ...]
    composantes: frozenset[str] | None = None
    detectors: frozenset[str] | None = None
    severities: frozenset[Severity] | None = None
    audiences: frozenset[Audience] | None = None
    carry_on: bool = False

    def matches(self, alert: Routable) -> bool:
        return (
            _within(alert.cod_cmp, self.composantes)
            and _within(alert.detector, self.detectors)
            and _within(alert.severity, self.severities)
            and _within(alert.audience, self.audiences)
        )


def _within(value: str | None, allowed: Collection[str] | None) -> bool:
    return allowed is None or value in allowed


@dataclass(frozen=True, slots=True)
class Router:
    """Recipients of an alert, from the rules, its audience and its composante.

    >>> from types import SimpleNamespace as Alert
    >>> hss = Composante("12", "UFR HSS", ("scolarite.hss@example.org",))
    >>> router = Router(cemu="cemu@example.org", composantes={"12": hss})
    >>> router.recipients(Alert(audience="scolarite", cod_cmp="12"))
    ['scolarite.hss@example.org']
    >>> router.recipients(Alert(audience="scolarite", cod_cmp="99"))
    ['cemu@example.org']
    """

    cemu: str
    composantes: Mapping[str, Composante]
    rules: tuple[RoutingRule, ...] = ()

    @classmethod
    def load(cls, path: Path | None, cemu_fallback: str) -> Router:
        """The router of ``path``; without a file every alert goes to ``cemu_fallback``."""
        if path is None:
            return cls(cemu=cemu_fallback, composantes={})
        parsed = parse_routing_file(path)
        return cls(
            cemu=parsed.cemu or cemu_fallback,
            composantes={
                code: Composante(code, entry.name, tuple(entry.scolarite))
                for code, entry in parsed.composantes.items()
            },
            rules=tuple(
                RoutingRule(
                    to=tuple(rule.to),
                    composantes=_set(rule.match.composante),
                    detectors=_set(rule.match.detector),
                    severities=_set(rule.match.severity),
                    audiences=_set(rule.match.audience),
                    carry_on=rule.continue_,
                )
                for rule in parsed.rules
            ),
        )

    def recipients(self, alert: Routable) -> list[str]:
        """The addresses for ``alert``, in order, each once; never empty."""
        chosen: list[str] = []
        for rule in self.rules:
            if rule.matches(alert):
                for target in rule.to:
                    chosen.extend(self._addresses(target, alert))
                if not rule.carry_on:
                    return _unique(chosen)
        chosen.extend(self._addresses(alert.audience, alert))
        if getattr(alert, "cause", None) in TEACHERS_IN_COPY:
            chosen.extend(teacher_addresses(alert))
        return _unique(chosen)

    def in_copy(self, alert: Routable) -> list[str]:
        """Who of ``recipients(alert)`` the email names in copy (Cc): the teachers of a course
        whose code changed, when the seed gives the act to them and the rest to the scolarité."""
        if getattr(alert, "cause", None) not in TEACHERS_IN_COPY:
            return []
        chosen = self.recipients(alert)
        copied = [a for a in teacher_addresses(alert) if a in chosen]
        # Nobody left in To (a routing rule sent it to the teachers only): no copy then.
        return copied if len(copied) < len(chosen) else []

    def composante_name(self, cod_cmp: str | None) -> str | None:
        composante = self.composantes.get(cod_cmp or "")
        return None if composante is None else composante.name

    def _addresses(self, target: str, alert: Routable) -> list[str]:
        if target == "scolarite":
            composante = self.composantes.get(alert.cod_cmp or "")
            return list(composante.scolarite) if composante is not None else [self.cemu]
        if target == "teachers":
            return teacher_addresses(alert) or [self.cemu]
        if "@" in target:
            return [target]
        # "cemu", and the audiences whose people have no address here (teachers, on-call).
        return [self.cemu]


# Causes the scolarité handles with the course's teachers in copy.
TEACHERS_IN_COPY = frozenset({"code_changed"})


def teacher_addresses(alert: object) -> list[str]:
    """The teachers' addresses among the alert's people rows (their REFER accounts)."""
    evidence: tuple[Evidence, ...] = getattr(alert, "evidence", ())
    return _unique([e.email for e in evidence if e.is_person and e.email])


def _set(values: list[T] | None) -> frozenset[T] | None:
    return None if values is None else frozenset(values)


def _unique(addresses: list[str]) -> list[str]:
    return list(dict.fromkeys(addresses))
