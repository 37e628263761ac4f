"""``enrolments_lost``: database enrolments a sync run took away, each with its cause (R3-R6, R9).

Seed: "Symptôme : les inscriptions à un cours disparaissent" (relation
porteur/porté), "Élément suspendu", "Désynchronisation temporaire", and the
teachers' "Planification ADE non compatible". A loss is a ``database``
enrolment deleted (``FactSet.deleted_enrolments``, ``as_of`` = deletion) or
suspended (live row inactive) while a completed sync run was running, within
the last ``enrolments_lost_lookback_days`` (``DetectorConfig``, default
7), and not given back since. Its cause is the model's refusal of that person
in that course now (the newest refusal, the likeliest trigger), or
``unexplained`` when the model still enrols them with facts older than the
run (then CEMU), unless they were granted again only after the loss. One
finding per ELP and cause: the ELP of the refused IP or fiche (a porté's code
for its students lost from the porteur's course), the course's own code when
unexplained. Not faults: the IP or the planning is gone (R3.1: the
database method removes who must no longer have access), a deliberate cause
(outgoing exchange R3.5, closed year R7, cancelled IA), a course no longer
current (``course_archived``), a granting fact younger than the last run
(re-enrolled tonight, R9). Users are named through the accounts
(``moodle_roster``); without accounts nothing is reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause, declared
from detectors.facts import MoodleEnrolment, Role
from detectors.findings import Finding
from detectors.known import students_not_enrolled, teacher_missing
from detectors.model import CAUSES, CauseInfo, ExpectedCourse, Refusal
from detectors.model.causes import DECLARED as MODEL_CAUSES
from detectors.model.describe import ROLE_FR, in_sentence, plural
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.moodle_roster import Roster, database_instances, moodle_roster
from detectors.shared.people import people_summary, person_row
from detectors.shared.refusal_findings import (
    elp_label,
    elp_of,
    refusal_evidence,
    subject_of,
)
from detectors.shared.severity import course_severity
from detectors.state import FactSet

NAME = "enrolments_lost"
UNEXPLAINED = "unexplained"
OWN_CAUSES = (DeclaredCause(UNEXPLAINED, "Inscriptions perdues sans cause connue", "cemu"),)
LOOKBACK_DAYS = 7

_LOST = (
    "Des inscriptions par base de données ont disparu de cet espace de cours lors de la "
    "synchronisation nocturne. "
)
REMEDIATION: dict[str, str] = {
    **{c: _LOST + text for c, text in students_not_enrolled.REMEDIATION.items()},
    **{c: _LOST + text for c, text in teacher_missing.REMEDIATION.items()},
    UNEXPLAINED: _LOST + "Les données d'APOGÉE et d'ADE, antérieures à cette synchronisation, "
    "justifient toujours ces inscriptions et aucune situation connue ne les explique. Examinez "
    "le rapport de lmsjonction (erreurs « Insc. BDD », alertes « groupe déjà existant dans un "
    "autre cours ») et le numéro d'identification du cours.",
}
_INFO: dict[str, CauseInfo] = {cause: info for cause, info in CAUSES.items()}
NOT_FAULTS = frozenset({"outgoing_exchange", "year_inactive", "ia_cancelled", "elp_obsolete"})


@dataclass(frozen=True, slots=True)
class Loss:
    """One database enrolment removed or suspended by a run: who, in which course, as what."""

    course_id: int
    user: str
    role: Role
    enrolment: MoodleEnrolment
    deleted: bool


def _windows(facts: FactSet, now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    since = now - timedelta(days=days)
    return [
        (run.started_at, run.finished_at)
        for run in facts.runs
        if run.completed and run.finished_at is not None and since <= run.finished_at <= now
    ]


def losses(facts: FactSet, now: datetime, days: int = LOOKBACK_DAYS) -> list[Loss]:
    """Database enrolments deleted or suspended during recent runs, not given back since."""
    windows = _windows(facts, now, days)
    database = database_instances(facts)
    candidates: Iterable[tuple[MoodleEnrolment, bool]] = (
        *((e, True) for e in facts.deleted_enrolments),
        *((e, False) for e in facts.enrolments if not e.active),
    )
    found: dict[tuple[int, str, Role], Loss] = {}
    for enrolment, deleted in candidates:
        instance = database.get(enrolment.enrol_id)
        if instance is None or not any(a <= enrolment.as_of <= b for a, b in windows):
            continue
        found[(instance.course_id, enrolment.user, instance.role)] = Loss(
            instance.course_id, enrolment.user, instance.role, enrolment, deleted
        )
    users = {user for _, user, _ in found}
    for enrolment in facts.enrolments:
        if enrolment.user in users and enrolment.active:  # given back since
            instance = database.get(enrolment.enrol_id)
            if instance is not None:
                found.pop((instance.course_id, enrolment.user, instance.role), None)
    return sorted(found.values(), key=lambda loss: (loss.course_id, loss.role, loss.user))


def _refusals_of(course: ExpectedCourse, role: Role, ids: Collection[str]) -> list[Refusal]:
    return [
        r for r in course.refusals if r.role == role and r.who in ids and r.blocks == "enrolment"
    ]


def cause_of(
    model: ModelPass, roster: Roster, course: ExpectedCourse, loss: Loss
) -> tuple[str, list[Refusal]] | None:
    """The loss's cause and the refusals showing it; None when it is no fault."""
    if loss.role == "student":
        cod_etu = roster.cod_etu_of_user.get(loss.user)
        if cod_etu is None:
            return None  # account gone: the person left
        ids: Collection[str] = (cod_etu,)
        expected_as_of = course.students[cod_etu].as_of if cod_etu in course.students else None
    else:
        ids = roster.teacher_ids(loss.user)
        granted = [course.teachers[i].as_of for i in ids if i in course.teachers]
        expected_as_of = min(granted, default=None)
    if expected_as_of is not None:
        if model.pending(expected_as_of) or expected_as_of > loss.enrolment.as_of:
            # Re-enrolled tonight (R9), or granted again after the run that rightly took
            # it away (an IP dropped, then made again): the absence is not this loss but
            # students_not_enrolled's or teacher_missing's (missing after a run).
            return None
        return UNEXPLAINED, []
    refusals = _refusals_of(course, loss.role, ids)
    if not refusals or any(r.cause in NOT_FAULTS or model.overlap_refusal(r) for r in refusals):
        return None  # deliberate, or a previous-year registration in September (R7)
    trigger = max(refusals, key=lambda r: r.as_of)
    return trigger.cause, [r for r in refusals if r.cause == trigger.cause]


