"""``course_ended_early``: a course of the current offer whose end date has already passed (R1).

Seed section "Configuration du tableau de bord": when a course has an active
end date (not the default) and that date has passed, Ecampus considers it a
past course; students whose "Vue d'ensemble des cours" filter is set to "en
cours" no longer see it on their dashboard, although it is still taught.

Flagged: a course, not archived, of a current ELP (R1) whose ``enddate`` is
past while the ELP's academic year has started and its teaching period still
runs. The period ends (assumption, the model's ``PeriodCalendar``, settings
``rules.periods``): S1 on 31 January, S2 and the year on 30 June, in the ELP's
academic year (else the current one). Once the period is over, an end date is
expected and the alert resolves.
Audience: the course's teachers; severity grows with the enrolled students.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Elp, MoodleCourse
from detectors.findings import Evidence, Finding
from detectors.known.course_hidden import period_day
from detectors.model.courses import is_current_elp
from detectors.model.describe import plural
from detectors.model.timing import academic_year
from detectors.shared.model_bridge import model_config
from detectors.shared.people import teacher_rows
from detectors.shared.severity import course_start, severity_for
from detectors.state import FactSet

NAME = "course_ended_early"
CAUSE = "enddate_passed"
OWN_CAUSES = (DeclaredCause(CAUSE, "Date de fin du cours échue en cours de période", "teachers"),)

REMEDIATION = (
    "La date de fin de cet espace de cours ({enddate}) est échue alors que la période "
    "d'enseignement n'est pas terminée (fin le {period_end}) : Ecampus considère ce cours comme "
    "passé, et il disparaît du tableau de bord des étudiants dont le filtre du bloc « Vue "
    "d'ensemble des cours » est réglé sur « en cours ». Dans les paramètres du cours, repoussez "
    "la « Date de fin du cours » après la fin de la période, ou désactivez-la (ce qui est le "
    "réglage par défaut)."
)


def period_end(elp: Elp, now: datetime, config: DetectorConfig) -> datetime:
    """Local midnight after the last day of the ELP's period (``rules.periods``)."""
    return period_day(elp, now, config, "end") + timedelta(days=1)


def _finding(
    facts: FactSet,
    course: MoodleCourse,
    elp: Elp,
    end: datetime,
    *,
    now: datetime,
    config: DetectorConfig,
) -> Finding:
    assert course.enddate is not None
    zone = ZoneInfo(config.timezone)
    enddate = f"{course.enddate.astimezone(zone):%d/%m/%Y}"
    period_end_shown = f"{(end - timedelta(days=1)).astimezone(zone):%d/%m/%Y}"
    students = len(
        {
            e.user
            for e in facts.course_enrolments(course.course_id)
            if e.role == "student" and e.enrolment.active
        }
    )
    return Finding(
        detector=NAME,
        subject=course.idnumber,
        cause=CAUSE,
        title=f"Cours {course.idnumber} « {elp.label} » : date de fin échue en cours de période",
        summary=(
            f"La date de fin du cours {course.idnumber} « {elp.label} » ({enddate}) est échue "
            f"avant la fin de la période {_period(elp)} ({period_end_shown}) : le cours disparaît "
            f"du filtre « en cours » du tableau de bord {_whose(students)}."
        ),
        remediation=REMEDIATION.format(enddate=enddate, period_end=period_end_shown),
        severity=severity_for(
            students,
            course_start(facts, course.idnumber, course.course_id),
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
            Evidence(
                "R1", f"cours Moodle {course.course_id} : date de fin {enddate}", course.as_of
            ),
            Evidence(
                "R1",
                f"élément {elp.cod_elp} actuel, période {_period(elp)}, année {elp.year or '-'}",
                elp.as_of,
            ),
            *teacher_rows(facts, course.idnumber, "R6"),
        ),
    )


def _period(elp: Elp) -> str:
    return "annuelle" if elp.period == "year" else elp.period


def _whose(students: int) -> str:
    """« de ses 3 étudiants »; nobody enrolled yet: « des étudiants qui y seront inscrits »."""
    if not students:
        return "des étudiants qui y seront inscrits"
    return f"de ses {plural(students, 'étudiant')}" if students > 1 else "de son étudiant"


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Courses of current ELPs whose end date passed while their period still runs."""
    if scope is None:
        courses = sorted(facts.courses.values(), key=lambda c: c.idnumber)
    else:
        courses = [c for code in sorted(set(scope)) for c in facts.courses_by_idnumber(code)]
    current_year = academic_year(now, model_config(config))
    findings: list[Finding] = []
    for course in courses:
        if course.enddate is None or course.enddate > now or course.archived:
            continue
        if not is_current_elp(facts, course.idnumber, model_config(config)):
            continue
        elp = facts.elps[course.idnumber]
        if elp.year is not None and elp.year > current_year:
            continue  # planned ahead: its academic year has not started
        end = period_end(elp, now, config)
        if course.enddate < end and now < end:
            findings.append(_finding(facts, course, elp, end, now=now, config=config))
    return findings


DETECTOR = Detector(name=NAME, moments=frozenset({"daily"}), detect=detect, causes=OWN_CAUSES)
