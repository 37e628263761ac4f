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
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.model.lifecycle import not_created
from detectors.model.portes import gone_porteurs, is_current, porteur_column
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


def is_current_elp(facts: FactSet, cod_elp: str, config: ModelConfig = DEFAULT_CONFIG) -> bool:
    """R1: in REFER (not deleted) and not porté (by its column, when that signal counts)."""
    return is_current(facts, cod_elp, config)


def course_actions_for(
    facts: FactSet, idnumber: str, config: ModelConfig = DEFAULT_CONFIG
) -> tuple[CourseAction, ...]:
    """R1/R2 for the courses of one idnumber (an ELP code).

    No course is created for an ELP that yields no group (``lifecycle.not_created``);
    a course it already has is kept (the seed archives only a code gone from REFER).
    """
    if not idnumber:
        return ()
    courses = sorted(facts.courses_by_idnumber(idnumber), key=lambda c: c.course_id)
    elp = facts.elps.get(idnumber)
    if elp is not None and porteur_column(elp, config) is None:
        if not courses:
            if not_created(facts, idnumber, config) is not None:
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
    carrier = elp.porteur if elp is not None else gone_porteurs(facts, config).get(idnumber)
    return tuple(_archive(facts, idnumber, elp, carrier, c) for c in courses if not c.archived)


def _archive(
    facts: FactSet, idnumber: str, elp: Elp | None, carrier: str | None, course: MoodleCourse
) -> CourseAction:
    if carrier is not None:
        reason: CourseReason = "elp_porte"
        why = f"élément {idnumber} devenu porté par {carrier} : ses étudiants vont dans ce cours"
        row = elp or facts.deleted_elps.get(idnumber)
        shown: tuple[Elp | MoodleCourse, ...] = (row, course) if row is not None else (course,)
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


def course_actions(
    facts: FactSet, config: ModelConfig = DEFAULT_CONFIG
) -> tuple[CourseAction, ...]:
    """R1/R2 over the whole offer and every course, in idnumber order."""
    idnumbers = {code for code in facts.elps if is_current(facts, code, config)}
    idnumbers.update(c.idnumber for c in facts.courses.values() if c.idnumber)
    return tuple(
        action for code in sorted(idnumbers) for action in course_actions_for(facts, code, config)
    )
