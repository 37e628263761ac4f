"""Canonical facts: the rows of DOMAIN.md as the state store holds them.

Every fact carries ``as_of``, the source timestamp of the change it came from
(Debezium ``source.ts_ms``): rule R9 compares it with the start of the last
completed sync run. These are plain frozen dataclasses; ``monitor`` validates
them at the boundary with pydantic's ``TypeAdapter``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

ElpStatus = Literal["open", "suspended"]
Period = Literal["S1", "S2", "year"]
IaStatus = Literal["active", "cancelled"]
ExchangeDirection = Literal["incoming", "outgoing"]
AccountKind = Literal["student", "staff", "guest", "vacataire"]
EnrolMethod = Literal["database", "cohort", "manual", "self"]
Role = Literal["student", "teacher"]
RunStatus = Literal["running", "success", "failed"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PSEUDO_GROUP_PREFIX = "ELP_"


@dataclass(frozen=True, slots=True)
class Elp:
    """An APOGÉE teaching unit as REFER's ``T_ADE_ACTIVITES`` shows it."""

    cod_elp: str
    label: str
    cod_cmp: str
    a_distance: bool = False
    status: ElpStatus = "open"
    porteur: str | None = None
    has_teaching_load: bool = True
    period: Period = "year"
    year: int | None = None
    as_of: datetime = EPOCH

    @property
    def is_porte(self) -> bool:
        return self.porteur is not None


@dataclass(frozen=True, slots=True)
class Group:
    """An APOGÉE group, or a pseudo-group ``ELP_…`` made for an ELP without groups."""

    group_id: str
    label: str = ""
    collection: str | None = None
    as_of: datetime = EPOCH

    @property
    def is_cemu(self) -> bool:
        # A distance-learning group is one labelled (at least partly) "CEMU";
        # the automatic pseudo-groups never are (seed, "Mauvaise gestion statut à distance").
        return not self.is_pseudo and "cemu" in self.label.lower()

    @property
    def is_pseudo(self) -> bool:
        return self.group_id.startswith(PSEUDO_GROUP_PREFIX)


@dataclass(frozen=True, slots=True)
class CollectionLink:
    """A group collection attached to an ELP (R5: must be shared by porteur and portés)."""

    collection: str
    cod_elp: str
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class Ip:
    """A pedagogical registration (``T_ADE_ACTIVITES_ETUDIANTS``)."""

    cod_etu: str
    cod_elp: str
    group_id: str | None = None
    distant: bool = False
    year: int | None = None
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class Ia:
    """An administrative registration."""

    ia_id: str
    cod_etu: str
    cod_etp: str = ""
    year: int | None = None
    tele_enseignement: bool = False
    status: IaStatus = "active"
    cancelled_at: datetime | None = None
    replaces: str | None = None
    exchange_programme: str | None = None
    exchange_direction: ExchangeDirection | None = None
    exchange_period: Period | None = None
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class Account:
    """A digital account (compte numérique), synced to a Moodle user."""

    uid: str
    kind: AccountKind = "student"
    cod_etu: str | None = None
    staff_id: str | None = None
    last_name: str = ""
    first_name: str = ""
    email: str | None = None
    cod_cmp: str | None = None
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class AdeFiche:
    """An ADE activity; ``cod_elp`` is None for fiches made only in ADE."""

    fiche_id: str
    cod_elp: str | None = None
    teachers: tuple[str, ...] = ()
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class AdeSession:
    """A planned ADE session: only the teachers planned here get enrolled (R6)."""

    session_id: str
    fiche_id: str
    start: datetime | None = None
    group_ids: tuple[str, ...] = ()
    teachers: tuple[str, ...] = ()
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class MoodleCourse:
    """A Moodle course space; ``idnumber`` holds the APOGÉE code (R1, R8)."""

    course_id: int
    idnumber: str = ""
    shortname: str = ""
    fullname: str = ""
    visible: bool = False
    category: int = 0
    archived: bool = False
    startdate: datetime | None = None
    enddate: datetime | None = None
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class MoodleEnrolInstance:
    """An enrolment method instance in a course (``mdl_enrol``); cohort syncs are these."""

    enrol_id: int
    course_id: int
    method: EnrolMethod
    role: Role = "student"
    cohort_id: int | None = None
    created: datetime | None = None
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class MoodleEnrolment:
    """A user's enrolment through one instance (``mdl_user_enrolments``)."""

    enrolment_id: int
    enrol_id: int
    user: str
    timestart: datetime | None = None
    timeend: datetime | None = None
    active: bool = True
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class MoodleGroupMember:
    """A user's membership of a course group, by the group's idnumber."""

    course_id: int
    group_idnumber: str
    user: str
    as_of: datetime = EPOCH


@dataclass(frozen=True, slots=True)
class RunMessage:
    """One line of an lmsjonction report: warning ``update_oof``, ``w9``, error ``Insc. BDD``…"""

    level: Literal["info", "warning", "error", "alert"]
    code: str
    text: str = ""
    cod_elp: str | None = None
    cod_etu: str | None = None


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One nightly lmsjonction run."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus = "running"
    created: int = 0
    archived: int = 0
    unarchived: int = 0
    deleted: int = 0
    messages: tuple[RunMessage, ...] = field(default=())
    as_of: datetime = EPOCH

    @property
    def finished(self) -> bool:
        """The run ended, well or badly (its report is final)."""
        return self.finished_at is not None and self.status != "running"

    @property
    def completed(self) -> bool:
        """The run ended successfully: only such a run propagates REFER and ADE to Ecampus (R9).

        A failed run settles nothing: differences younger than the last
        successful run stay pending, and ``sync_run_health`` raises one
        ``run_failed`` alert for the night instead of one alert per difference.
        """
        return self.finished and self.status == "success"
