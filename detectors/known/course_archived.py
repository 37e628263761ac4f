"""``course_archived``: a course is archived, or will be tonight (R2, R5, R8).

Seed section "Cours archivé": a course is archived when its APOGÉE code no
longer exists as such in REFER. Causes told apart here: the ELP was removed
from the offer, its code changed (a new ELP with the same label and
composante appeared), or it became "porté" (R5: its course is archived and
the porteur's course receives everybody). A course whose idnumber matches no
ELP REFER ever showed (edited by hand, R8) is left to
``course_idnumber_changed``: one problem, one alert. Ahead of the night the
finding is a prediction ("sera archivé cette nuit"): that is the point of warning the
same day, so it is not held back as pending. Only scolarités know whether the
change was intended: the alert goes to the composante's scolarité.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Elp, MoodleCourse
from detectors.findings import Evidence, Finding, Severity
from detectors.model.config import ModelConfig
from detectors.model.courses import course_actions_for, is_current_elp
from detectors.model.describe import in_sentence, plural
from detectors.model.lifecycle import deletion_date
from detectors.model.portes import gone_porteurs, porteur_column
from detectors.shared.course_lifecycle import (
    DELETION_REMEDIATION,
    NOT_CREATED_REMEDIATION,
    lifecycle_findings,
)
from detectors.shared.course_lifecycle import OWN_CAUSES as LIFECYCLE_CAUSES
from detectors.shared.model_bridge import model_config
from detectors.shared.people import teacher_rows
from detectors.state import FactSet

NAME = "course_archived"

REMEDIATION = {
    "removed_from_offer": (
        "Le code APOGÉE de ce cours a disparu de la base REFER : le cours est (ou sera cette nuit) "
        "placé en archive. Si la suppression de l'élément était voulue, prévenez les enseignants "
        "concernés. Si elle est accidentelle, corrigez la modélisation dans APOGÉE (au besoin avec "
        "l'aide de la DEVE, qui sollicitera la DSI) : l'espace de cours sera désarchivé "
        "automatiquement la nuit suivante. Aucun désarchivage manuel dans Ecampus n'est prévu."
    ),
    "code_changed": (
        "Le code APOGÉE de ce cours a changé : l'ancien espace est archivé et un nouvel espace, "
        "caché et vide, est créé pour le nouveau code {new_code}. Si le changement est voulu, "
        "les enseignants du cours (en copie de ce message quand leur adresse est connue) copient "
        "le contenu du cours archivé {old_code} dans le nouvel espace {new_code} (« copiez le "
        "contenu du cours archivé {old_code} dans {new_code} »), puis le rendent visible ; "
        "les étudiants y sont inscrits par la synchronisation. S'il ne l'est pas, rétablissez "
        "l'ancien code dans APOGÉE : l'ancien espace sera désarchivé la nuit suivante. Aucun "
        "désarchivage manuel dans Ecampus n'est prévu."
    ),
    "became_porte": (
        "L'élément est désormais « porté » par {porteur} : son espace de cours est archivé et "
        "l'espace du porteur accueille tous les étudiants. Vérifiez que les étudiants du porté "
        "sont inscrits dans un groupe, que ce groupe appartient à une collection, et que cette "
        "collection est associée au porteur et à tous les portés."
    ),
    # course_lifecycle's causes (R1 course not created, R2 archive deleted)
    "course_not_created": NOT_CREATED_REMEDIATION,
    "archived_course_deleted": DELETION_REMEDIATION,
}

OWN_CAUSES = (
    DeclaredCause("removed_from_offer", "Élément supprimé de l'offre de formation", "scolarite"),
    DeclaredCause("code_changed", "Code APOGÉE changé", "scolarite"),
    DeclaredCause("became_porte", "Élément devenu porté", "scolarite"),
)
_LABEL = {cause.code: cause.label for cause in OWN_CAUSES}


def _normalised(label: str) -> str:
    return " ".join(label.casefold().split())


def _successor(facts: FactSet, old: Elp) -> Elp | None:
    """A current ELP with the same label and composante: the code changed (seed, "Cours archivé")."""
    for elp in facts.elps.values():
        if (
            elp.cod_elp != old.cod_elp
            and elp.porteur is None
            and elp.cod_cmp == old.cod_cmp
            and _normalised(elp.label) == _normalised(old.label)
        ):
            return elp
    return None


def _cause(
    facts: FactSet, code: str, model: ModelConfig
) -> tuple[str, Elp, list[Evidence], dict[str, str]]:
    current = facts.elps.get(code)
    if current is not None and (carrier := porteur_column(current, model)) is not None:
        return (
            "became_porte",
            current,
            [Evidence("R5", f"l'élément {code} est porté par {carrier}", current.as_of)],
            {"porteur": carrier},
        )
    deleted = facts.deleted_elps[code]  # detect() only asks about codes REFER showed
    gone = Evidence("R2", f"l'élément {code} a disparu de REFER", deleted.as_of)
    carrier = gone_porteurs(facts, model).get(code)
    if carrier is not None:  # seed: "l'élément porté disparaît de REFER"
        link = Evidence("R5", f"lien porteur/porté restant : porté par {carrier}", deleted.as_of)
        return ("became_porte", deleted, [gone, link], {"porteur": carrier})
    successor = _successor(facts, deleted)
    if successor is not None:
        new = Evidence(
            "R2",
            f"nouvel élément {successor.cod_elp} de même libellé et composante",
            successor.as_of,
        )
        params = {"new_code": successor.cod_elp, "old_code": code}
        return ("code_changed", deleted, [gone, new], params)
    return ("removed_from_offer", deleted, [gone], {})


def new_code_of(facts: FactSet, code: str) -> str | None:
    """The code an archived course's ELP changed to, if a successor is known."""
    old = facts.deleted_elps.get(code)
    successor = _successor(facts, old) if old is not None else None
    return successor.cod_elp if successor is not None else None


