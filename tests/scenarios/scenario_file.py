"""A seed scenario file (YAML): its pydantic model, its moments, and a clear error on a bad file.

The format is documented in ``tests/scenarios/README.md``. A file says where
in the seed it comes from (``seed``), the facts as their sources publish them
(``steps``: REFER and ADE rows with the contract's columns, Moodle as compact
lines the loader writes as Moodle's own rows, lmsjonction's run reports),
the clock (``now``, and ``check`` steps in between), and the alerts expected,
exactly (``expected``: a list, or ``none``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday of November 2026: academic year 2026, no year overlap (R7), no maintenance (R10).
DAY = datetime(2026, 11, 17, tzinfo=PARIS)
MOMENTS: dict[str, datetime] = {
    "yesterday": DAY - timedelta(hours=7),  # Monday 17:00: APOGÉE/ADE as they stood before the run
    "run_start": DAY + timedelta(minutes=30),  # last night's lmsjonction run
    "run_end": DAY + timedelta(hours=1, minutes=20),
    "morning": DAY + timedelta(hours=8),  # the default ``now``: the morning after the run
    "afternoon": DAY + timedelta(hours=14),  # today's edits, after the run (R9: pending)
    "evening": DAY + timedelta(hours=18),  # ahead of tonight's run
}
_MOMENT = re.compile(r"^(?P<name>[a-z_]+)(?P<offsets>(?:\s*[+-]\s*\d+\s*[dhm])*)$")
_OFFSET = re.compile(r"([+-])\s*(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

REFER_TABLES = (
    "T_ADE_ACTIVITES",
    "T_ADE_GROUPES",
    "T_ADE_COLLECTIONS_ELP",
    "T_ADE_ACTIVITES_ETUDIANTS",
    "T_ADE_IA",
    "T_COMPTES",
)
ADE_TABLES = ("FICHES", "SEANCES")


class ScenarioError(ValueError):
    """A scenario file that cannot be read: which file, where, and why."""


def moment(value: object) -> datetime:
    """A moment of the scenario's day: a name (``morning``, ``run_start - 3d``) or ISO 8601.

    Naive ISO dates are Europe/Paris; a bare date is its midnight.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=PARIS)
    text = str(value).strip()
    found = _MOMENT.match(text)
    if found and found["name"] in MOMENTS:
        at = MOMENTS[found["name"]]
        for sign, count, unit in _OFFSET.findall(found["offsets"]):
            delta = timedelta(**{_UNITS[unit]: int(count)})
            at = at + delta if sign == "+" else at - delta
        return at
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        names = ", ".join(MOMENTS)
        raise ValueError(
            f"{text!r} is not a moment: use one of {names} (then offsets such as '- 1d + 10m') "
            "or an ISO 8601 date"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PARIS)


Moment = Annotated[datetime, Field(description="a named moment or ISO 8601")]
Row = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoodleCourseLine(_Strict):
    """One ``mdl_course`` row (its context and enrol_database instance follow)."""

    op: Literal["r", "c", "u", "d"] = "r"
    id: int
    idnumber: str | None = None
    shortname: str | None = None
    fullname: str | None = None
    visible: int | None = None
    category: int | None = None
    startdate: Moment | None = None
    enddate: Moment | None = None

    _dates = field_validator("startdate", "enddate", mode="before")(
        lambda v: None if v is None else moment(v)
    )


class MoodleEnrolmentLine(_Strict):
    """One enrolment: ``mdl_enrol`` instance, ``mdl_user_enrolments`` and the role assignment."""

    op: Literal["r", "c", "u", "d"] = "r"
    course: int
    user: str  # a COD_ETU, an ID_PERS or an account UID
    method: Literal["database", "cohort", "manual", "self"] = "database"
    role: Literal["student", "teacher"] = "student"
    cohort: int | None = None
    created: Moment | None = None  # the instance's timecreated (cohort syncs)
    timestart: Moment | None = None
    timeend: Moment | None = None
    active: bool = True

    _dates = field_validator("created", "timestart", "timeend", mode="before")(
        lambda v: None if v is None else moment(v)
    )
    _user = field_validator("user", mode="before")(lambda v: str(v))


class MoodleGroupLine(_Strict):
    """Memberships of one group (``mdl_groups`` by idnumber, ``mdl_groups_members``)."""

    op: Literal["r", "c", "d"] = "r"
    course: int
    group: str
    users: list[str]

    _users = field_validator("users", mode="before")(lambda v: [str(u) for u in v])


class MoodleFacts(_Strict):
    courses: list[MoodleCourseLine] = []
    enrolments: list[MoodleEnrolmentLine] = []
    groups: list[MoodleGroupLine] = []
    rows: dict[str, list[Row]] = {}  # raw rows by table (``mdl_user``…), for what lines cannot say