def _finding(
    model: ModelPass,
    subject: str,
    course: ExpectedCourse,
    cause: str,
    lost: list[tuple[Loss, list[Refusal]]],
    config: DetectorConfig,
) -> Finding:
    facts = model.facts
    people = sorted({loss.user for loss, _ in lost})
    info = _INFO.get(cause)
    rule = info.rule if info is not None else "R3"
    what = in_sentence(info.title) if info is not None else "inexpliquée"
    losses_shown = [
        person_row(
            facts,
            rule,
            loss.user,
            f"inscription {ROLE_FR[loss.role]} "
            + ("supprimée" if loss.deleted else "suspendue")
            + " par la synchronisation",
            loss.enrolment.as_of,
        )
        for loss, _ in lost
    ]
    elp = elp_of(facts, subject)
    where = "" if subject == course.idnumber else f" (cours du porteur {course.idnumber})"
    return Finding(
        detector=NAME,
        subject=subject,
        cause=cause,
        title=f"{elp_label(facts, subject)}{where} : {plural(len(people), 'inscription perdue')} "
        f"— {what}",
        summary=f"La synchronisation a retiré {plural(len(people), 'inscription')} par base de "
        f"données du cours {course.idnumber} (cause : {what}).",
        remediation=REMEDIATION[cause].format(cod_elp=subject, course=course.idnumber),
        severity=course_severity(
            facts,
            len(people),
            course.idnumber,
            course.course_id,
            model.now,
            critical_affected=config.critical_affected,
            soon=config.severity_soon,
        ),
        audience="cemu" if cause == UNEXPLAINED else "scolarite",
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=subject,
        course_id=course.course_id,
        affected_count=len(people),
        evidence=(
            people_summary(rule, "personne concernée", people),
            *(
                e
                for e in refusal_evidence(facts, [r for _, f in lost for r in f])
                if not e.is_person
            ),
            *losses_shown,
        ),
    )


def lookback_days(config: DetectorConfig) -> int:
    """How far back deleted enrolments count as losses (the store loads that many days)."""
    return config.enrolments_lost_lookback_days


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Losses of the recent runs, one finding per ELP (the course's, or a porté's) and cause."""
    roster = moodle_roster(facts)
    if not roster.available:
        return []
    model = model_pass(facts, now, config)
    days = lookback_days(config)
    grouped: dict[tuple[str, str], list[tuple[Loss, list[Refusal]]]] = {}
    courses: dict[str, ExpectedCourse] = {}  # by subject
    for loss in losses(facts, now, days):
        moodle = facts.courses.get(loss.course_id)
        if moodle is None or (scope is not None and moodle.idnumber not in scope):
            continue
        course = model.course(moodle.idnumber)
        if course is None or course.course_id != loss.course_id:
            continue  # not the course of a current ELP: course_archived's concern
        found = cause_of(model, roster, course, loss)
        if found is not None:
            cause, refusals = found
            subject = subject_of(refusals[0]) if refusals else course.idnumber
            courses[subject] = course
            grouped.setdefault((subject, cause), []).append((loss, refusals))
    return [
        _finding(model, subject, courses[subject], cause, lost, config)
        for (subject, cause), lost in sorted(grouped.items())
    ]


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"after_run"}),
    detect=detect,
    causes=(
        # A loss's cause is a refusal's (those the remediation covers), or none known.
        *declared(MODEL_CAUSES, sorted(c for c in REMEDIATION if c in MODEL_CAUSES)),
        *OWN_CAUSES,
    ),
)
