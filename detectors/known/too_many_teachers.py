"""``too_many_teachers``: teachers enrolled by the database method without a valid planning (R6, R7, R9).

Seed section "Trop d'enseignants inscrits dans un espace de cours": teachers
enrolled by the database method come from ADE plannings; when the model (R6)
plans none of the teacher's ids for the course, the enrolment has no valid
planning. Not a fault during the year overlap (R7: "tuilage avec l'année
précédente qui est active jusqu'à fin septembre", 30 September inclusive, in
Europe/Paris): nothing is reported then. Manual enrolments are the teachers'
own business (the seed: "vous pouvez les désinscrire vous-même"). R9: when an
APOGÉE/ADE fact of the course (its ELPs, fiches, sessions) is younger than
the last completed run, tonight's run applies it: the finding is pending.
Only the courses of current ELPs (others are ``course_archived``'s); teachers
are named through the accounts (``moodle_roster``), skipped without them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import EPOCH
from detectors.findings import Evidence, Finding
from detectors.model import ExpectedCourse
from detectors.model.describe import agree, plural
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.moodle_roster import Placed, Roster, moodle_roster
from detectors.shared.people import people_summary, person_row
from detectors.shared.refusal_findings import phase_of, refusal_evidence
from detectors.shared.severity import course_severity
from detectors.state import FactSet

NAME = "too_many_teachers"
CAUSE = "without_planning"
OWN_CAUSES = (DeclaredCause(CAUSE, "Enseignants inscrits sans planification ADE", "scolarite"),)

REMEDIATION = {
    CAUSE: "Trop d'enseignants sont inscrits dans cet espace de cours : ces enseignants y sont "
    "inscrits par base de données alors qu'aucune planification ADE valide ne les concerne. "
    "Le tuilage avec l'année précédente, actif jusqu'à fin septembre, ne l'explique plus. Si "
    "aucune planification n'est trouvée dans ADE, il est déjà arrivé qu'il y ait eu une "
    "association de toute l'équipe enseignante dans les groupes par activités. Rectifiez la "
    "planification ADE : les inscriptions par base de données suivront la nuit suivante. (Des "
    "enseignants inscrits manuellement peuvent être désinscrits directement dans le cours.)"
}


def _planned(course: ExpectedCourse) -> frozenset[str]:
    """The teacher ids ADE validly plans for the course, suspension or not.

    Under suspension (R3.4) the model enrols nobody and refuses each planned
    teacher as ``elp_suspended``: their database enrolments are suspended, not
    without planning (until a run suspends them they are still active).
    """
    suspended = (
        r.who for r in course.refusals if r.role == "teacher" and r.cause == "elp_suspended"
    )
    return frozenset((*course.teachers, *suspended))


def _extra(roster: Roster, course: ExpectedCourse) -> list[Placed]:
    """Active database teacher enrolments of the course whose user carries no planned id.

    The roster holds active enrolments only: suspended ones (R3.4) are nobody's excess.
    """
    if course.course_id is None:
        return []
    planned = _planned(course)
    return [
        placed
        for placed in roster.teachers(course.course_id)
        if not any(i in planned for i in roster.teacher_ids(placed.user))
    ]


def _planning_as_of(facts: FactSet, course: ExpectedCourse) -> datetime:
    """The newest APOGÉE/ADE fact behind the course's teachers (R9)."""

    def dates() -> Iterator[datetime]:
        for code in (course.idnumber, *course.portes):
            elp = facts.elps.get(code)
            if elp is not None:
                yield elp.as_of
            for fiche in facts.fiches_of_elp(code):
                yield fiche.as_of
                yield from (s.as_of for s in facts.sessions_of_fiche(fiche.fiche_id))

    return max(dates(), default=EPOCH)


def _finding(
    model: ModelPass,
    roster: Roster,
    course: ExpectedCourse,
    extra: Sequence[Placed],
    config: DetectorConfig,
) -> Finding:
    facts = model.facts
    users = sorted({p.user for p in extra})
    ids = {i for p in extra for i in roster.teacher_ids(p.user)}
    refusals = [r for r in course.refusals if r.role == "teacher" and r.who in ids]
    pending = model.pending(_planning_as_of(facts, course))
    enrolled = [
        person_row(
            facts,
            "R6",
            p.user,
            "inscrit par base de données, sans planification ADE valide",
            p.enrolment.as_of,
        )
        for p in sorted(extra, key=lambda p: p.user)
    ]
    planned = ", ".join(sorted(course.teachers)) or "aucun"
    return Finding(
        detector=NAME,
        subject=course.idnumber,
        cause=CAUSE,
        title=f"Cours {course.idnumber} : {plural(len(users), 'enseignant inscrit')} sans "
        "planification ADE",
        summary=f"{plural(len(users), 'enseignant')} {agree(len(users), 'est inscrit', 'sont inscrits')} "
        "par base de données dans le cours "
        f"{course.idnumber} sans planification ADE valide"
        + (" ; la synchronisation de cette nuit devrait les retirer." if pending else "."),
        remediation=REMEDIATION[CAUSE],
        severity=course_severity(
            facts,
            len(users),
            course.idnumber,
            course.course_id,
            model.now,
            critical_affected=config.critical_affected,
            soon=config.severity_soon,
        ),
        audience="scolarite",
        phase=phase_of(pending),
        cod_cmp=course.elp.cod_cmp,
        cod_elp=course.idnumber,
        course_id=course.course_id,
        affected_count=len(users),
        pending_until_next_run=pending,
        evidence=(
            people_summary("R6", "enseignant en trop", users),
            Evidence("R6", f"enseignants planifiés selon ADE : {planned}", None),
            *enrolled,
            *(e for e in refusal_evidence(facts, refusals) if not e.is_person),
        ),
    )


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Courses with database teachers the model does not plan, outside the overlap (R7)."""
    model = model_pass(facts, now, config)
    if model.in_overlap:
        return []
    roster = moodle_roster(facts)
    if not roster.available:
        return []
    findings: list[Finding] = []
    for course in model.around(scope).courses:
        extra = _extra(roster, course)
        if extra:
            findings.append(_finding(model, roster, course, extra, config))
    return findings


DETECTOR = Detector(name=NAME, moments=frozenset({"after_run"}), detect=detect, causes=OWN_CAUSES)
