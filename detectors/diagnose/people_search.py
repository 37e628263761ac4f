"""Find a person named in a support ticket by name, email, login or number (pure).

Seed, « créer un ticket d'assistance » : « le numéro étudiant d'au moins une
des personnes … (il y a presque 30 000 étudiants …, dont beaucoup
d'homonymes) ». Tickets often give a name or an address instead: matching
ignores case and accents (« Héloïse » = « heloise »), and several matches are
all returned so that diagnosis lists them and asks which one is meant.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from detectors.facts import Account

_SEPARATORS = re.compile(r"[\s\-'’.,;]+")

KINDS = {
    "student": "étudiant",
    "staff": "personnel",
    "guest": "invité",
    "vacataire": "enseignant vacataire",
}


def normalised(text: str) -> str:
    """Lower case, without accents, single spaces: what two spellings of a name share."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _tokens(text: str) -> set[str]:
    return {t for t in _SEPARATORS.split(normalised(text)) if t}


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """An account the query names, and who it is for diagnosis (student number or staff id)."""

    account: Account
    how: str  # "numéro", "identifiant", "adresse", "nom"

    @property
    def key(self) -> str:
        a = self.account
        return a.cod_etu or a.staff_id or a.uid

    @property
    def is_student(self) -> bool:
        return self.account.cod_etu is not None

    def describe(self) -> str:
        a = self.account
        name = f"{a.first_name} {a.last_name.upper()}".strip() or "nom inconnu"
        ids = ", ".join(
            part
            for part in (
                f"n° étudiant {a.cod_etu}" if a.cod_etu else "",
                f"identifiant {a.uid}",
                f"courriel {a.email}" if a.email else "",
            )
            if part
        )
        return f"{name} ({KINDS.get(a.kind, a.kind)} ; {ids})"


def match_account(account: Account, query: str) -> str | None:
    """How ``query`` names ``account`` (None: it does not)."""
    wanted = normalised(query)
    if not wanted:
        return None
    if wanted in {normalised(v) for v in (account.cod_etu, account.staff_id) if v}:
        return "numéro"
    if wanted == normalised(account.uid):
        return "identifiant"
    if account.email and wanted == normalised(account.email):
        return "adresse"
    name = _tokens(f"{account.first_name} {account.last_name}")
    asked = _tokens(query)
    if name and asked and asked <= name:
        return "nom"
    return None


def find_people(accounts: Iterable[Account], query: str) -> list[PersonMatch]:
    """Every account ``query`` names, numbers and logins first, then by name (stable order)."""
    order = {"numéro": 0, "identifiant": 1, "adresse": 2, "nom": 3}
    found = [PersonMatch(a, how) for a in accounts if (how := match_account(a, query)) is not None]
    exact = [m for m in found if m.how != "nom"]
    chosen = exact or found  # a number or login names one person: names are not mixed in
    return sorted(chosen, key=lambda m: (order[m.how], m.account.last_name, m.account.uid))
