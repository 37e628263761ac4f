"""Which known problems to inject, and the ground truth the simulator writes about them.

One count per detector case and cause variant of DOMAIN.md's table. In YAML::

    default: 0              # count of every variant not listed (1 if omitted)
    students_not_enrolled:
      foad_case_a: 3
    sync_run_health:
      late_run: 1
    ia_replacement_defect: true   # lmsjonction loses the IPs of a replaced IA (R3.6)
    seed_cases:                   # the seed's named examples (seed_cases.py), 0 or 1 each
      ms03_suspended: 0

Without ``default``, data faults count 1 each and ``sync_run_health`` 0 (its
variants need nights of their own); ``seed_cases`` count 1 each (at most 1:
RCAED334 in FOAD case a, M.1.MS03 suspended, 2HR5C's collection not shared).
Each injected fault writes one primary ``TruthRecord`` (the alert it is meant
to raise) and secondary ones for the other alerts it must raise too, so
detectors can be scored by precision and recall on (detector, subject, cause),
the alert's fingerprint. Conventions, those of the detectors in ``detectors/``:

- subjects: the ELP of the IP or fiche (a porté keeps its own code) for
  ``students_not_enrolled``, ``group_missing``, ``teacher_missing``,
  ``enrolments_lost`` (the fiche id for a fiche made only in ADE); the course
  idnumber for course detectors (the edited one for ``course_idnumber_changed``);
  the composante for ``account_missing_email``; ``night:YYYY-MM-DD``, the run
  id, or ``source:ade`` for ``sync_run_health``;
- causes: the model's (``detectors.model.causes``) for refusals, else the
  detector's own (``cohort_redundant``, ``hidden_after_start``, ``run_late``…);
- secondary alerts: ``enrolments_lost`` after a fault that takes away
  enrolments; ``course_archived`` for an ELP removed while still planned;
  ``course_hidden`` for the course a night creates for a fault's ELP (shown by
  a teacher the next morning); what a failed run left undone, as seen the
  next morning (``missing_after_run``; ``too_many_teachers`` for teachers it
  would have removed; "associated, not planned" for a team the quirk would
  have enrolled); ``group_missing`` for the ELPs of a warnings spike. An idnumber
  edited by hand raises only ``course_idnumber_changed``: ``course_archived``
  leaves idnumbers REFER never showed to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Counts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _count(default: int = 1) -> Any:
    return Field(default, ge=0)


class CourseArchivedFaults(_Counts):
    removed: int = _count()
    code_changed: int = _count()
    became_porte: int = _count()
    idnumber_edited: int = _count()


class StudentsNotEnrolledFaults(_Counts):
    ip_without_group: int = _count()
    no_pseudo_group: int = _count()
    foad_case_a: int = _count()
    foad_case_e: int = _count()
    porte_collection_not_shared: int = _count()
    elp_suspended: int = _count()
    ia_cancelled_replaced: int = _count()


class GroupMissingFaults(_Counts):
    foad_case_c: int = _count()
    foad_case_d: int = _count()
    foad_case_f: int = _count()
    distant_in_pseudo_group: int = _count()
    wrong_group: int = _count()


class TeacherMissingFaults(_Counts):
    associated_not_planned: int = _count()
    fiche_not_linked: int = _count()
    elp_obsolete: int = _count()
    masked_by_new_group: int = _count()


class TooManyTeachersFaults(_Counts):
    without_planning: int = _count()


class ForgottenCohortSyncFaults(_Counts):
    redundant: int = _count()
    archived_course: int = _count()
    too_old: int = _count()
    member_without_ip: int = _count()
    partly_redundant: int = _count()
    manual_without_end_date: int = _count()
    self_without_end_date: int = _count()


class CourseHiddenFaults(_Counts):
    hidden_with_students: int = _count()


class CourseIdnumberChangedFaults(_Counts):
    idnumber_edited: int = _count()


class AccountMissingEmailFaults(_Counts):
    guest: int = _count()
    vacataire: int = _count()


class CourseEndedEarlyFaults(_Counts):
    end_date_passed: int = _count()


class SeedCaseFaults(_Counts):
    """The seed's named examples broken as the seed tells (``seed_cases``): once each at most."""

    rcaed334_foad_case_a: int = Field(1, ge=0, le=1)
    ms03_suspended: int = Field(1, ge=0, le=1)
    hr5c_collection_not_shared: int = Field(1, ge=0, le=1)


class SyncRunHealthFaults(_Counts):
    missing_run: int = _count(0)
    late_run: int = _count(0)
    failed_run: int = _count(0)
    warnings_spike: int = _count(0)
    silent_source: int = _count(0)


