"""R1 and R2 at both ends of a course's life: whether it is created, and when its archive goes.

Seed, FAQ "Pourquoi mon cours n'existe pas sur Ecampus ?" answers with
"Manque d'inscription jusqu'au groupe" and "Relation porteur porté". Read
with the section "Manque inscription jusqu'au groupe" (« un pseudo-groupe
(préfixé *ELP_*) est créé automatiquement **à condition qu'il y ait bien des
charges d'enseignement définies** »): lmsjonction builds a course space only
for an ELP that yields a group, a real one of APOGÉE or the pseudo-group,
and never for a porté (« l'élément "porté" disparaît de REFER, ainsi que de
l'espace de cours correspondant »). That reading is ours (docs/DECISIONS.md):
``ModelConfig.course_needs_group`` turns it off.

Seed, "Cours archivé": archiving comes first, deletion later (« 620 cours
archivés et 3524 cours supprimés »). The seed gives no delay: the date a
course is deleted is its archiving date plus
``ModelConfig.archived_course_deleted_after_days`` (assumption; None: unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from detectors.facts import Elp, Group, MoodleCourse
from detectors.model.config import DEFAULT_CONFIG, ModelConfig
from detectors.model.portes import porteur_column
from detectors.state import FactSet

NotCreatedReason = Literal["no_group_no_load", "elp_porte"]


@dataclass(frozen=True, slots=True)
class NotCreated:
    """Why lmsjonction builds no course space for a current ELP, with the facts showing it."""

    cod_elp: str
    reason: NotCreatedReason
    elp: Elp
    text: str


def groups_yielded(facts: FactSet, elp: Elp) -> tuple[Group, ...]:
    """The groups the ELP gives lmsjonction: real ones of its collections, or its pseudo-groups."""
    return tuple(facts.groups_of_elp(elp.cod_elp))


def not_created(
    facts: FactSet, cod_elp: str, config: ModelConfig = DEFAULT_CONFIG
) -> NotCreated | None:
    """R1: why the ELP gets no course space, or None when it gets one (or is not in REFER)."""
    elp = facts.elps.get(cod_elp)
    if elp is None:
        return None
    porteur = porteur_column(elp, config)
    if porteur is not None:
        text = (
            f"l'élément {cod_elp} est porté par {porteur} : pas d'espace de cours propre, "
            "ses étudiants vont dans celui du porteur"
        )
        return NotCreated(cod_elp, "elp_porte", elp, text)
    if not config.course_needs_group or elp.has_teaching_load or groups_yielded(facts, elp):
        return None
    text = (
        f"l'élément {cod_elp} n'a aucun groupe dans APOGÉE et aucune charge d'enseignement : "
        "pas de pseudo-groupe ELP_, donc pas d'espace de cours"
    )
    return NotCreated(cod_elp, "no_group_no_load", elp, text)


def archived_since(course: MoodleCourse) -> datetime | None:
    """When an archived course was moved to the archive: its Moodle row's last change."""
    return course.as_of if course.archived else None


def deletion_date(course: MoodleCourse, config: ModelConfig = DEFAULT_CONFIG) -> datetime | None:
    """R2: the day lmsjonction deletes an archived course (None: not archived, or delay unknown)."""
    since = archived_since(course)
    days = config.archived_course_deleted_after_days
    if since is None or days is None:
        return None
    return since + timedelta(days=days)


def deleted_courses_of(facts: FactSet, idnumber: str) -> list[MoodleCourse]:
    """Courses of ``idnumber`` Moodle has deleted (last known rows), oldest first."""

    def build() -> dict[str, list[MoodleCourse]]:
        index: dict[str, list[MoodleCourse]] = {}
        for course in sorted(facts.deleted_courses, key=lambda c: c.as_of):
            if course.idnumber:
                index.setdefault(course.idnumber, []).append(course)
        return index

    found: dict[str, list[MoodleCourse]] = facts.memo("deleted_courses_by_idnumber", build)
    return found.get(idnumber, [])
