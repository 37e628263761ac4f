"""Who a cohort sync lets into a course, against the database method and the IPs (R3, R5).

Seed, "Puis-je me dépanner en synchronisant une cohorte (basée sur les IA) dans le
cours ?": "les cohortes s'appuient sur les IA, donc ne prennent pas en compte le fait
que certains étudiants ne font pas toutes les UEs d'un parcours", and "il faut penser
à la retirer du cours quand les inscriptions automatiques sont corrigées". Pure helpers
of ``forgotten_cohort_sync``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detectors.model.context import ModelContext


def is_redundant(members: set[str], database_users: set[str], share: float) -> bool:
    """Whether at least ``share`` (0-1) of the cohort's members are database-enrolled too."""
    if not members:
        return False
    return len(members & database_users) >= share * len(members)


@dataclass(frozen=True)
class CohortReach:
    """Which courses a student's IPs lead to (the ELP's own, or its porteur's: R5)."""

    ctx: ModelContext
    cod_etu_of_user: Mapping[str, str]

    def courses_of(self, cod_etu: str) -> frozenset[str]:
        """Course idnumbers the student's IPs of the active years (R7) reach."""
        ctx = self.ctx
        return frozenset(
            code
            for ip in ctx.facts.ips_of_student(cod_etu)
            if (ip.year is None or ip.year in ctx.years)
            and (code := ctx.elp(ip.cod_elp).course_idnumber) is not None
        )

    def without_ip(self, members: set[str], idnumber: str) -> list[str]:
        """``cod_etu`` of the student members whose IPs reach neither the ELP nor its portés.

        Members without a student account (guests, staff) are not judged.
        """
        return sorted(
            cod_etu
            for user in members
            if (cod_etu := self.cod_etu_of_user.get(user)) is not None
            and idnumber not in self.courses_of(cod_etu)
        )
