"""``course_idnumber_changed``: a course's idnumber edited by hand (R8, then R1/R2).

Seed section "idnumber modifié": the course's "numéro d'identification" holds
its APOGÉE code, filled in when lmsjonction creates the course, and must never
be edited by hand: the link with APOGÉE is destroyed, nothing syncs to the
course any more, the next night archives it (R2) and the ELP gets a new,
empty course (R1).

Signal, without history of the course: a non-empty idnumber that REFER never
showed (neither a current ELP nor a deleted one: the store keeps deleted ELPs
as tombstones) on a course that has database-method enrol instances, i.e. one
lmsjonction fed. Courses made by hand with a free idnumber have none. The
original code is guessed from an ELP code found in the course's short or full
name (lmsjonction names them "(CODE) label"), and given as a hint only.

Archived courses are R2's business: every course whose idnumber no longer
matches a current ELP is archived, so an archived course with a code REFER
never showed is, as a rule, the course of an ELP that left the offer before
the monitor started (a real Moodle holds thousands). One archived course
still carries the edit's signature: its name gives the code of a *current*
ELP other than its idnumber. That is the edited course the night archived
while its ELP got a new, empty course (R1); it stays flagged until the CEMU
settles it.

Runs ahead of the night on the dirty keys (the edited idnumber is the changed
course's key) and after each run over the whole state, so the alert resolves
once the idnumber is restored. Audience: the CEMU (only platform
administrators can still edit the field).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Elp, MoodleCourse
from detectors.findings import Evidence, Finding
from detectors.model.describe import plural
from detectors.shared.severity import severity_for
from detectors.state import FactSet

NAME = "course_idnumber_changed"
CAUSE = "idnumber_edited"
OWN_CAUSES = (DeclaredCause(CAUSE, "Numéro d'identification du cours modifié à la main", "cemu"),)

REMEDIATION = (
    "Le numéro d'identification de ce cours (« {idnumber} ») ne correspond à aucun élément "
    "APOGÉE, alors que le cours est alimenté par la synchronisation (méthode d'inscription par "
    "base de données) : il a été modifié à la main. Ce paramètre est renseigné automatiquement "
    "à la création de l'espace de cours et ne doit jamais être modifié manuellement, sous peine "
    "de détruire le lien avec APOGÉE : plus aucune synchronisation ne concerne ce cours, il sera "
    "archivé et un nouvel espace vide sera créé pour l'élément. Rétablissez le numéro "
    "d'identification d'origine{original} dans les paramètres du cours avant la synchronisation "
    "de cette nuit."
)

_CODE_TOKEN = re.compile(r"[A-Za-z0-9._-]+")


def _known(facts: FactSet, code: str) -> Elp | None:
    return facts.elps.get(code) or facts.deleted_elps.get(code)


def original_code(facts: FactSet, course: MoodleCourse) -> Elp | None:
    """An ELP whose code appears in the course's names ("(AN-10A) EC1…", "AN-10A-EC1 …")."""
    for name in (course.fullname, course.shortname):
        for token in _CODE_TOKEN.findall(name):
            parts = token.split("-")
            # "AN-10A-EC1" holds "AN-10A": try every prefix cut at a dash, longest first.
            for cut in range(len(parts), 0, -1):
                candidate = "-".join(parts[:cut])
                elp = _known(facts, candidate)
                if elp is not None and candidate != course.idnumber:
                    return elp
    return None


def _edited(facts: FactSet, course: MoodleCourse) -> bool:
    """A live course with an unknown idnumber, or an archived one named after a current ELP."""
    if not course.archived:
        return True
    elp = original_code(facts, course)
    return elp is not None and elp.cod_elp in facts.elps


def _finding(
    facts: FactSet, course: MoodleCourse, *, now: datetime, config: DetectorConfig
) -> Finding:
    enrolled = [e for e in facts.course_enrolments(course.course_id) if e.enrolment.active]
    students = len({e.user for e in enrolled if e.role == "student"})
    teachers = len({e.user for e in enrolled if e.role == "teacher"})
    elp = original_code(facts, course)
    original = f" ({elp.cod_elp}, d'après le nom du cours)" if elp is not None else ""
    evidence = [
        Evidence(
            "R8",
            f"cours Moodle {course.course_id} « {course.fullname} » : numéro d'identification "
            f"{course.idnumber}",
            course.as_of,
        ),
        Evidence("R8", f"aucun élément {course.idnumber} dans REFER, actuel ou supprimé"),
        Evidence(
            "R3",
            f"{plural(students, 'étudiant')} et {plural(teachers, 'enseignant')} inscrits au cours",
        ),
    ]
    if elp is not None:
        evidence.append(
            Evidence("R1", f"élément {elp.cod_elp} « {elp.label} » cité dans le nom", elp.as_of)
        )
    return Finding(
        detector=NAME,
        subject=course.idnumber,
        cause=CAUSE,
        title=f"Cours {course.course_id} : numéro d'identification modifié ({course.idnumber})",
        summary=(
            f"Le numéro d'identification du cours {course.course_id} « {course.fullname} » a été "
            f"modifié à la main en « {course.idnumber} »{original} : le lien avec APOGÉE est "
            f"rompu. {plural(students, 'étudiant')} et {plural(teachers, 'enseignant')} perdront l'accès quand "
            "le cours sera archivé."
        ),
        remediation=REMEDIATION.format(idnumber=course.idnumber, original=original),
        severity=severity_for(
            students,
            course.startdate,
            now,
            critical_affected=config.critical_affected,
            soon=config.severity_soon,
        ),
        audience="cemu",
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=course.idnumber,
        course_id=course.course_id,
        affected_count=students + teachers,
        evidence=tuple(evidence),
    )


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Courses fed by lmsjonction whose idnumber REFER never showed, unless R2 archived them."""
    if scope is None:
        codes = sorted({c.idnumber for c in facts.courses.values() if c.idnumber})
    else:
        codes = sorted(set(scope))
    unknown = [code for code in codes if code and _known(facts, code) is None]
    if not unknown:
        return []
    # Courses lmsjonction feeds have a database-method instance, enrolments or not.
    fed = {i.course_id for i in facts.enrol_instances.values() if i.method == "database"}
    return [
        _finding(facts, course, now=now, config=config)
        for code in unknown
        for course in facts.courses_by_idnumber(code)
        if course.course_id in fed and _edited(facts, course)
    ]


DETECTOR = Detector(
    name=NAME, moments=frozenset({"ahead", "after_run"}), detect=detect, causes=OWN_CAUSES
)
