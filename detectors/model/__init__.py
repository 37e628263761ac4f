"""The sync-rule model (DOMAIN.md R1-R10): what Ecampus must contain after the next night.

Pure: facts (a ``FactSet``), ``now`` and a ``ModelConfig`` in; expected
courses, enrolments and the refusals that explain every access it denies out.
One module per concern: ``foad`` (R4), ``exchange`` (R3.5), ``students``
(R3-R5), ``teachers`` (R6), ``courses`` (R1-R2), ``timing`` (R7, R9, R10),
``causes`` (the catalogue of refusal causes), ``expected`` (the entry points).
"""

from detectors.model.causes import CAUSES, Cause, CauseInfo, Refusal
from detectors.model.config import DEFAULT_CONFIG, ModelConfig, PeriodCalendar
from detectors.model.context import ElpStanding, ElpView, ModelContext, StudentStanding
from detectors.model.courses import CourseAction, course_actions, course_actions_for
from detectors.model.describe import describe_fact
from detectors.model.expected import (
    ElpExpectation,
    ExpectedCourse,
    ExpectedState,
    ExpectedStudent,
    StudentExpectation,
    expected_course,
    expected_for_elp,
    expected_for_elps,
    expected_for_student,
    expected_state,
)
from detectors.model.foad import FoadCase, FoadOutcome, classify_foad, foad_of
from detectors.model.groups import GapKind, GroupGap, group_gaps
from detectors.model.portes import gone_porteurs, porteur_column
from detectors.model.students import IpVerdict, evaluate_ip
from detectors.model.teachers import ExpectedTeacher, FicheVerdict, evaluate_fiche, session_kind
from detectors.model.timing import (
    MaintenanceWindow,
    academic_year,
    active_years,
    failure_expected,
    in_maintenance_window,
    in_year_overlap,
    is_overlap_year,
    is_pending,
    is_pending_since,
    is_year_active,
    maintenance_window_at_or_after,
    period_day,
    sync_horizon,
    year_inactive_from,
)

__all__ = [
    "CAUSES",
    "DEFAULT_CONFIG",
    "Cause",
    "CauseInfo",
    "CourseAction",
    "ElpExpectation",
    "ElpStanding",
    "ElpView",
    "ExpectedCourse",
    "ExpectedState",
    "ExpectedStudent",
    "ExpectedTeacher",
    "FicheVerdict",
    "FoadCase",
    "FoadOutcome",
    "GapKind",
    "GroupGap",
    "IpVerdict",
    "MaintenanceWindow",
    "ModelConfig",
    "ModelContext",
    "PeriodCalendar",
    "Refusal",
    "StudentExpectation",
    "StudentStanding",
    "academic_year",
    "active_years",
    "classify_foad",
    "course_actions",
    "course_actions_for",
    "describe_fact",
    "evaluate_fiche",
    "evaluate_ip",
    "expected_course",
    "expected_for_elp",
    "expected_for_elps",
    "expected_for_student",
    "expected_state",
    "failure_expected",
    "foad_of",
    "gone_porteurs",
    "group_gaps",
    "in_maintenance_window",
    "in_year_overlap",
    "is_overlap_year",
    "is_pending",
    "is_pending_since",
    "is_year_active",
    "maintenance_window_at_or_after",
    "period_day",
    "porteur_column",
    "session_kind",
    "sync_horizon",
    "year_inactive_from",
]
