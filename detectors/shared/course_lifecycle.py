"""The two ends of a course's life, reported by ``course_archived`` (R1, R2).

- **Not created.** Seed FAQ « Pourquoi mon cours n'existe pas sur Ecampus ? »
  → « Manque d'inscription jusqu'au groupe » : a current ELP with no group
  and no teaching load gets no pseudo-group, hence no course space
  (``detectors.model.lifecycle.not_created``). Predicted the same day
  (« ne sera pas créé cette nuit ») when somebody expects the course: a
  student has an IP on it, or an ADE fiche is linked to it. Structural ELPs
  nobody registers to are not reported (docs/DECISIONS.md).
- **Deleted after the archive.** Seed « Cours archivé » : « 620 cours archivés
  et 3524 cours supprimés ». An archived course is deleted
  ``archived_course_deleted_after_days`` after its archiving (assumption);
  from ``course_deletion_notice_days`` before that date, a finding gives the
  date, and for a code change the new code to copy the content into; once
  Moodle has deleted it (``FactSet.deleted_courses``), the same alert says
  « a été supprimé le … » (within ``course_archived_lookback_days``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from detectors.base import DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Elp, MoodleCourse
from detectors.findings import Evidence, Finding
from detectors.model.describe import plural
from detectors.model.lifecycle import (
    archived_since,
    deleted_courses_of,
    deletion_date,
    not_created,
)
from detectors.shared.people import teacher_rows
from detectors.state import FactSet

OWN_CAUSES = (
    DeclaredCause(
        "course_not_created",
        "Cours non créé : élément sans groupe ni charge d'enseignement",
        "scolarite",
    ),
    DeclaredCause("archived_course_deleted", "Cours archivé bientôt supprimé", "scolarite"),
)

NOT_CREATED_REMEDIATION = (
    "L'élément {code} n'a aucun groupe dans APOGÉE et aucune charge d'enseignement : "
    "lmsjonction ne crée pas de pseudo-groupe ELP_, donc pas d'espace de cours, et n'y inscrit "
    "personne. Définissez les charges d'enseignement de l'élément dans APOGÉE (le pseudo-groupe "
    "ELP_ et l'espace de cours seront créés la nuit suivante), ou créez des groupes et faites "
    "l'inscription pédagogique des étudiants jusqu'au groupe."
)
DELETION_REMEDIATION = (
    "L'espace de cours archivé {course_id} ({code}) sera supprimé le {date} : son contenu sera "
    "alors perdu. Les enseignants qui en ont besoin doivent le récupérer avant cette date. "
    "{copy}Aucun désarchivage manuel dans Ecampus n'est prévu : si l'élément doit revivre, "
    "rétablissez son code dans APOGÉE (le cours sera désarchivé la nuit suivante)."
)
DELETED_REMEDIATION = (
    "L'espace de cours archivé {course_id} ({code}) a été supprimé d'Ecampus le {date}, comme "
    "prévu par la gestion de l'obsolescence : son contenu n'y est plus. {copy}Si l'élément "
    "doit revivre, rétablissez son code dans APOGÉE : un nouvel espace, caché et vide, sera "
    "créé la nuit suivante."
)
COPY = "Copiez le contenu du cours archivé {code} dans le nouvel espace {new_code}. "


def _day(moment: datetime, config: DetectorConfig) -> str:
    return f"{moment.astimezone(ZoneInfo(config.timezone)):%d/%m/%Y}"


def expected_by_someone(facts: FactSet, cod_elp: str) -> bool:
    """A student registered on the ELP, or an ADE fiche linked to it: its course is awaited."""
    return bool(facts.ips_of_elp(cod_elp) or facts.fiches_of_elp(cod_elp))


def _who_waits(students: int) -> str:
    if not students:
        return "Aucun étudiant n'y est encore inscrit ; les enseignants planifiés n'y auront pas accès."
    verb = "n'y auront" if students > 1 else "n'y aura"
    return f"{plural(students, 'étudiant inscrit')} pédagogiquement à l'élément {verb} pas accès."


def not_created_finding(facts: FactSet, elp: Elp, config: DetectorConfig) -> Finding | None:
    """« Ce cours ne sera pas créé cette nuit », with why and what to do (scolarité)."""
    code = elp.cod_elp
    if facts.courses_by_idnumber(code) or not expected_by_someone(facts, code):
        return None
    missing = not_created(facts, code, config.model)
    if missing is None or missing.reason != "no_group_no_load":
        return None
    students = len({ip.cod_etu for ip in facts.ips_of_elp(code)})
    teachers = teacher_rows(facts, code, "R6")
    return Finding(
        detector="course_archived",
        subject=code,
        cause="course_not_created",
        title=f"Cours {code} « {elp.label} » : ne sera pas créé cette nuit",
        summary=(
            f"Le cours {code} « {elp.label} » ne sera pas créé cette nuit : {missing.text}. "
            + _who_waits(students)
        ),
        remediation=NOT_CREATED_REMEDIATION.format(code=code),
        severity="warning" if students else "info",
        audience="scolarite",
        phase="predicted",
        cod_cmp=elp.cod_cmp,
        cod_elp=code,
        affected_count=students,
        evidence=(
            Evidence("R1", f"élément {code} sans groupe ni charge d'enseignement", elp.as_of),
            *teachers,
        ),
    )


def deletion_finding(
    facts: FactSet,
    course: MoodleCourse,
    *,
    now: datetime,
    config: DetectorConfig,
    successor: Callable[[str], str | None],
) -> Finding | None:
    """An archived course close to its deletion date (R2), with the new code if it changed."""
    due = deletion_date(course, config.model)
    since = archived_since(course)
    if due is None or since is None:
        return None
    if now < due - timedelta(days=config.course_deletion_notice_days):
        return None
    code = course.idnumber
    new_code = successor(code)
    copy = COPY.format(code=code, new_code=new_code) if new_code else ""
    passed = now >= due
    day = _day(due, config)
    when = (
        f"devait être supprimé le {day} (date estimée) : il le sera à une prochaine synchronisation"
        if passed
        else f"sera supprimé le {day}"
    )
    elp = facts.elps.get(code) or facts.deleted_elps.get(code)
    return Finding(
        detector="course_archived",
        subject=code,
        cause="archived_course_deleted",
        title=f"Cours archivé {code} : suppression prévue le {day}",
        summary=(
            f"Le cours archivé {course.course_id} ({code}), archivé le {_day(since, config)}, "
            f"{when}." + (f" Nouveau code : {new_code}." if new_code else "")
        ),
        remediation=DELETION_REMEDIATION.format(
            course_id=course.course_id, code=code, date=day, copy=copy
        ),
        severity="info" if passed else "warning",
        audience="scolarite",
        phase="predicted",
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=code,
        course_id=course.course_id,
        evidence=(
            Evidence("R2", f"cours Moodle {course.course_id} archivé", since),
            *teacher_rows(facts, code, "R6"),
            *(teacher_rows(facts, new_code, "R6") if new_code else ()),
        ),
    )


def deleted_finding(
    facts: FactSet,
    course: MoodleCourse,
    *,
    config: DetectorConfig,
    successor: Callable[[str], str | None],
) -> Finding:
    """An archived course Moodle has deleted (R2's last stage), with its date."""
    code, day = course.idnumber, _day(course.as_of, config)
    new_code = successor(code)
    copy = f"Le cours se poursuit sous le code {new_code}. " if new_code else ""
    elp = facts.elps.get(code) or facts.deleted_elps.get(code)
    return Finding(
        detector="course_archived",
        subject=code,
        cause="archived_course_deleted",
        title=f"Cours archivé {code} : supprimé le {day}",
        summary=f"Le cours archivé {course.course_id} ({code}) a été supprimé d'Ecampus le {day}.",
        remediation=DELETED_REMEDIATION.format(
            course_id=course.course_id, code=code, date=day, copy=copy
        ),
        severity="info",
        audience="scolarite",
        phase="occurred",
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=code,
        course_id=course.course_id,
        evidence=(Evidence("R2", f"cours Moodle {course.course_id} supprimé", course.as_of),),
    )


def lifecycle_findings(
    facts: FactSet,
    codes: Iterable[str],
    *,
    now: datetime,
    config: DetectorConfig,
    successor: Callable[[str], str | None],
) -> list[Finding]:
    """Courses that will not be created, and archived courses due for deletion, for ``codes``."""
    found: list[Finding] = []
    for code in codes:
        elp = facts.elps.get(code)
        if elp is not None:
            missing = not_created_finding(facts, elp, config)
            if missing is not None:
                found.append(missing)
        for course in facts.courses_by_idnumber(code):
            if course.archived:
                due = deletion_finding(facts, course, now=now, config=config, successor=successor)
                if due is not None:
                    found.append(due)
        since = now - timedelta(days=config.course_archived_lookback_days)
        for gone in deleted_courses_of(facts, code):
            if gone.archived and gone.as_of >= since and not facts.courses_by_idnumber(code):
                found.append(deleted_finding(facts, gone, config=config, successor=successor))
    return found
