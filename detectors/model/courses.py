"""R1 and R2: which course spaces the next night creates, archives or unarchives.

Seed section "Cours archivé". Every current ELP that is not porté has one
course, ``idnumber = cod_elp``; a course whose idnumber no longer matches a
current ELP is archived (moved and renamed, idnumber kept: assumption, it is
how the code coming back finds its course to unarchive). Courses with an
empty idnumber are not lmsjonction's and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from detectors.facts import EPOCH, Elp, MoodleCourse
from detectors.state import FactSet

CourseActionKind = Literal["create", "archive", "unarchive"]
CourseReason = Literal["elp_current", "elp_deleted", "elp_porte", "idnumber_unknown"]


@dataclass(frozen=True, slots=True)
class CourseAction:
    """One course change the next run will make, with why (``reason``) and the facts showing it."""

    action: CourseActionKind
    idnumber: str
    course_id: int | None
    reason: CourseReason
    text: str
    facts: tuple[Elp | MoodleCourse, ...]

    @property
    def rule(self) -> str:
        return "R1" if self.action == "create" else "R2"

    @property
    def as_of(self) -> datetime:
        """Newest fact shown (for an archive, the ELP's deletion or change): R9 input."""
        return max((f.as_of for f in self.facts if isinstance(f, Elp)), default=EPOCH)


def is_current_elp(facts: FactSet, cod_elp: str) -> bool:
    """R1: in REFER (not deleted) and not porté."""
    elp = facts.elps.get(cod_elp)
    return elp is not None and elp.porteur is None


def yields_a_group(facts: FactSet, elp: Elp) -> bool:
    """R1 as the seed answers "Pourquoi mon cours n'existe pas sur Ecampus ?".

    "Manque d'inscription jusqu'au groupe": a real group of a collection attached
    to the ELP, or the pseudo-group ``ELP_…`` created "à condition qu'il y ait bien
    des charges d'enseignement"; without either, no course is created.
    """
    if elp.has_teaching_load:
        return True
    return any(not g.is_pseudo for g in facts.groups_of_elp(elp.cod_elp))


def course_actions_for(facts: FactSet, idnumber: str) -> tuple[CourseAction, ...]:
    """R1/R2 for the courses of one idnumber (an ELP code)."""
    if not idnumber:
        return ()
    courses = sorted(facts.courses_by_idnumber(idnumber), key=lambda c: c.course_id)
    elp = facts.elps.get(idnumber)
    if elp is not None and elp.porteur is None:
        if not courses:
            if not yields_a_group(facts, elp):
                return ()
            text = f"élément {idnumber} actuel sans espace de cours : créé caché et vide"
            return (CourseAction("create", idnumber, None, "elp_current", text, (elp,)),)
        if all(c.archived for c in courses):
            latest = courses[-1]
            text = f"élément {idnumber} de nouveau actuel : cours {latest.course_id} désarchivé"
            facts_shown = (elp, latest)
            return (
                CourseAction(
                    "unarchive", idnumber, latest.course_id, "elp_current", text, facts_shown
                ),
            )
        return ()
    return tuple(_archive(facts, idnumber, elp, c) for c in courses if not c.archived)


def _archive(facts: FactSet, idnumber: str, elp: Elp | None, course: MoodleCourse) -> CourseAction:
    if elp is not None:
        reason: CourseReason = "elp_porte"
        why = (
            f"élément {idnumber} devenu porté par {elp.porteur} : ses étudiants vont dans ce cours"
        )
        shown: tuple[Elp | MoodleCourse, ...] = (elp, course)
    elif (deleted := facts.deleted_elps.get(idnumber)) is not None:
        reason, why, shown = (
            "elp_deleted",
            f"élément {idnumber} supprimé de REFER",
            (deleted, course),
        )
    else:
        reason = "idnumber_unknown"
        why = (
            f"n° d'identification {idnumber} inconnu d'APOGÉE (élément supprimé plus tôt, ou "
            "modifié à la main : R8)"
        )
        shown = (course,)
    text = f"cours {course.course_id} archivé : {why}"
    return CourseAction("archive", idnumber, course.course_id, reason, text, shown)


def course_actions(facts: FactSet) -> tuple[CourseAction, ...]:
    """R1/R2 over the whole offer and every course, in idnumber order."""
    idnumbers = {code for code, elp in facts.elps.items() if elp.porteur is None}
    idnumbers.update(c.idnumber for c in facts.courses.values() if c.idnumber)
    return tuple(action for code in sorted(idnumbers) for action in course_actions_for(facts, code))