def _severity(students: int, config: DetectorConfig) -> Severity:
    if students >= config.critical_affected:
        return "critical"
    return "warning" if students else "info"


def _finding(
    facts: FactSet, course: MoodleCourse, *, predicted: bool, config: DetectorConfig
) -> Finding:
    code = course.idnumber
    cause, elp, evidence, params = _cause(facts, code, model_config(config))
    enrolled = [e for e in facts.course_enrolments(course.course_id) if e.enrolment.active]
    students = len({e.user for e in enrolled if e.role == "student"})
    teachers = len({e.user for e in enrolled if e.role == "teacher"})
    label = elp.label
    when = "sera archivé cette nuit" if predicted else "a été archivé"
    due = deletion_date(course, config.model) if course.archived else None
    deletion = (
        f" L'espace archivé sera supprimé le "
        f"{due.astimezone(config.model.zone):%d/%m/%Y} (date estimée)."
        if due is not None
        else ""
    )
    access = (
        f"{plural(students, 'étudiant')} et {plural(teachers, 'enseignant')} "
        + ("vont perdre" if predicted else "ont perdu")
        + " l'accès au cours."
    )
    course_fact = Evidence(
        "R2",
        f"cours Moodle {course.course_id} (idnumber {code})"
        + (" déplacé dans la catégorie d'archive" if course.archived else ""),
        course.as_of,
    )
    return Finding(
        detector=NAME,
        subject=code,
        cause=cause,
        title=f"Cours {code} « {label} » : {when}",
        summary=f"Le cours {code} « {label} » {when} ({in_sentence(_LABEL[cause])}). {access}{deletion}",
        remediation=REMEDIATION[cause].format(**params),
        severity=_severity(students, config),
        audience="scolarite",
        phase="predicted" if predicted else "occurred",
        cod_cmp=elp.cod_cmp,
        cod_elp=code,
        course_id=course.course_id,
        affected_count=students + teachers,
        # The teachers copy the old course into the new one: they are told too.
        evidence=(
            *evidence,
            course_fact,
            *(_teachers_of_both(facts, code, params) if cause == "code_changed" else ()),
        ),
    )


def _teachers_of_both(facts: FactSet, code: str, params: dict[str, str]) -> list[Evidence]:
    """Teachers planned on the old code or the new one: they copy the course."""
    rows = teacher_rows(facts, code, "R6") + teacher_rows(facts, params.get("new_code"), "R6")
    return list({row.who: row for row in rows}.values())


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Courses archived lately, those the model archives tonight (R2), courses that will not
    be created (R1) and archived courses due for deletion (``course_lifecycle``)."""
    since = now - timedelta(days=config.course_archived_lookback_days)
    if scope is None:
        codes = sorted({c.idnumber for c in facts.courses.values() if c.idnumber})
        gone = {c.idnumber for c in facts.deleted_courses if c.idnumber}
        lifecycle_codes = sorted(set(codes) | facts.elps.keys() | gone)
    else:
        codes = lifecycle_codes = sorted(set(scope))
    findings: list[Finding] = lifecycle_findings(
        facts, lifecycle_codes, now=now, config=config, successor=lambda c: new_code_of(facts, c)
    )
    for code in codes:
        if is_current_elp(facts, code, model_config(config)):
            continue  # its course is kept, or unarchived tonight
        if code not in facts.elps and code not in facts.deleted_elps:
            continue  # an idnumber REFER never showed: course_idnumber_changed's (R8)
        for action in course_actions_for(facts, code, model_config(config)):
            if action.action == "archive" and action.course_id is not None:
                course = facts.courses[action.course_id]
                findings.append(_finding(facts, course, predicted=True, config=config))
        for course in facts.courses_by_idnumber(code):
            if course.archived and course.as_of >= since:
                findings.append(_finding(facts, course, predicted=False, config=config))
    return findings


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"ahead", "after_run"}),
    detect=detect,
    causes=(*OWN_CAUSES, *LIFECYCLE_CAUSES),
)
