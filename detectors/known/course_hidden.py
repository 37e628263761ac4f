"""``course_hidden``: a course still hidden once its period has started, students enrolled (R1).

Seed section "Cours cachés": the course spaces lmsjonction creates are hidden
and empty by default (R1); the teaching team decides when to show them. A
hidden course is invisible to students, so once its start has passed while
students are enrolled, they cannot reach it.

The start is the course's own ``startdate``, else the start of its ELP's
period in the ELP's academic year (else the current one): S1 and yearly ELPs
on 1 September, S2 ELPs mid-January (assumption). Both are settings, read
from ``DetectorConfig`` fields when they exist, else from ``config.extra``:
``period_start_s1``, ``period_start_s2``, ``period_start_year`` ("MM-DD") and
``course_hidden_grace_days`` (days after the start before alerting, 0).

Only the courses of current ELPs are looked at: archived ones belong to
``course_archived``, and courses outside lmsjonction's offer are none of the
sync's business. Severity grows with the students who cannot see the course.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Elp, MoodleCourse
from detectors.findings import Evidence, Finding
from detectors.model.config import PeriodEdge
from detectors.model.courses import is_current_elp
from detectors.model.describe import agree, plural
from detectors.model.timing import academic_year
from detectors.model.timing import period_day as model_period_day
from detectors.shared.model_bridge import model_config
from detectors.shared.people import teacher_rows
from detectors.shared.severity import severity_for
from detectors.state import FactSet

NAME = "course_hidden"
CAUSE = "hidden_after_start"
OWN_CAUSES = (
    DeclaredCause(CAUSE, "Cours toujours caché après le début de la période", "teachers"),
)


REMEDIATION = (
    "Cet espace de cours est toujours caché alors que la période a commencé le {start} et que "
    "{students} y {are} : les étudiants ne le voient pas (les enseignants le "
    "voient grisé). Les espaces de cours créés automatiquement sont cachés et vides par défaut, "
    "et c'est à l'équipe enseignante de décider du moment où le cours doit être visible : "
    "dans les paramètres du cours, réglez « Visibilité du cours » sur « Afficher »."
)


def period_day(elp: Elp, now: datetime, config: DetectorConfig, edge: PeriodEdge) -> datetime:
    """Local midnight of the first or last day of the ELP's period, in its academic year."""
    model = model_config(config)
    year = elp.year if elp.year is not None else academic_year(now, model)
    return model_period_day(elp.period, year, edge, model)


def _students(facts: FactSet, course: MoodleCourse, now: datetime) -> set[str]:
    return {
        e.user
        for e in facts.course_enrolments(course.course_id)
        if e.role == "student"
        and e.enrolment.active
        and (e.enrolment.timestart is None or e.enrolment.timestart <= now)
        and (e.enrolment.timeend is None or e.enrolment.timeend > now)
    }


def _finding(
    facts: FactSet,
    course: MoodleCourse,
    elp: Elp,
    start: datetime,
    students: int,
    *,
    now: datetime,
    config: DetectorConfig,
) -> Finding:
    local_start = start.astimezone(ZoneInfo(config.timezone))
    shown = f"{local_start:%d/%m/%Y}"
    origin = (
        "date de début du cours"
        if course.startdate is not None
        else f"début de la période {'annuelle' if elp.period == 'year' else elp.period}"
    )
    return Finding(
        detector=NAME,
        subject=course.idnumber,
        cause=CAUSE,
        title=f"Cours {course.idnumber} « {elp.label} » : toujours caché aux étudiants",
        summary=(
            f"Le cours {course.idnumber} « {elp.label} » est caché alors que la période a "
            f"commencé le {shown} : {plural(students, 'étudiant inscrit')} ne le {agree(students, 'voit', 'voient')} pas."
        ),
        remediation=REMEDIATION.format(
            start=shown,
            students=plural(students, "étudiant"),
            are=agree(students, "est inscrit", "sont inscrits"),
        ),
        severity=severity_for(
            students,
            start,
            now,
            critical_affected=config.critical_affected,
            soon=config.severity_soon,
        ),
        audience="teachers",
        cod_cmp=elp.cod_cmp,
        cod_elp=course.idnumber,
        course_id=course.course_id,
        affected_count=students,
        evidence=(
            Evidence("R1", f"cours Moodle {course.course_id} caché (visible = non)", course.as_of),
            Evidence("R1", f"{origin} : {shown}", course.as_of if course.startdate else elp.as_of),
            Evidence("R3", f"{plural(students, 'étudiant inscrit')} dans le cours"),
            *teacher_rows(facts, course.idnumber, "R6"),
        ),
    )


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Hidden courses of current ELPs whose start (plus grace) has passed, with students."""
    grace = timedelta(days=config.course_hidden_grace_days)
    if scope is None:
        courses = sorted(facts.courses.values(), key=lambda c: c.idnumber)
    else:
        courses = [c for code in sorted(set(scope)) for c in facts.courses_by_idnumber(code)]
    findings: list[Finding] = []
    for course in courses:
        if (
            course.visible
            or course.archived
            or not is_current_elp(facts, course.idnumber, model_config(config))
        ):
            continue
        elp = facts.elps[course.idnumber]
        start = course.startdate or period_day(elp, now, config, "start")
        if now < start + grace:
            continue
        students = len(_students(facts, course, now))
        if students:
            findings.append(_finding(facts, course, elp, start, students, now=now, config=config))
    return findings


DETECTOR = Detector(name=NAME, moments=frozenset({"daily"}), detect=detect, causes=OWN_CAUSES)
