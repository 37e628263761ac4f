"""The demo's scripted scenario: a few days in the life of two composantes.

Day 0 (snapshot): the offer, groups, registrations and the Moodle courses.
Today: the scolarités edit APOGÉE: one ELP is removed from the offer, one
changes code (same label, new code), one becomes "porté" (seed example
2HR5C porté by M.1HRP9C). Tonight: lmsjonction archives the three courses and
reports its run. Every message uses the default topics and column names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.kafka.contracts import RunCounters, RunMessageModel, SyncRunReport
from monitor.kafka.events import OutgoingMessage, debezium_change, epoch_ms, run_report

ELP_TOPIC = "refer.REFER.T_ADE_ACTIVITES"
GROUP_TOPIC = "refer.REFER.T_ADE_GROUPES"
LINK_TOPIC = "refer.REFER.T_ADE_COLLECTIONS_ELP"
IP_TOPIC = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS"
COURSE_TOPIC = "moodle.moodle.mdl_course"
ENROL_TOPIC = "moodle.moodle.mdl_enrol"
USER_ENROL_TOPIC = "moodle.moodle.mdl_user_enrolments"
USER_TOPIC = "moodle.moodle.mdl_user"
CONTEXT_TOPIC = "moodle.moodle.mdl_context"
ROLE_TOPIC = "moodle.moodle.mdl_role_assignments"
STUDENT_ROLE, TEACHER_ROLE = 5, 3  # Moodle's student and editingteacher
RUNS_TOPIC = "lmsjonction.runs"
ARCHIVE_CATEGORY = 999

COMPOSANTES = {
    "12": ("UFR HSS", "scolarite.hss@univ-demo.fr"),
    "05": ("UFR Droit", "scolarite.droit@univ-demo.fr"),
}

# cod_elp, label, composante, students
OFFER: list[tuple[str, str, str, int]] = [
    ("M.1HRP9C", "Histoire moderne et contemporaine", "12", 34),
    ("2HR5C", "Histoire des relations internationales", "12", 18),
    ("HSS-L2-SOC", "Sociologie urbaine", "12", 27),
    ("RCAED334", "Méthodologie du travail universitaire", "12", 12),
    ("DRT-L1-CIV", "Droit civil : les personnes", "05", 41),
    ("DRT-L1-CON", "Droit constitutionnel", "05", 39),
]
REMOVED = "HSS-L2-SOC"
RENAMED = ("DRT-L1-CIV", "DRT-L1-CIV2")
PORTE = ("2HR5C", "M.1HRP9C")


@dataclass(frozen=True)
class Scenario:
    """The scenario's two phases, to publish one after the other."""

    today: list[OutgoingMessage]
    tonight: list[OutgoingMessage]

    @property
    def routing_yaml(self) -> str:
        lines = ["cemu: cemu.assistance@univ-demo.fr", "composantes:"]
        for code, (name, address) in COMPOSANTES.items():
            lines += [f'  "{code}":', f"    name: {name}", f"    scolarite: [{address}]"]
        return "\n".join(lines) + "\n"


def _elp_row(code: str, label: str, cmp: str, porteur: str | None = None) -> dict[str, Any]:
    return {
        "COD_ELP": code,
        "LIB_ELP": label,
        "COD_CMP": cmp,
        "A_DISTANCE": "N",
        "ETA_ELP": "O",
        "COD_ELP_PORTEUR": porteur,
        "TEM_CHARGES_ENS": "O",
        "PERIODE": "S1",
        "ANNEE": 2026,
    }


def _course_row(
    course_id: int, code: str, label: str, at: datetime, category: int
) -> dict[str, Any]:
    return {
        "id": course_id,
        "idnumber": code,
        "shortname": code,
        "fullname": label,
        "visible": 1,
        "category": category,
        "startdate": epoch_ms(at) // 1000,
        "enddate": 0,
    }


