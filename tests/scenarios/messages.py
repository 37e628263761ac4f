"""A scenario's facts as the messages their sources publish, with the defaults filled in.

REFER and ADE rows keep the contract's columns (docs/CONTRACT.md); the
columns a file leaves out get the defaults below (an open, present-day ELP
with a teaching load of composante 12…). Every student named by an IP gets
an active IA and an account unless the file gives them, every teacher named
by ADE or by a Moodle line an account, so a file says only what its
situation is about. Moodle lines are written as Moodle's own rows by the
simulator's ``SourceCodec``/``MoodleSource`` (users, course context,
enrol_database's one instance per course, user enrolments with their role
assignment, groups, cohorts); run reports are ``SyncRunReport``s.

Rows may carry ``op``: ``r`` (snapshot, the default), ``c``, ``u`` (the
columns given are merged onto the row as last published) or ``d`` (the key
is enough: the row as last published is deleted, then Debezium's tombstone).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from detectors.facts import MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, MoodleGroupMember
from monitor.config import Settings
from monitor.kafka.contracts import RunCounters, RunMessageModel, SyncRunReport
from monitor.kafka.events import OutgoingMessage, debezium_change, epoch_ms
from monitor.simulation.codec import SourceCodec
from monitor.store.entities import EntityName
from tests.scenarios.scenario_file import (
    DAY,
    CheckStep,
    FactsStep,
    MoodleCourseLine,
    MoodleEnrolmentLine,
    RunReportLine,
    RunStep,
    Scenario,
)

YEAR = 2026
CMP = "12"
CATEGORY = 12
COURSE_START = datetime(YEAR, 9, 1, tzinfo=DAY.tzinfo)

KEYS: dict[str, tuple[str, ...]] = {
    "T_ADE_ACTIVITES": ("COD_ELP",),
    "T_ADE_GROUPES": ("COD_GPE",),
    "T_ADE_COLLECTIONS_ELP": ("COD_COL", "COD_ELP"),
    "T_ADE_ACTIVITES_ETUDIANTS": ("COD_ETU", "COD_ELP"),
    "T_ADE_IA": ("ID_IA",),
    "T_COMPTES": ("UID",),
    "FICHES": ("ID_FICHE",),
    "SEANCES": ("ID_SEANCE",),
}
ENTITY: dict[str, EntityName] = {
    "T_ADE_ACTIVITES": "elp",
    "T_ADE_GROUPES": "group",
    "T_ADE_COLLECTIONS_ELP": "collection_link",
    "T_ADE_ACTIVITES_ETUDIANTS": "ip",
    "T_ADE_IA": "ia",
    "T_COMPTES": "account",
    "FICHES": "ade_fiche",
    "SEANCES": "ade_session",
}


def _defaults(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """The columns a scenario leaves out, for a row seen for the first time."""
    if table == "T_ADE_ACTIVITES":
        code = row["COD_ELP"]
        return {"LIB_ELP": f"Élément {code}", "COD_CMP": CMP, "A_DISTANCE": "N",
                "ETA_ELP": "O", "COD_ELP_PORTEUR": None, "TEM_CHARGES_ENS": "O",
                "PERIODE": "AN", "ANNEE": YEAR}  # fmt: skip
    if table == "T_ADE_GROUPES":
        return {"LIB_GPE": f"TD {row['COD_GPE']}", "COD_COL": None}
    if table == "T_ADE_ACTIVITES_ETUDIANTS":
        return {"IDGROUPE": None, "DISTANT": 0, "ANNEE": YEAR}
    if table == "T_ADE_IA":
        return {"COD_ETP": "ETP1", "ANNEE": YEAR, "TELE_ENS": "N", "ETA_IA": "E",
                "DAT_ANNUL": None, "ID_IA_REMPLACEE": None, "COD_PROG_ECH": None,
                "SENS_ECH": None, "PERIODE_ECH": None}  # fmt: skip
    if table == "T_COMPTES":
        uid = row["UID"]
        return {"TYPE_COMPTE": "E" if row.get("COD_ETU") else "P", "COD_ETU": None,
                "ID_PERS": None, "NOM": f"Nom-{uid}", "PRENOM": f"Prénom-{uid}",
                "MAIL": f"{uid}@univ.example", "COD_CMP": CMP}  # fmt: skip
    if table == "FICHES":
        return {"COD_ELP": None, "ENS_ASSOCIES": ""}
    if table == "SEANCES":
        return {"DEBUT": DAY + timedelta(days=2, hours=10), "GROUPES": "", "ENS_PLANIFIES": ""}
    return {}


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


@dataclass
class ScenarioMessages:
    """Turns a scenario's steps into phases: (messages, checkpoint or None) in order."""

    scenario: Scenario
    settings: Settings
    codec: SourceCodec = field(init=False)
    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    courses: dict[int, MoodleCourse] = field(default_factory=dict)
    instances: dict[tuple[int, str, int | None, str], MoodleEnrolInstance] = field(
        default_factory=dict
    )
    enrolments: dict[tuple[int, str, str, int | None, str], MoodleEnrolment] = field(
        default_factory=dict
    )
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.codec = SourceCodec(self.settings.sources)
        given = [s for s in self.scenario.steps if isinstance(s, FactsStep)]
        self.etu_with_account = {str(r["COD_ETU"]) for s in given
                                 for r in s.refer.get("T_COMPTES", []) if r.get("COD_ETU")}  # fmt: skip
        self.pers_with_account = {str(r["ID_PERS"]) for s in given
                                  for r in s.refer.get("T_COMPTES", []) if r.get("ID_PERS")}  # fmt: skip
        self.etu_with_ia = {str(r["COD_ETU"]) for s in given
                            for r in s.refer.get("T_ADE_IA", []) if r.get("COD_ETU")}  # fmt: skip
        self.uids = {str(r.get("COD_ETU") or r.get("ID_PERS")): str(r["UID"]) for s in given
                     for r in s.refer.get("T_COMPTES", [])
                     if r.get("COD_ETU") or r.get("ID_PERS")}  # fmt: skip

    # --- phases ------------------------------------------------------------------------
    def phases(self) -> Iterator[tuple[list[OutgoingMessage], datetime | None]]:
        batch: list[OutgoingMessage] = []
        for step in self.scenario.steps:
            if isinstance(step, CheckStep):
                yield batch, step.check
                batch = []
            elif isinstance(step, RunStep):
                batch += self._run(step.run)
            else:
                batch += self._facts(step)
        yield batch, self.scenario.now

    # --- REFER and ADE -----------------------------------------------------------------
    def _facts(self, step: FactsStep) -> list[OutgoingMessage]:
        out: list[OutgoingMessage] = []
        tables = {**step.refer, **step.ade}
        extra = self._implied(step)
        for table in ("T_COMPTES", "T_ADE_IA"):
            if extra.get(table):
                tables[table] = [*tables.get(table, []), *extra[table]]
        order = ("T_COMPTES", "T_ADE_IA", "T_ADE_ACTIVITES", "T_ADE_GROUPES",
                 "T_ADE_COLLECTIONS_ELP", "T_ADE_ACTIVITES_ETUDIANTS", "FICHES", "SEANCES")  # fmt: skip
        for table in order:
            for row in tables.get(table, []):
                out += self._row(table, row, step.at)
        out += self._moodle(step)
        return out

    def _implied(self, step: FactsStep) -> dict[str, list[dict[str, Any]]]:
        """Accounts and IAs the file does not give, for the people this step names."""
        accounts: list[dict[str, Any]] = []
        ias: list[dict[str, Any]] = []
        for ip in step.refer.get("T_ADE_ACTIVITES_ETUDIANTS", []):
            etu = str(ip["COD_ETU"])
            if ip.get("op") == "d":
                continue
            if etu not in self.etu_with_account:
                self.etu_with_account.add(etu)
                self.uids[etu] = f"e{etu}"
                accounts.append({"UID": f"e{etu}", "COD_ETU": etu})
            if etu not in self.etu_with_ia:
                self.etu_with_ia.add(etu)
                distant = str(ip.get("DISTANT", 0)) in ("1", "O", "True", "true")
                ias.append({"ID_IA": f"IA-{etu}", "COD_ETU": etu,
                            "TELE_ENS": "O" if distant else "N"})  # fmt: skip
        teachers: set[str] = set()
        for table, columns in (("FICHES", ("ENS_ASSOCIES",)), ("SEANCES", ("ENS_PLANIFIES",))):
            for row in step.ade.get(table, []):
                for column in columns:
                    teachers.update(_listed(row.get(column)))
        teachers.update(e.user for e in step.moodle.enrolments if e.role == "teacher")
        for teacher in sorted(teachers - self.pers_with_account):
            self.pers_with_account.add(teacher)
            self.uids[teacher] = teacher.lower()
            accounts.append({"UID": teacher.lower(), "ID_PERS": teacher, "TYPE_COMPTE": "P"})
        for etu in sorted({e.user for e in step.moodle.enrolments if e.role == "student"}
                          | {u for g in step.moodle.groups for u in g.users}):  # fmt: skip
            if etu.isdigit() and etu not in self.etu_with_account:
                self.etu_with_account.add(etu)
                self.uids[etu] = f"e{etu}"
                accounts.append({"UID": f"e{etu}", "COD_ETU": etu})
        return {"T_COMPTES": accounts, "T_ADE_IA": ias}

    def _row(self, table: str, given: dict[str, Any], at: datetime) -> list[OutgoingMessage]:
        row = {k: v for k, v in given.items() if k != "op"}
        op = given.get("op", "r")
        try:
            key = "|".join(str(row[c]) for c in KEYS[table])
        except KeyError as missing:
            raise ValueError(f"{table} row {given}: key column {missing} missing") from None
        known = self.rows.get((table, key))
        if op in ("u", "d"):
            if known is None:
                raise ValueError(f"{table} row {key}: op {op} on a row never published before")
            full = {**known, **row}
        else:
            full = {**_defaults(table, row), **row}
        full = {k: _column(v) for k, v in full.items()}
        topic = self._topic(ENTITY[table])
        message = debezium_change(topic, op, full, at=at, key_columns=KEYS[table],
                                  before=known if op in ("u", "d") else None)  # fmt: skip
        if op == "d":
            self.rows.pop((table, key), None)
            return [message, OutgoingMessage(topic, message.key, None)]
        self.rows[(table, key)] = full
        return [message]

    def _topic(self, entity: EntityName) -> str:
        for topic, mapping in self.settings.sources.topics.items():
            if mapping.entity == entity:
                return topic
        raise KeyError(entity)

    # --- Moodle ------------------------------------------------------------------------
    def _uid(self, who: str) -> str:
        return self.uids.get(who, who)

    def _moodle(self, step: FactsStep) -> list[OutgoingMessage]:
        out: list[OutgoingMessage] = []
        at = step.at
        for line in step.moodle.courses:
            out += self._course(line, at)
        for enrolment in step.moodle.enrolments:
            out += self._enrolment(enrolment, at)
        for group in step.moodle.groups:
            for user in group.users:
                member = MoodleGroupMember(group.course, group.group, self._uid(user))
                out += self._events("moodle_group_member", group.op, member, at)
        for table, rows in step.moodle.rows.items():
            for row in rows:
                topic = self._topic(table)  # type: ignore[arg-type]
                out.append(debezium_change(topic, row.get("op", "r"),
                                           {k: v for k, v in row.items() if k != "op"},
                                           at=at, key_columns=["id"]))  # fmt: skip
        return out

    def _events(self, entity: EntityName, op: str, fact: Any, at: datetime,
                before: Any = None) -> list[OutgoingMessage]:  # fmt: skip
        found: list[OutgoingMessage] = []
        for message in self.codec.events(entity, op, fact, at, before):  # type: ignore[arg-type]
            found.append(message)
            if message.value is not None and message.value.get("op") == "d":
                found.append(OutgoingMessage(message.topic, message.key, None))
        return found

    def _course(self, line: MoodleCourseLine, at: datetime) -> list[OutgoingMessage]:
        before = self.courses.get(line.id)
        given = line.model_dump(exclude={"op"}, exclude_none=True)
        given.pop("id")
        if before is None:
            code = line.idnumber or ""
            start = line.startdate or COURSE_START
            course = MoodleCourse(course_id=line.id, idnumber=code, shortname=code,
                                  fullname=f"({code}) Élément {code}", visible=True,
                                  category=CATEGORY, startdate=start)  # fmt: skip
        else:
            course = before
        changes: dict[str, Any] = {}
        for name, value in given.items():
            changes[name] = bool(value) if name == "visible" else value
        course = dataclasses.replace(course, **changes)
        self.courses[line.id] = course
        op = line.op if before is not None or line.op != "u" else "r"
        return self._events("moodle_course", op, course, at, before if op == "u" else None)

    def _enrolment(self, line: MoodleEnrolmentLine, at: datetime) -> list[OutgoingMessage]:
        out: list[OutgoingMessage] = []
        slot = (line.course, line.method, line.cohort, line.role)
        instance = self.instances.get(slot)
        if instance is None:
            instance = MoodleEnrolInstance(next(self._ids) + 50_000, line.course, line.method,
                                           line.role, line.cohort, line.created or COURSE_START)  # fmt: skip
            self.instances[slot] = instance
            out += self._events("moodle_enrol", "r", instance, at)
        uid = self._uid(line.user)
        key = (line.course, uid, line.method, line.cohort, line.role)
        before = self.enrolments.get(key)
        enrolment = MoodleEnrolment(
            enrolment_id=before.enrolment_id if before else next(self._ids) + 100_000,
            enrol_id=instance.enrol_id,
            user=uid,
            timestart=line.timestart,
            timeend=line.timeend,
            active=line.active,
        )
        op = line.op
        if op == "d":
            if before is None:
                raise ValueError(f"enrolment {key}: deleted but never published")
            enrolment = before
            del self.enrolments[key]
        else:
            self.enrolments[key] = enrolment
        out += self._events("moodle_enrolment", op, enrolment, at, before if op == "u" else None)
        return out

    # --- lmsjonction -------------------------------------------------------------------
    def _run(self, line: RunReportLine) -> list[OutgoingMessage]:
        messages = [
            RunMessageModel(
                level=m.level,
                code=m.code,
                text=m.text or m.code,
                cod_elp=m.cod_elp,
                cod_etu=m.cod_etu,
            )
            for m in line.messages
            for _ in range(m.count)
        ]
        started = SyncRunReport(run_id=line.run_id, started_at=line.started_at, status="running")
        out = [self.codec.report(started)]
        if line.status != "running":
            finished = started.model_copy(
                update={
                    "finished_at": line.finished_at,
                    "status": line.status,
                    "counters": RunCounters(**line.counters),
                    "messages": messages,
                }
            )
            out.append(self.codec.report(finished))
        return out
