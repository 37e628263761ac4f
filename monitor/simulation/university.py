"""The synthetic university's state: APOGÉE/REFER, ADE and Moodle rows as canonical facts.

Every change goes through ``write``/``delete``, which stamp the fact with its
source time (``as_of``) and, when a journal is open, record it as an ``Edit``:
the journal is what the nights publish as Debezium events. Rows are kept by
their natural key (``monitor.store.entities``), so a write is an insert or an update.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from detectors.facts import (
    Account,
    AdeFiche,
    AdeSession,
    CollectionLink,
    Elp,
    Group,
    Ia,
    Ip,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    MoodleGroupMember,
    SyncRun,
)
from monitor.simulation.organisation import Composante, ElpKind, Etape
from monitor.store.entities import ENTITIES, EntityName

if TYPE_CHECKING:  # imported lazily: the nightly run must not import detectors.state
    from detectors.state import FactSet

Op = Literal["c", "u", "d"]
SOURCE_ENTITIES: tuple[EntityName, ...] = (
    "elp",
    "group",
    "collection_link",
    "ia",
    "ip",
    "account",
    "ade_fiche",
    "ade_session",
)
MOODLE_ENTITIES: tuple[EntityName, ...] = (
    "moodle_course",
    "moodle_enrol",
    "moodle_enrolment",
    "moodle_group_member",
)


@dataclass(frozen=True, slots=True)
class Edit:
    """One row changed at ``at``: ``fact`` is the row after (c, u) or the deleted row (d)."""

    at: datetime
    op: Op
    entity: EntityName
    fact: Any
    before: Any = None


def key_of(entity: EntityName, fact: Any) -> Any:
    names = ENTITIES[entity].key_fields
    if len(names) == 1:
        return getattr(fact, names[0])
    return tuple(getattr(fact, name) for name in names)


_ENTITY_OF: dict[type, EntityName] = {spec.fact: name for name, spec in ENTITIES.items()}


class University:
    """Mutable rows of every source, by entity and natural key, with the indexes the simulator needs."""

    def __init__(self, seed: int, scale_name: str) -> None:
        self.seed = seed
        self.scale_name = scale_name
        self.composantes: dict[str, Composante] = {}
        self.etapes: dict[str, Etape] = {}
        self.tables: dict[EntityName, dict[Any, Any]] = {name: {} for name in ENTITIES}
        self.deleted_elps: dict[str, Elp] = {}
        # Tombstones of deleted enrolments (enrolments_lost reads them) and the finished runs.
        self.deleted_enrolments: list[MoodleEnrolment] = []
        self.runs: list[SyncRun] = []
        self.teachers_by_cmp: dict[str, list[str]] = defaultdict(list)
        # What the generator decided about each ELP (not a source row): kind and étape.
        self.elp_kind: dict[str, ElpKind] = {}
        self.elp_etape: dict[str, str] = {}
        # Secondary indexes, kept by write/delete.
        self.ips_by_elp: dict[str, set[str]] = defaultdict(set)
        self.ips_by_etu: dict[str, set[str]] = defaultdict(set)
        self.users_by_instance: dict[int, dict[str, int]] = defaultdict(dict)
        self.instances_by_course: dict[int, set[int]] = defaultdict(set)
        self.members_by_course: dict[int, set[tuple[str, str]]] = defaultdict(set)
        self.groups_by_collection: dict[str, set[str]] = defaultdict(set)
        self.courses_by_idnumber: dict[str, set[int]] = defaultdict(set)
        self.ias_by_etu: dict[str, set[str]] = defaultdict(set)
        self.links_by_elp: dict[str, set[str]] = defaultdict(set)
        self.fiches_by_elp: dict[str, set[str]] = defaultdict(set)
        self.sessions_by_fiche: dict[str, set[str]] = defaultdict(set)
        self.next_ids = {
            "course": 1,
            "enrol": 1,
            "enrolment": 1,
            "fiche": 1,
            "session": 1,
            "account": 1,
        }
        self.journal: list[Edit] | None = None

    # --- typed views ---------------------------------------------------------------
    @property
    def elps(self) -> dict[str, Elp]:
        return self.tables["elp"]

    @property
    def groups(self) -> dict[str, Group]:
        return self.tables["group"]

    @property
    def links(self) -> dict[tuple[str, str], CollectionLink]:
        return self.tables["collection_link"]

    @property
    def ips(self) -> dict[tuple[str, str], Ip]:
        return self.tables["ip"]

    @property
    def ias(self) -> dict[str, Ia]:
        return self.tables["ia"]

    @property
    def accounts(self) -> dict[str, Account]:
        return self.tables["account"]

    @property
    def fiches(self) -> dict[str, AdeFiche]:
        return self.tables["ade_fiche"]

    @property
    def sessions(self) -> dict[str, AdeSession]:
        return self.tables["ade_session"]

    @property
    def courses(self) -> dict[int, MoodleCourse]:
        return self.tables["moodle_course"]

    @property
    def instances(self) -> dict[int, MoodleEnrolInstance]:
        return self.tables["moodle_enrol"]

    @property
    def enrolments(self) -> dict[int, MoodleEnrolment]:
        return self.tables["moodle_enrolment"]

    @property
    def members(self) -> dict[tuple[int, str, str], MoodleGroupMember]:
        return self.tables["moodle_group_member"]

    def routing_yaml(self, cemu: str) -> str:
        """A routing file (``alerts.routing``) sending each composante's alerts to its scolarité."""
        lines = [f"cemu: {cemu}", "composantes:"]
        for code, composante in sorted(self.composantes.items()):
            lines += [
                f'  "{code}":',
                f"    name: {composante.name!r}",
                f"    scolarite: [{composante.scolarite}]",
            ]
        return "\n".join(lines) + "\n"

    def new_id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    # --- changes -----------------------------------------------------------------
    def load(self, fact: Any) -> None:
        """Insert a generated row as is (``as_of`` already set), unjournaled: the snapshot."""
        entity = _ENTITY_OF[type(fact)]
        self.tables[entity][key_of(entity, fact)] = fact
        self._index(entity, fact)

    def write(self, fact: Any, at: datetime) -> Any:
        """Insert or update ``fact`` (stamped ``as_of=at``); journal it as c or u."""
        entity = _ENTITY_OF[type(fact)]
        if fact.as_of != at:
            fact = dataclasses.replace(fact, as_of=at)
        table = self.tables[entity]
        key = key_of(entity, fact)
        before = table.get(key)
        if before is not None:
            self._unindex(entity, before)
        table[key] = fact
        self._index(entity, fact)
        if self.journal is not None:
            op: Op = "c" if before is None else "u"
            self.journal.append(Edit(at, op, entity, fact, before))
        return fact

    def delete(self, fact: Any, at: datetime) -> None:
        """Remove the row with ``fact``'s key; journal it as d (the row as last known)."""
        entity = _ENTITY_OF[type(fact)]
        existing = self.tables[entity].pop(key_of(entity, fact), None)
        if existing is None:
            return
        self._unindex(entity, existing)
        if entity == "elp":
            # R2 needs the last known row of a vanished ELP (FactSet.deleted_elps).
            self.deleted_elps[existing.cod_elp] = dataclasses.replace(existing, as_of=at)
        elif entity == "moodle_enrolment":
            self.deleted_enrolments.append(dataclasses.replace(existing, as_of=at))
        if self.journal is not None:
            self.journal.append(Edit(at, "d", entity, dataclasses.replace(existing, as_of=at)))

    def _index(self, entity: EntityName, fact: Any) -> None:
        if entity == "ip":
            self.ips_by_elp[fact.cod_elp].add(fact.cod_etu)
            self.ips_by_etu[fact.cod_etu].add(fact.cod_elp)
        elif entity == "moodle_enrolment":
            self.users_by_instance[fact.enrol_id][fact.user] = fact.enrolment_id
        elif entity == "moodle_enrol":
            self.instances_by_course[fact.course_id].add(fact.enrol_id)
        elif entity == "moodle_group_member":
            self.members_by_course[fact.course_id].add((fact.group_idnumber, fact.user))
        elif entity == "elp":
            self.deleted_elps.pop(fact.cod_elp, None)
        elif entity == "moodle_course":
            self.courses_by_idnumber[fact.idnumber].add(fact.course_id)
        elif entity == "ia":
            self.ias_by_etu[fact.cod_etu].add(fact.ia_id)
        elif entity == "group" and fact.collection is not None:
            self.groups_by_collection[fact.collection].add(fact.group_id)
        elif entity == "collection_link":
            self.links_by_elp[fact.cod_elp].add(fact.collection)
        elif entity == "ade_fiche" and fact.cod_elp is not None:
            self.fiches_by_elp[fact.cod_elp].add(fact.fiche_id)
        elif entity == "ade_session":
            self.sessions_by_fiche[fact.fiche_id].add(fact.session_id)

    def _unindex(self, entity: EntityName, fact: Any) -> None:
        if entity == "ip":
            self.ips_by_elp[fact.cod_elp].discard(fact.cod_etu)
            self.ips_by_etu[fact.cod_etu].discard(fact.cod_elp)
        elif entity == "moodle_enrolment":
            self.users_by_instance[fact.enrol_id].pop(fact.user, None)
        elif entity == "moodle_enrol":
            self.instances_by_course[fact.course_id].discard(fact.enrol_id)
        elif entity == "moodle_group_member":
            self.members_by_course[fact.course_id].discard((fact.group_idnumber, fact.user))
        elif entity == "group" and fact.collection is not None:
            self.groups_by_collection[fact.collection].discard(fact.group_id)
        elif entity == "moodle_course":
            self.courses_by_idnumber[fact.idnumber].discard(fact.course_id)
        elif entity == "collection_link":
            self.links_by_elp[fact.cod_elp].discard(fact.collection)
        elif entity == "ade_fiche" and fact.cod_elp is not None:
            self.fiches_by_elp[fact.cod_elp].discard(fact.fiche_id)
        elif entity == "ade_session":
            self.sessions_by_fiche[fact.fiche_id].discard(fact.session_id)

    # --- reading -----------------------------------------------------------------
    def instances_of(self, course_id: int, method: str, role: str | None = None) -> list[int]:
        return sorted(
            enrol_id
            for enrol_id in self.instances_by_course.get(course_id, ())
            if self.instances[enrol_id].method == method
            and (role is None or self.instances[enrol_id].role == role)
        )

    def live_course(self, idnumber: str) -> MoodleCourse | None:
        """The course of ``idnumber`` that is not archived (R1: at most one)."""
        for course_id in sorted(self.courses_by_idnumber.get(idnumber, ())):
            course = self.courses[course_id]
            if not course.archived:
                return course
        return None

    def database_users(self, course_id: int, role: str = "student") -> dict[str, int]:
        """Users enrolled by the database method as ``role`` (user -> enrolment id)."""
        users: dict[str, int] = {}
        for enrol_id in self.instances_of(course_id, "database", role):
            users.update(self.users_by_instance.get(enrol_id, {}))
        return users

    def active_ia(self, cod_etu: str) -> Ia | None:
        """The student's active IA (the latest one, when one replaced another)."""
        found = sorted(
            (self.ias[ia_id] for ia_id in self.ias_by_etu.get(cod_etu, ())),
            key=lambda ia: ia.ia_id,
        )
        active = [ia for ia in found if ia.status == "active"]
        return active[-1] if active else None

    def fact_set(self) -> FactSet:
        """Everything as the detectors and the rule model read it."""
        from detectors.state import FactSet

        t = self.tables
        return FactSet.build(
            elps=t["elp"].values(),
            deleted_elps=self.deleted_elps.values(),
            groups=t["group"].values(),
            collection_links=t["collection_link"].values(),
            ips=t["ip"].values(),
            ias=t["ia"].values(),
            accounts=t["account"].values(),
            fiches=t["ade_fiche"].values(),
            sessions=t["ade_session"].values(),
            courses=t["moodle_course"].values(),
            enrol_instances=t["moodle_enrol"].values(),
            enrolments=t["moodle_enrolment"].values(),
            deleted_enrolments=self.deleted_enrolments,
            group_members=t["moodle_group_member"].values(),
            runs=self.runs,
        )

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items() if name != "sync_run"}