class FactsStep(_Strict):
    """Rows published together, dated ``at`` (Debezium's ``source.ts_ms``)."""

    at: Moment = Field(default_factory=lambda: MOMENTS["yesterday"])
    refer: dict[str, list[Row]] = {}
    ade: dict[str, list[Row]] = {}
    moodle: MoodleFacts = MoodleFacts()

    _at = field_validator("at", mode="before")(moment)

    @field_validator("refer")
    @classmethod
    def _refer_tables(cls, tables: dict[str, list[Row]]) -> dict[str, list[Row]]:
        unknown = set(tables) - set(REFER_TABLES)
        if unknown:
            raise ValueError(f"unknown REFER table(s) {sorted(unknown)}: known {REFER_TABLES}")
        return tables

    @field_validator("ade")
    @classmethod
    def _ade_tables(cls, tables: dict[str, list[Row]]) -> dict[str, list[Row]]:
        unknown = set(tables) - set(ADE_TABLES)
        if unknown:
            raise ValueError(f"unknown ADE table(s) {sorted(unknown)}: known {ADE_TABLES}")
        return tables


class RunMessageLine(_Strict):
    level: Literal["info", "warning", "error", "alert"]
    code: str
    text: str = ""
    cod_elp: str | None = None
    cod_etu: str | None = None
    count: int = Field(1, ge=1)  # the same line repeated (for spikes)

    _etu = field_validator("cod_etu", mode="before")(lambda v: None if v is None else str(v))


class RunReportLine(_Strict):
    """An lmsjonction run report (published ``running`` at its start, then its end)."""

    run_id: str = "night"
    started_at: Moment = Field(default_factory=lambda: MOMENTS["run_start"])
    finished_at: Moment | None = Field(default_factory=lambda: MOMENTS["run_end"])
    status: Literal["running", "success", "failed"] = "success"
    counters: dict[str, int] = {}
    messages: list[RunMessageLine] = []

    _dates = field_validator("started_at", "finished_at", mode="before")(
        lambda v: None if v is None else moment(v)
    )


class RunStep(_Strict):
    run: RunReportLine = RunReportLine()


class CheckStep(_Strict):
    """A checkpoint: the daemon's clock moves to ``check`` and detection runs a whole cycle."""

    check: Moment

    _check = field_validator("check", mode="before")(moment)


Step = FactsStep | RunStep | CheckStep


class ExpectedAlert(_Strict):
    """One alert the store must hold at the end, with these fields (``cod_cmp`` if given)."""

    detector: str
    subject: str
    cause: str
    status: Literal["pending", "open", "acknowledged", "resolved", "snoozed"] = "open"
    phase: Literal["predicted", "occurred"] = "occurred"
    recipient: Literal["scolarite", "teachers", "cemu", "oncall"]
    cod_cmp: str | None = None

    _subject = field_validator("subject", mode="before")(lambda v: str(v))


class Change(_Strict):
    """Why a rule change changed this file (the file is the rules' contract)."""

    date: date  # YAML's 2026-12-06 or the same as a string
    why: str


class Scenario(_Strict):
    title: str = Field(min_length=3)
    seed: str = Field(min_length=10, description="the seed's words this scenario comes from")
    notes: str = ""
    pending: str | None = None  # not implemented yet, or the rules disagree with the seed: why
    changed: list[Change] = []
    settings: dict[str, Any] = {}  # Settings overrides (e.g. rules.ia_replacement_defect)
    steps: list[Step] = Field(min_length=1)
    now: Moment = Field(default_factory=lambda: MOMENTS["morning"])
    expected: list[ExpectedAlert] | Literal["none"]

    _now = field_validator("now", mode="before")(moment)

    @field_validator("steps", mode="before")
    @classmethod
    def _step_kinds(cls, steps: Any) -> Any:
        for index, step in enumerate(steps or []):
            if not isinstance(step, dict):
                raise ValueError(f"step {index}: a mapping, not {step!r}")
            kinds = {"run", "check"} & set(step)
            if len(kinds) > 1 or (kinds and set(step) - kinds):
                raise ValueError(
                    f"step {index}: a step is facts (at/refer/ade/moodle), a run or a check, "
                    f"not a mix of {sorted(step)}"
                )
        return steps

    @property
    def alerts(self) -> list[ExpectedAlert]:
        return [] if self.expected == "none" else list(self.expected)


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; a ``ScenarioError`` names the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path.name}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path.name}: a scenario is a mapping, not {type(raw).__name__}")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
            for e in error.errors()
        ]
        raise ScenarioError(f"{path.name}: invalid scenario\n" + "\n".join(lines)) from None
