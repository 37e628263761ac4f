"""The catalogue: each configurable fault (``section.variant`` of ``FaultConfig``) and its injector.

``touches_ade`` marks faults that write ADE rows: they are never scheduled on a
day where ADE is silent (``sync_run_health.silent_source``). The nightly-run
faults (``sync_run_health``) are played by the timeline, not injected here.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.simulation import (
    inject_groups,
    inject_moodle,
    inject_offer,
    inject_students,
    inject_teachers,
    seed_cases,
)
from monitor.simulation.injection import Injector


@dataclass(frozen=True, slots=True)
class FaultKind:
    inject: Injector
    touches_ade: bool = False


FAULT_KINDS: dict[str, FaultKind] = {
    "course_archived.removed": FaultKind(inject_offer.removed, touches_ade=True),
    "course_archived.code_changed": FaultKind(inject_offer.code_changed, touches_ade=True),
    "course_archived.became_porte": FaultKind(inject_offer.became_porte, touches_ade=True),
    "course_archived.idnumber_edited": FaultKind(inject_moodle.idnumber_edited),
    "students_not_enrolled.ip_without_group": FaultKind(inject_students.ip_without_group),
    "students_not_enrolled.no_pseudo_group": FaultKind(inject_students.no_pseudo_group),
    "students_not_enrolled.foad_case_a": FaultKind(inject_students.foad_case_a),
    "students_not_enrolled.foad_case_e": FaultKind(inject_students.foad_case_e),
    "students_not_enrolled.porte_collection_not_shared": FaultKind(
        inject_students.porte_collection_not_shared
    ),
    "students_not_enrolled.elp_suspended": FaultKind(inject_students.elp_suspended),
    "students_not_enrolled.ia_cancelled_replaced": FaultKind(inject_students.ia_cancelled_replaced),
    "group_missing.foad_case_c": FaultKind(inject_groups.foad_case_c),
    "group_missing.foad_case_d": FaultKind(inject_groups.foad_case_d),
    "group_missing.foad_case_f": FaultKind(inject_groups.foad_case_f),
    "group_missing.distant_in_pseudo_group": FaultKind(inject_groups.distant_in_pseudo_group),
    "group_missing.wrong_group": FaultKind(inject_moodle.wrong_group),
    "teacher_missing.associated_not_planned": FaultKind(
        inject_teachers.associated_not_planned, touches_ade=True
    ),
    "teacher_missing.fiche_not_linked": FaultKind(
        inject_teachers.fiche_not_linked, touches_ade=True
    ),
    "teacher_missing.elp_obsolete": FaultKind(inject_offer.elp_obsolete),
    "teacher_missing.masked_by_new_group": FaultKind(inject_teachers.masked_by_new_group),
    "too_many_teachers.without_planning": FaultKind(
        inject_teachers.too_many_teachers, touches_ade=True
    ),
    "forgotten_cohort_sync.redundant": FaultKind(inject_moodle.cohort_redundant),
    "forgotten_cohort_sync.archived_course": FaultKind(inject_moodle.cohort_in_archived_course),
    "forgotten_cohort_sync.too_old": FaultKind(inject_moodle.cohort_too_old),
    "forgotten_cohort_sync.member_without_ip": FaultKind(inject_moodle.cohort_member_without_ip),
    "forgotten_cohort_sync.partly_redundant": FaultKind(inject_moodle.cohort_partly_redundant),
    "forgotten_cohort_sync.manual_without_end_date": FaultKind(
        inject_moodle.manual_without_end_date
    ),
    "forgotten_cohort_sync.self_without_end_date": FaultKind(inject_moodle.self_without_end_date),
    "course_hidden.hidden_with_students": FaultKind(inject_moodle.course_hidden),
    "course_idnumber_changed.idnumber_edited": FaultKind(inject_moodle.idnumber_edited),
    "account_missing_email.guest": FaultKind(inject_moodle.guest_without_email),
    "account_missing_email.vacataire": FaultKind(inject_moodle.vacataire_without_email),
    "course_ended_early.end_date_passed": FaultKind(inject_moodle.course_ended_early),
    "seed_cases.rcaed334_foad_case_a": FaultKind(seed_cases.rcaed334_foad_case_a),
    "seed_cases.ms03_suspended": FaultKind(seed_cases.ms03_suspended),
    "seed_cases.hr5c_collection_not_shared": FaultKind(seed_cases.hr5c_collection_not_shared),
}
