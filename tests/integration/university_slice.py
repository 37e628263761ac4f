"""A small, consistent university slice as its sources publish it: REFER, ADE and Moodle's own rows.

Two ELPs of one composante, each with a group collection of two groups, six
students (IA, IP up to the group, account with an email), one teacher planned
in ADE for both, and Moodle as lmsjonction left it after last night's run:
the courses (visible, in their composante's category), their contexts,
enrol_database's one instance per course, users, user enrolments, the role
assignments saying who is student or teacher, groups and memberships, and a
recent cohort sync (a cohort, its members, its instance: a guest account, an
"auditeur", whom no IP concerns). Every row is a
Debezium event of the default topics and columns; the nightly run's reports
close it.

``oracle_numbers`` encodes REFER's NUMBER columns as Debezium's Oracle
connector does with ``decimal.handling.mode=precise`` and no declared scale
(``VariableScaleDecimal``: ``{"scale": 0, "value": <base64 two's complement>}``);
otherwise as plain JSON numbers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String

from monitor.kafka.contracts import SyncRunReport
from monitor.kafka.events import OutgoingMessage, debezium_change, epoch_ms, run_report
from monitor.store.moodle_schema import COLUMNS

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday of November 2026: academic year 2026, no overlap, no maintenance.
NOW = datetime(2026, 11, 17, 8, 0, tzinfo=PARIS)
SNAPSHOT = NOW - timedelta(hours=15)  # Monday 17:00: what REFER and ADE held then
RUN_START = NOW - timedelta(hours=7, minutes=30)
RUN_END = RUN_START + timedelta(minutes=50)
YEAR = 2026
CMP = "12"
CATEGORY = 12
TEACHER = ("T0042", "pmartin", 400)  # ADE id (staff id), uid, Moodle user id
ELPS = {
    # cod_elp: (label, collection, groups, students, Moodle course id)
    "HSL1HIS1": ("Histoire moderne", "COLHIS", ("HISTD1", "HISTD2"), 3, 10),
    "HSL1GEO1": ("Géographie humaine", "COLGEO", ("GEOTD1", "GEOTD2"), 3, 11),
}
COHORT = 7
GUEST = ("invite1", 300)  # an auditeur's guest account (uid, Moodle user id)
PORTE_GONE = "HSL1HIS2"


def _variable_scale(value: int) -> dict[str, Any]:
    size = max(1, (value.bit_length() + 8) // 8)
    raw = value.to_bytes(size, "big", signed=True)
    return {"scale": 0, "value": base64.b64encode(raw).decode()}


@dataclass
class SliceBuilder:
    """The slice's messages, on topics named ``<prefix><default topic>``."""

    prefix: str = ""
    oracle_numbers: bool = False
    missing_student: str | None = None  # a cod_etu left out of Moodle (unenrolled, no group)
    # Issue 12's situations: a student put in the other group of the course; the cohort's
    # member a student of the other ELP (no IP here) instead of a guest; last night's run
    # failed (after a successful one a week before); an ELP gone from REFER whose IP names
    # a group of HSL1HIS1's collection (a porté by disappearance, collection not shared).
    wrong_group_student: str | None = None
    cohort_student_without_ip: bool = False
    failed_run: bool = False
    porte_gone: bool = False
    messages: list[OutgoingMessage] = field(default_factory=list)
    _ids: int = 1000

    def number(self, value: int) -> Any:
        return _variable_scale(value) if self.oracle_numbers else value

    def _next(self) -> int:
        self._ids += 1
        return self._ids

    def refer(self, table: str, row: dict[str, Any], keys: list[str]) -> None:
        topic = f"{self.prefix}refer.REFER.{table}"
        self.messages.append(debezium_change(topic, "r", row, at=SNAPSHOT, key_columns=keys))

    def ade(self, table: str, row: dict[str, Any], keys: list[str]) -> None:
        topic = f"{self.prefix}ade.ADE.{table}"
        self.messages.append(debezium_change(topic, "r", row, at=SNAPSHOT, key_columns=keys))

    def moodle(self, table: str, **row: Any) -> None:
        topic = f"{self.prefix}moodle.moodle.mdl_{table}"
        at = RUN_START + timedelta(minutes=10)  # written by last night's run
        # Debezium sends every column: those not given hold Moodle's defaults.
        row = {c: "" if isinstance(t, String) else 0 for c, t in COLUMNS[table]} | row
        self.messages.append(debezium_change(topic, "r", row, at=at, key_columns=["id"]))

    def build(self) -> list[OutgoingMessage]:
        self._people()
        for code, (label, collection, groups, students, course) in ELPS.items():
            self._elp(code, label, collection, groups)
            self._course(code, label, groups, students, course)
        self._cohort()
        if self.porte_gone:
            self._porte_gone()
        runs = f"{self.prefix}lmsjonction.runs"
        if self.failed_run:
            week = timedelta(days=7)
            before = SyncRunReport(run_id="run-before", started_at=RUN_START - week,
                                   finished_at=RUN_END - week, status="success")  # fmt: skip
            self.messages.append(run_report(runs, before))
        report = SyncRunReport(run_id="run-slice", started_at=RUN_START, status="running")
        self.messages.append(run_report(runs, report))
        status = "failed" if self.failed_run else "success"
        finished = report.model_copy(update={"finished_at": RUN_END, "status": status})
        self.messages.append(run_report(runs, finished))
        return self.messages

    def _porte_gone(self) -> None:
        """IP of a GEO student on HSL1HIS2, gone from REFER, in group HISTD1 (of COLHIS)."""
        self.refer(
            "T_ADE_ACTIVITES_ETUDIANTS",
            {
                "COD_ETU": self.students_of("HSL1GEO1")[0],
                "COD_ELP": PORTE_GONE,
                "IDGROUPE": "HISTD1",
                "DISTANT": self.number(0),
                "ANNEE": self.number(YEAR),
            },
            ["COD_ETU", "COD_ELP"],
        )

    # --- REFER and ADE ----------------------------------------------------------------
    def _people(self) -> None:
        staff_id, uid, userid = TEACHER
        self._account(uid, "P", None, staff_id, "Martin", "Paul")
        self.moodle("user", id=userid, username=uid, idnumber=staff_id, email=f"{uid}@univ.fr",
                    auth="cas", deleted=0, suspended=0)  # fmt: skip
        for index, cod_etu in enumerate(self.students()):
            self.refer(
                "T_ADE_IA",
                {
                    "ID_IA": self.number(9000 + index),
                    "COD_ETU": cod_etu,
                    "COD_ETP": "HSL1",
                    "ANNEE": self.number(YEAR),
                    "TELE_ENS": "N",
                    "ETA_IA": "E",
                    "DAT_ANNUL": None,
                    "ID_IA_REMPLACEE": None,
                    "COD_PROG_ECH": None,
                    "SENS_ECH": None,
                    "PERIODE_ECH": None,
                },
                ["ID_IA"],
            )
            uid = f"e{cod_etu}"
            self._account(uid, "E", cod_etu, None, f"Nom{index}", f"Prénom{index}")
            self.moodle("user", id=100 + index, username=uid, idnumber=cod_etu,
                        email=f"{uid}@etu.univ.fr", auth="cas", deleted=0, suspended=0)  # fmt: skip

    def _account(
        self, uid: str, kind: str, cod_etu: str | None, staff_id: str | None, last: str, first: str
    ) -> None:
        self.refer(
            "T_COMPTES",
            {
                "UID": uid,
                "TYPE_COMPTE": kind,
                "COD_ETU": cod_etu,
                "ID_PERS": staff_id,
                "NOM": last,
                "PRENOM": first,
                "MAIL": f"{uid}@univ.fr",
                "COD_CMP": CMP,
            },
            ["UID"],
        )

    @staticmethod
    def students() -> list[str]:
        return [f"2260{n:04d}" for n in range(sum(e[3] for e in ELPS.values()))]

    def students_of(self, code: str) -> list[str]:
        start = 0
        for other, (_l, _c, _g, count, _course) in ELPS.items():
            if other == code:
                return self.students()[start : start + count]
            start += count
        raise KeyError(code)

    def _elp(self, code: str, label: str, collection: str, groups: tuple[str, ...]) -> None:
        self.refer(
            "T_ADE_ACTIVITES",
            {
                "COD_ELP": code,
                "LIB_ELP": label,
                "COD_CMP": CMP,
                "A_DISTANCE": "N",
                "ETA_ELP": "O",
                "COD_ELP_PORTEUR": None,
                "TEM_CHARGES_ENS": "O",
                "PERIODE": "AN",
                "ANNEE": self.number(YEAR),
            },
            ["COD_ELP"],
        )
        self.refer("T_ADE_COLLECTIONS_ELP", {"COD_COL": collection, "COD_ELP": code},
                   ["COD_COL", "COD_ELP"])  # fmt: skip
        for group in groups:
            self.refer("T_ADE_GROUPES", {"COD_GPE": group, "LIB_GPE": f"TD {group}",
                                         "COD_COL": collection}, ["COD_GPE"])  # fmt: skip
        for index, cod_etu in enumerate(self.students_of(code)):
            self.refer(
                "T_ADE_ACTIVITES_ETUDIANTS",
                {
                    "COD_ETU": cod_etu,
                    "COD_ELP": code,
                    "IDGROUPE": groups[index % len(groups)],
                    "DISTANT": self.number(0),
                    "ANNEE": self.number(YEAR),
                },
                ["COD_ETU", "COD_ELP"],
            )
        staff_id = TEACHER[0]
        fiche = f"F-{code}"
        self.ade("FICHES", {"ID_FICHE": fiche, "COD_ELP": code, "ENS_ASSOCIES": staff_id},
                 ["ID_FICHE"])  # fmt: skip
        self.ade(
            "SEANCES",
            {
                "ID_SEANCE": f"S-{code}",
                "ID_FICHE": fiche,
                "DEBUT": epoch_ms(NOW + timedelta(days=2)),
                "GROUPES": ",".join(groups),
                "ENS_PLANIFIES": staff_id,
            },
            ["ID_SEANCE"],
        )

    # --- Moodle -----------------------------------------------------------------------
    def _course(
        self, code: str, label: str, groups: tuple[str, ...], students: int, course: int
    ) -> None:
        start = int(datetime(YEAR, 9, 1, tzinfo=PARIS).timestamp())
        self.moodle("course", id=course, category=CATEGORY, fullname=label, shortname=code,
                    idnumber=code, startdate=start, enddate=0, visible=1)  # fmt: skip
        context = 500 + course
        self.moodle("context", id=context, contextlevel=50, instanceid=course,
                    path=f"/1/3/{context}", depth=3)  # fmt: skip
        instance = 20 + course
        self.moodle("enrol", id=instance, enrol="database", status=0, courseid=course,
                    roleid=5, customint1=None, timecreated=start)  # fmt: skip
        group_ids = {g: self._next() for g in groups}
        for group, gid in group_ids.items():
            self.moodle("groups", id=gid, courseid=course, idnumber=group, name=f"TD {group}")
        people = [(TEACHER[2], 3, None)] + [
            (100 + self.students().index(cod_etu), 5, self._placed(cod_etu, index, groups))
            for index, cod_etu in enumerate(self.students_of(code))
            if cod_etu != self.missing_student
        ]
        for userid, roleid, group in people:
            self.moodle("user_enrolments", id=self._next(), status=0, enrolid=instance,
                        userid=userid, timestart=start, timeend=0)  # fmt: skip
            self.moodle("role_assignments", id=self._next(), roleid=roleid, contextid=context,
                        userid=userid, component="enrol_database", itemid=instance)  # fmt: skip
            if group is not None:
                self.moodle("groups_members", id=self._next(), groupid=group_ids[group],
                            userid=userid, component="", itemid=0)  # fmt: skip

    def _placed(self, cod_etu: str, index: int, groups: tuple[str, ...]) -> str:
        """The student's Moodle group: its IP's, or the next one for ``wrong_group_student``."""
        shift = 1 if cod_etu == self.wrong_group_student else 0
        return groups[(index + shift) % len(groups)]

    def _cohort(self) -> None:
        """A recent cohort sync on the first course: a guest, or a student of the other ELP."""
        course = next(iter(ELPS.values()))[4]
        created = int((NOW - timedelta(days=20)).timestamp())
        self.moodle("cohort", id=COHORT, contextid=1, name="Auditeurs L1", idnumber="AUD-L1",
                    visible=1, component="")  # fmt: skip
        instance = 40 + course
        self.moodle("enrol", id=instance, enrol="cohort", status=0, courseid=course, roleid=5,
                    customint1=COHORT, timecreated=created)  # fmt: skip
        if self.cohort_student_without_ip:
            guest = 100 + len(self.students()) - 1  # enrolled in the other course only
        else:
            uid, guest = GUEST
            self._account(uid, "I", None, None, "Auditeur", "Libre")
            self.moodle("user", id=guest, username=uid, idnumber="", email=f"{uid}@univ.fr",
                        auth="cas", deleted=0, suspended=0)  # fmt: skip
        self.moodle("cohort_members", id=self._next(), cohortid=COHORT, userid=guest)
        self.moodle("user_enrolments", id=self._next(), status=0, enrolid=instance, userid=guest,
                    timestart=created, timeend=0)  # fmt: skip
        self.moodle("role_assignments", id=self._next(), roleid=5, contextid=500 + course,
                    userid=guest, component="enrol_cohort", itemid=instance)  # fmt: skip