_SECTIONS: dict[str, type[_Counts]] = {
    "course_archived": CourseArchivedFaults,
    "students_not_enrolled": StudentsNotEnrolledFaults,
    "group_missing": GroupMissingFaults,
    "teacher_missing": TeacherMissingFaults,
    "too_many_teachers": TooManyTeachersFaults,
    "forgotten_cohort_sync": ForgottenCohortSyncFaults,
    "course_hidden": CourseHiddenFaults,
    "course_idnumber_changed": CourseIdnumberChangedFaults,
    "account_missing_email": AccountMissingEmailFaults,
    "course_ended_early": CourseEndedEarlyFaults,
    "sync_run_health": SyncRunHealthFaults,
    "seed_cases": SeedCaseFaults,
}
RUN_SECTION = "sync_run_health"
SEED_SECTION = "seed_cases"


class FaultConfig(BaseModel):
    """How many faults of each kind to inject, and lmsjonction's IA-replacement defect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    course_archived: CourseArchivedFaults = CourseArchivedFaults()
    students_not_enrolled: StudentsNotEnrolledFaults = StudentsNotEnrolledFaults()
    group_missing: GroupMissingFaults = GroupMissingFaults()
    teacher_missing: TeacherMissingFaults = TeacherMissingFaults()
    too_many_teachers: TooManyTeachersFaults = TooManyTeachersFaults()
    forgotten_cohort_sync: ForgottenCohortSyncFaults = ForgottenCohortSyncFaults()
    course_hidden: CourseHiddenFaults = CourseHiddenFaults()
    course_idnumber_changed: CourseIdnumberChangedFaults = CourseIdnumberChangedFaults()
    account_missing_email: AccountMissingEmailFaults = AccountMissingEmailFaults()
    course_ended_early: CourseEndedEarlyFaults = CourseEndedEarlyFaults()
    sync_run_health: SyncRunHealthFaults = SyncRunHealthFaults()
    seed_cases: SeedCaseFaults = SeedCaseFaults()
    ia_replacement_defect: bool = True
    # sync_run_health flags a message code above max(3 x median, median + 50): stay above 50.
    spike_students: int = Field(80, ge=1, description="distant students left without group")

    @model_validator(mode="before")
    @classmethod
    def _apply_default(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "default" not in data:
            return data
        data = dict(data)
        default = data.pop("default")
        if not isinstance(default, int) or default < 0:
            raise ValueError("default must be a count (an integer >= 0)")
        for section, model in _SECTIONS.items():
            given = dict(data.get(section) or {})
            count = min(default, 1) if section == SEED_SECTION else default  # named: once
            data[section] = {name: given.get(name, count) for name in model.model_fields} | given
        return data

    @classmethod
    def none(cls) -> FaultConfig:
        """A clean university: no fault at all."""
        return cls.model_validate({"default": 0})

    @classmethod
    def every_kind(cls, count: int = 1) -> FaultConfig:
        """``count`` of every variant, the nightly-run ones included."""
        return cls.model_validate({"default": count})

    @classmethod
    def from_yaml(cls, path: Path) -> FaultConfig:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.model_validate(loaded)

    def counts(self) -> Iterator[tuple[str, str, int]]:
        """(detector, variant, count) for every variant, in the table's order."""
        for section in _SECTIONS:
            model = getattr(self, section)
            for name in type(model).model_fields:
                yield section, name, getattr(model, name)

    def total(self, *, runs: bool | None = None) -> int:
        return sum(
            n
            for section, _name, n in self.counts()
            if runs is None or (section == RUN_SECTION) == runs
        )


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """One alert an injected fault must raise.

    ``fault`` is the configuration key (``students_not_enrolled.foad_case_a``);
    ``primary`` marks the alert the fault was injected for; ``cause`` uses the
    model's and detectors' cause codes. Ids not relevant to the fault are None.
    """

    fault_id: str
    fault: str
    primary: bool
    detector: str
    cause: str
    injected_at: datetime
    expected_alert_subject: str
    cod_elp: str | None = None
    course_id: int | None = None
    cod_etu: str | None = None
    teacher: str | None = None
    uid: str | None = None
    fiche_id: str | None = None
    group_id: str | None = None
    run_id: str | None = None
    cod_cmp: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        record = {k: v for k, v in asdict(self).items() if v is not None and v != ""}
        record["injected_at"] = self.injected_at.isoformat()
        return record


def write_truth(path: Path, records: list[TruthRecord]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")


def read_truth(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