def _snapshot(at: datetime) -> Iterator[OutgoingMessage]:
    user_enrolment_id = 1
    for index, (code, label, cmp, students) in enumerate(OFFER):
        course_id = 1001 + index
        yield debezium_change(
            ELP_TOPIC, "r", _elp_row(code, label, cmp), at=at, key_columns=["COD_ELP"]
        )
        collection = f"{code}TD"
        yield debezium_change(
            GROUP_TOPIC,
            "r",
            {"COD_GPE": collection, "LIB_GPE": f"TD {label}", "COD_COL": collection},
            at=at,
            key_columns=["COD_GPE"],
        )
        yield debezium_change(
            LINK_TOPIC,
            "r",
            {"COD_COL": collection, "COD_ELP": code},
            at=at,
            key_columns=["COD_COL", "COD_ELP"],
        )
        yield debezium_change(
            COURSE_TOPIC,
            "r",
            _course_row(course_id, code, label, at, 10),
            at=at,
            key_columns=["id"],
        )
        # Moodle as Moodle is: the course's context, enrol_database's one instance per course,
        # and who is teacher or student told by the role assignments the plugin makes.
        context_id, instance = 5000 + course_id, course_id * 10 + 1
        yield _moodle(
            CONTEXT_TOPIC,
            {"id": context_id, "contextlevel": 50, "instanceid": course_id, "path": "", "depth": 3},
            at,
        )
        yield _moodle(
            ENROL_TOPIC,
            {
                "id": instance,
                "courseid": course_id,
                "enrol": "database",
                "status": 0,
                "roleid": STUDENT_ROLE,
                "customint1": None,
                "timecreated": epoch_ms(at) // 1000,
            },
            at,
        )
        for number in range(students):
            cod_etu = f"2{index:02d}{number:05d}"
            yield debezium_change(
                IP_TOPIC,
                "r",
                {
                    "COD_ETU": cod_etu,
                    "COD_ELP": code,
                    "IDGROUPE": collection,
                    "DISTANT": "0",
                    "ANNEE": 2026,
                },
                at=at,
                key_columns=["COD_ETU", "COD_ELP"],
            )
            people = [(50_000 + index * 100 + number, f"e{cod_etu}", STUDENT_ROLE)]
            if number == 0:
                people.append((90_000 + index, f"ens{index:02d}", TEACHER_ROLE))
            for user, username, role in people:
                yield _moodle(USER_TOPIC, {"id": user, "username": username, "deleted": 0}, at)
                yield _moodle(
                    USER_ENROL_TOPIC,
                    {
                        "id": user_enrolment_id,
                        "enrolid": instance,
                        "userid": user,
                        "timestart": epoch_ms(at) // 1000,
                        "timeend": 0,
                        "status": 0,
                    },
                    at,
                )
                yield _moodle(
                    ROLE_TOPIC,
                    {
                        "id": user_enrolment_id,
                        "roleid": role,
                        "contextid": context_id,
                        "userid": user,
                        "component": "enrol_database",
                        "itemid": instance,
                    },
                    at,
                )
                user_enrolment_id += 1


def _moodle(topic: str, row: dict[str, Any], at: datetime) -> OutgoingMessage:
    return debezium_change(topic, "r", row, at=at, key_columns=["id"])


def _label(code: str) -> tuple[str, str, int]:
    for index, (elp, label, cmp, _students) in enumerate(OFFER):
        if elp == code:
            return label, cmp, 1001 + index
    raise KeyError(code)


def build_scenario(now: datetime) -> Scenario:
    """The scenario with source times around ``now`` (snapshot three days ago, edits today)."""
    snapshot_at = now - timedelta(days=3)
    previous_run = SyncRunReport(
        run_id="run-previous",
        started_at=now - timedelta(days=1, hours=2),
        finished_at=now - timedelta(days=1, hours=1),
        status="success",
    )
    today: list[OutgoingMessage] = list(_snapshot(snapshot_at))
    today.append(run_report(RUNS_TOPIC, previous_run))

    edits_at = now - timedelta(hours=2)
    label, cmp, _course = _label(REMOVED)
    today.append(
        debezium_change(
            ELP_TOPIC, "d", _elp_row(REMOVED, label, cmp), at=edits_at, key_columns=["COD_ELP"]
        )
    )
    today.append(OutgoingMessage(ELP_TOPIC, REMOVED, None))  # Debezium's tombstone after a delete
    old, new = RENAMED
    label, cmp, _course = _label(old)
    today.append(
        debezium_change(
            ELP_TOPIC, "d", _elp_row(old, label, cmp), at=edits_at, key_columns=["COD_ELP"]
        )
    )
    today.append(
        debezium_change(
            ELP_TOPIC, "c", _elp_row(new, label, cmp), at=edits_at, key_columns=["COD_ELP"]
        )
    )
    porte, porteur = PORTE
    label, cmp, _course = _label(porte)
    today.append(
        debezium_change(
            ELP_TOPIC,
            "u",
            _elp_row(porte, label, cmp, porteur),
            at=edits_at,
            key_columns=["COD_ELP"],
        )
    )
    return Scenario(today=today, tonight=list(_tonight(now)))


def _tonight(now: datetime) -> Iterator[OutgoingMessage]:
    started = now - timedelta(minutes=20)
    yield run_report(
        RUNS_TOPIC, SyncRunReport(run_id="run-tonight", started_at=started, status="running")
    )
    archived_at = started + timedelta(minutes=5)
    for code in (REMOVED, RENAMED[0], PORTE[0]):
        label, _cmp, course_id = _label(code)
        yield debezium_change(
            COURSE_TOPIC,
            "u",
            _course_row(course_id, code, f"[Archivé] {label}", archived_at, ARCHIVE_CATEGORY),
            at=archived_at,
            key_columns=["id"],
        )
    label, _cmp, _course = _label(RENAMED[0])
    yield debezium_change(
        COURSE_TOPIC,
        "c",
        _course_row(1100, RENAMED[1], label, archived_at, 10),
        at=archived_at,
        key_columns=["id"],
    )
    yield run_report(
        RUNS_TOPIC,
        SyncRunReport(
            run_id="run-tonight",
            started_at=started,
            finished_at=now - timedelta(minutes=1),
            status="success",
            counters=RunCounters(created=1, archived=3),
            messages=[
                RunMessageModel(
                    level="warning", code="update_groups", text="w9", cod_elp="RCAED334"
                )
            ],
        ),
    )
