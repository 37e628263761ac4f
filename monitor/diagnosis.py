"""Answer a support ticket from the state store: load the right facts, ask ``detectors.diagnose``.

A ticket names a course (APOGÉE code), a student number and/or a teacher.
Only the neighbourhood of the ELPs concerned is loaded (the course, the
student's registrations, the teacher's ADE fiches), so the answer comes in
well under a second at the scale of the whole university.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, String, cast, select

from alerts.lifecycle import ACTIVE_STATUSES
from alerts.repository import AlertFilter, AlertRecord, list_alerts
from detectors.base import DetectorConfig
from detectors.diagnose import Diagnosis, diagnose
from detectors.diagnose.people_search import PersonMatch, find_people
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.offer import ElpOffer
from monitor.store.rows import load_rows
from monitor.store.schema import fact_tables
from monitor.store.snapshot import load_facts


class NothingToDiagnose(ValueError):
    """The ticket names neither a course, nor a student, nor a teacher."""


class PersonNotFound(LookupError):
    """Nobody's name, email, login or number matches the ticket's person."""


class SeveralPeople(LookupError):
    """The ticket's person matches several accounts: the operator must choose one."""

    def __init__(self, query: str, matches: list[PersonMatch]):
        super().__init__(query)
        self.query = query
        self.matches = matches

    def text(self) -> str:
        """The choice, in French."""
        lines = [f"Plusieurs personnes correspondent à « {self.query} » ({len(self.matches)}) :"]
        lines += [f"- {m.describe()}" for m in self.matches]
        lines.append(
            "Précisez laquelle : relancez avec son numéro étudiant ou son identifiant "
            "(par exemple --person " + self.matches[0].key + ")."
        )
        return "\n".join(lines)


def find_person(conn: Connection, query: str) -> list[PersonMatch]:
    """Accounts named by ``query`` (name, email, login or number; case and accents ignored)."""
    return find_people(load_rows(conn, "account"), query)


def resolve_person(conn: Connection, query: str) -> PersonMatch:
    """The one person ``query`` names; ``PersonNotFound`` or ``SeveralPeople`` otherwise."""
    matches = find_person(conn, query)
    if not matches:
        raise PersonNotFound(
            f"personne ne correspond à « {query} » (nom, courriel, identifiant ou numéro)"
        )
    if len(matches) > 1:
        raise SeveralPeople(query, matches)
    return matches[0]


def elps_of_ticket(
    conn: Connection, *, cod_elp: str | None, cod_etu: str | None, teacher: str | None
) -> set[str]:
    """The ELPs a ticket is about: the course, the student's IPs, the teacher's fiches."""
    codes: set[str] = {cod_elp} if cod_elp else set()
    if cod_etu:
        ip = fact_tables["ip"]
        codes |= set(
            conn.execute(
                select(ip.c.cod_elp).where(ip.c.cod_etu == cod_etu, ip.c.tombstone.is_(False))
            ).scalars()
        )
    if teacher:
        # Teachers are JSON lists; matching the quoted id in their text works on SQLite and MariaDB.
        named = f'%"{teacher}"%'
        fiche, session = fact_tables["ade_fiche"], fact_tables["ade_session"]
        fiche_ids = set(
            conn.execute(
                select(session.c.fiche_id).where(cast(session.c.teachers, String).like(named))
            ).scalars()
        )
        codes |= set(
            conn.execute(
                select(fiche.c.cod_elp).where(
                    (cast(fiche.c.teachers, String).like(named)) | fiche.c.fiche_id.in_(fiche_ids)
                )
            ).scalars()
        )
    return {code for code in codes if code}


def open_alerts_of(conn: Connection, codes: set[str]) -> list[AlertRecord]:
    found: list[AlertRecord] = []
    for code in sorted(codes):
        found += [
            a
            for a in list_alerts(conn, AlertFilter(cod_elp=code, limit=1000))
            if a.status in ACTIVE_STATUSES
        ]
    return found


def diagnose_ticket(
    conn: Connection,
    *,
    now: datetime,
    config: DetectorConfig,
    cod_elp: str | None = None,
    cod_etu: str | None = None,
    teacher: str | None = None,
    offer: ElpOffer | None = None,
    moodle: MoodleSettings | None = None,
    person: str | None = None,
) -> Diagnosis:
    """The diagnosis of a ticket, from the state store alone; ``offer`` keeps the ELPs between
    tickets (``load_facts``). ``person`` (a name, email, login or number) is resolved to a
    student or a teacher first (``SeveralPeople``: the operator chooses)."""
    match = resolve_person(conn, person) if person else None
    if match is not None:
        if match.is_student:
            cod_etu = match.key
        else:
            teacher = match.key
    if not (cod_elp or cod_etu or teacher):
        raise NothingToDiagnose("give a course (cod_elp), a student number or a teacher id")
    codes = elps_of_ticket(conn, cod_elp=cod_elp, cod_etu=cod_etu, teacher=teacher)
    facts = load_facts(conn, codes, offer=offer, moodle=moodle)
    return diagnose(
        facts,
        now=now,
        config=config,
        cod_elp=cod_elp,
        cod_etu=cod_etu,
        teacher=teacher,
        open_alerts=open_alerts_of(conn, codes),
        person=match,
    )
