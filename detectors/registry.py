"""Every detector of DOMAIN.md's table, in one place."""

from __future__ import annotations

from detectors.base import Detector, Moment
from detectors.known import (
    account_missing_email,
    course_archived,
    course_ended_early,
    course_hidden,
    course_idnumber_changed,
    enrolments_lost,
    forgotten_cohort_sync,
    group_missing,
    run_report_check,
    students_not_enrolled,
    sync_run_health,
    teacher_missing,
    too_many_teachers,
)

DETECTORS: tuple[Detector, ...] = (
    course_archived.DETECTOR,
    students_not_enrolled.DETECTOR,
    enrolments_lost.DETECTOR,
    group_missing.DETECTOR,
    teacher_missing.DETECTOR,
    too_many_teachers.DETECTOR,
    forgotten_cohort_sync.DETECTOR,
    course_hidden.DETECTOR,
    course_idnumber_changed.DETECTOR,
    account_missing_email.DETECTOR,
    course_ended_early.DETECTOR,
    sync_run_health.DETECTOR,
    run_report_check.DETECTOR,
)


def detectors_for(moment: Moment) -> tuple[Detector, ...]:
    return tuple(d for d in DETECTORS if moment in d.moments)


def detector_names() -> tuple[str, ...]:
    return tuple(d.name for d in DETECTORS)
