"""Every detector of DOMAIN.md's table, and every cause they declare, in one place.

``CAUSES`` collects the declarations (``detectors.causes``): the model's, each
detector's (its own module's and the shared helpers' it emits through), and
diagnosis' own points. A code declared twice with a different label or fixer
fails here, at import (``CauseConflict``); a finding whose cause its detector
does not declare fails in ``Detector.labelled``, which the pipeline calls.
The monitor's own alerts (dead letters, given-up emails, source drift) add
theirs in ``monitor.cause_catalogue``: the core does not know them.
"""

from __future__ import annotations

from detectors.base import Detector, Moment
from detectors.causes import Catalogue
from detectors.diagnose.text import OWN_CAUSES as DIAGNOSIS_CAUSES
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
from detectors.model.causes import OWN_CAUSES as MODEL_CAUSES

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

CAUSES: Catalogue = Catalogue(
    MODEL_CAUSES, *(detector.causes for detector in DETECTORS), DIAGNOSIS_CAUSES
)


def detectors_for(moment: Moment) -> tuple[Detector, ...]:
    return tuple(d for d in DETECTORS if moment in d.moments)


def detector_names() -> tuple[str, ...]:
    return tuple(d.name for d in DETECTORS)
