"""How bad a finding is: how many people lose access, and how close the course's start is.

Issue 4: "severity scaled by how many people lose access and how close the
course's start is". Shared by every detector that counts people.

- nobody affected: ``info``;
- the course has started, starts within ``soon`` (default 14 days) or has no
  known start: ``critical`` from ``critical_affected`` people, else ``warning``;
- the course starts later: ``warning`` from ``critical_affected`` people, else
  ``info`` (there is time to fix it before anyone misses anything).

``course_start`` is the Moodle course's start date, else its first ADE session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from detectors.findings import SEVERITY_ORDER, Severity
from detectors.state import FactSet

SOON = timedelta(days=14)


def severity_for(
    affected: int,
    course_start: datetime | None,
    now: datetime,
    *,
    critical_affected: int = 20,
    soon: timedelta = SOON,
) -> Severity:
    """Severity for ``affected`` people losing access to a course starting at ``course_start``."""
    if affected <= 0:
        return "info"
    many = affected >= critical_affected
    if course_start is None or course_start <= now + soon:
        return "critical" if many else "warning"
    return "warning" if many else "info"


def at_most(severity: Severity, ceiling: Severity) -> Severity:
    """``severity`` capped at ``ceiling`` (a consequence on groups only never goes critical)."""
    return severity if SEVERITY_ORDER[severity] <= SEVERITY_ORDER[ceiling] else ceiling


def course_start(facts: FactSet, cod_elp: str | None, course_id: int | None) -> datetime | None:
    """When the course starts: the Moodle start date, else the ELP's first planned ADE session."""
    course = facts.courses.get(course_id) if course_id is not None else None
    if course is not None and course.startdate is not None:
        return course.startdate
    if cod_elp is None:
        return None
    starts = [
        session.start
        for fiche in facts.fiches_of_elp(cod_elp)
        for session in facts.sessions_of_fiche(fiche.fiche_id)
        if session.start is not None
    ]
    return min(starts, default=None)


def course_severity(
    facts: FactSet,
    affected: int,
    cod_elp: str | None,
    course_id: int | None,
    now: datetime,
    *,
    critical_affected: int = 20,
    soon: timedelta = SOON,
) -> Severity:
    """``severity_for`` with the start of the course of ``cod_elp`` / ``course_id``."""
    start = course_start(facts, cod_elp, course_id)
    return severity_for(affected, start, now, critical_affected=critical_affected, soon=soon)
