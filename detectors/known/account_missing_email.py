"""``account_missing_email``: guest or vacataire accounts created without an email address.

Seed FAQ "Je n'arrive pas à me connecter sur Ecampus", special case "je suis
bloqué sur ma page de profil, dès ma première connexion": a composante creates
guest and vacataire accounts itself; without the person's email address,
Moodle stops them on the profile page at first login, where they cannot enter
one. The composante must complete the account; Ecampus is reachable from the
next day (the nightly account sync, as R9 for accounts).

One finding per composante that created such accounts (``Account.cod_cmp``;
none known: the CEMU gets it), listing the accounts in the evidence: the
scolarité acts account by account but in one go, and the alert's subject (the
composante code) carries no personal data. The uids, logins the scolarité
needs to find the accounts, appear only in the evidence; names never do.

Accounts are not tied to ELPs, so a pass scoped to dirty ELPs has nothing to
look at (and the neighbourhood loaded for it holds no accounts): this detector
runs on the whole state only, daily and after each run (account changes reach
Moodle with the nightly sync).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Account
from detectors.findings import Evidence, Finding
from detectors.model.describe import agree, plural
from detectors.shared.people import full_name
from detectors.shared.severity import severity_for
from detectors.state import FactSet

NAME = "account_missing_email"
CAUSE = "missing_email"
OWN_CAUSES = (
    DeclaredCause(CAUSE, "Compte invité ou vacataire sans adresse électronique", "scolarite"),
)
HAS_NOT, HAVE_NOT = "n'a", "n'ont"
NO_COMPOSANTE = "sans-composante"

KIND_LABEL = {"guest": "invité", "vacataire": "enseignant vacataire"}
ACCOUNTS, ACCOUNTS_MANY = "compte invité ou vacataire", "comptes invités ou vacataires"

REMEDIATION = (
    "Ces comptes numériques (invités ou enseignants vacataires) ont été créés par la composante "
    "sans l'adresse électronique personnelle de la personne. Cette adresse est nécessaire pour "
    "accéder à Ecampus : dès sa première connexion, la personne reste bloquée sur sa page de "
    "profil, qui lui indique qu'elle n'a pas d'adresse électronique alors qu'elle ne peut pas la "
    "saisir. Complétez l'adresse électronique de chacun de ces comptes (leurs identifiants sont dans la liste des personnes concernées) ; "
    "l'accès à Ecampus sera normal dès le lendemain (synchronisation nocturne)."
)


def lacks_email(account: Account) -> bool:
    """A guest or vacataire account whose email is empty: stuck at first login."""
    return account.kind in KIND_LABEL and not (account.email or "").strip()


def _finding(
    cod_cmp: str | None, accounts: list[Account], *, now: datetime, config: DetectorConfig
) -> Finding:
    where = f"de la composante {cod_cmp}" if cod_cmp else "sans composante connue"
    # People rows (the table, the CSV joined to the email or digest), not prose.
    evidence = tuple(
        Evidence(
            "compte",
            f"compte {KIND_LABEL[a.kind]} sans adresse électronique",
            a.as_of,
            who=a.uid,
            name=full_name(a),
        )
        for a in sorted(accounts, key=lambda a: a.uid)
    )
    count = len(accounts)
    return Finding(
        detector=NAME,
        subject=cod_cmp or NO_COMPOSANTE,
        cause=CAUSE,
        title=f"{plural(count, ACCOUNTS, ACCOUNTS_MANY)} sans adresse électronique ({where})",
        summary=(
            f"{plural(count, ACCOUNTS, ACCOUNTS_MANY)} {where} "
            f"{agree(count, HAS_NOT, HAVE_NOT)} pas d'adresse électronique : "
            "ces personnes restent bloquées sur leur page de profil dès leur première connexion "
            "à Ecampus."
        ),
        remediation=REMEDIATION,
        # Locked out from the first login: as urgent as a course already started.
        severity=severity_for(
            count, None, now, critical_affected=config.critical_affected, soon=config.severity_soon
        ),
        audience="scolarite",
        cod_cmp=cod_cmp,
        affected_count=count,
        evidence=evidence,
    )


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Guest and vacataire accounts without email, one finding per composante (full passes only)."""
    if scope is not None:
        return []
    by_composante: dict[str | None, list[Account]] = defaultdict(list)
    for account in facts.accounts.values():
        if lacks_email(account):
            by_composante[account.cod_cmp or None].append(account)
    return [
        _finding(cod_cmp, accounts, now=now, config=config)
        for cod_cmp, accounts in sorted(by_composante.items(), key=lambda kv: kv[0] or "")
    ]


DETECTOR = Detector(
    name=NAME, moments=frozenset({"after_run", "daily"}), detect=detect, causes=OWN_CAUSES
)
