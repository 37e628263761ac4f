"""People concerned by a finding, as table rows (not prose): number, name, group, since when.

Names and teachers' addresses come from the REFER accounts (``T_COMPTES``):
a student's by ``cod_etu``, a teacher's by the ADE id (the account's
``staff_id``, or its uid). Rows are evidence with ``who`` set; a summary line
names how many and the first few.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from detectors.facts import Account
from detectors.findings import Evidence
from detectors.model.describe import listing, plural
from detectors.state import FactSet

# How many people a summary line names before "et N autres".
NAMED = 5


def _by_person(facts: FactSet) -> Mapping[str, Account]:
    def build() -> dict[str, Account]:
        found: dict[str, Account] = {}
        for account in facts.accounts.values():
            for key in (account.cod_etu, account.staff_id, account.uid):
                if key is not None and key not in found:
                    found[key] = account
        return found

    return facts.memo("accounts_by_person", build)


def account_of(facts: FactSet, who: str) -> Account | None:
    """The REFER account of a student number, an ADE teacher id or a uid."""
    return _by_person(facts).get(who)


def full_name(account: Account | None) -> str | None:
    if account is None:
        return None
    name = f"{account.first_name} {account.last_name.upper()}".strip()
    return name or None


def person_row(
    facts: FactSet,
    rule: str,
    who: str,
    reason: str,
    since: datetime | None,
    group: str | None = None,
) -> Evidence:
    """One line of the people table; a teacher's row carries the address of their account."""
    account = account_of(facts, who)
    email = account.email if account is not None and account.kind != "student" else None
    return Evidence(rule, reason, since, who=who, name=full_name(account), group=group, email=email)


def people_summary(rule: str, noun: str, people: Sequence[str]) -> Evidence:
    """``24 étudiants concernés : 1, 2, 3, 4, 5 et 19 autres`` (the table has them all)."""
    return Evidence(rule, f"{plural(len(people), noun)} : {listing(list(people), NAMED)}")


def planned_teachers(facts: FactSet, cod_elp: str) -> list[str]:
    """The ADE ids of the teachers planned in a session of the ELP's fiches (R6)."""
    planned = {
        teacher
        for fiche in facts.fiches_of_elp(cod_elp)
        for session in facts.sessions_of_fiche(fiche.fiche_id)
        for teacher in session.teachers
    }
    return sorted(planned)


def teacher_rows(facts: FactSet, cod_elp: str | None, rule: str) -> list[Evidence]:
    """A row per teacher planned in ADE on the course, with the address of their REFER account.

    Teacher-facing alerts are sent to these addresses (``alerts.routing``).
    """
    if not cod_elp:
        return []
    return [
        person_row(facts, rule, teacher, "enseignant planifié dans ADE pour ce cours", None)
        for teacher in planned_teachers(facts, cod_elp)
    ]
