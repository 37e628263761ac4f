"""Diagnosis of a course's life and of how people are enrolled: the seed's FAQ answers.

- « Pourquoi mon cours n'existe pas sur Ecampus ? » (R1): no group and no
  teaching load, no course (``model.lifecycle.not_created``); porté: the
  porteur's course.
- « Pourquoi mon cours a été déplacé et renommé ? » (R2, « Cours archivé »):
  archived on which day, deleted on which day, and for a code change the new
  code and « copiez le contenu du cours archivé … dans … ».
- « Pourquoi les étudiants ne voient pas mon cours ? » (« Cours cachés »):
  hidden before its period starts is normal (« Les espaces de cours créés
  automatiquement sont cachés et vides par défaut »), not « aucun problème ».
- « Comment savoir qui est inscrit et surtout comment ? »: each Moodle
  enrolment with its method (base de données, cohorte, manuelle,
  auto-inscription) and its dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from detectors.base import DetectorConfig
from detectors.diagnose.people_search import PersonMatch
from detectors.diagnose.text import Point, evidence_of, remedy
from detectors.facts import EPOCH, MoodleCourse
from detectors.known.account_missing_email import lacks_email
from detectors.known.course_hidden import period_day
from detectors.model.describe import plural
from detectors.model.lifecycle import (
    archived_since,
    deleted_courses_of,
    deletion_date,
    not_created,
)
from detectors.state import CourseEnrolment, FactSet

METHODS = {
    "database": "par base de données (synchronisation automatique avec APOGÉE)",
    "cohort": "par synchronisation de cohorte (ajoutée à la main)",
    "manual": "manuellement",
    "self": "par auto-inscription",
}
ROLES = {"student": "étudiant", "teacher": "enseignant"}
METHOD_NAMES = {
    "database": "base de données",
    "cohort": "cohorte",
    "manual": "manuelle",
    "self": "auto-inscription",
}


def _day(moment: datetime, config: DetectorConfig) -> str:
    return f"{moment.astimezone(ZoneInfo(config.timezone)):%d/%m/%Y}"


def not_created_point(facts: FactSet, code: str, config: DetectorConfig) -> Point | None:
    """R1: the ELP is current but yields no group: lmsjonction creates no course for it."""
    if facts.courses_by_idnumber(code):
        return None
    missing = not_created(facts, code, config.model)
    if missing is None or missing.reason != "no_group_no_load":
        return None
    who, how = remedy("course_not_created", missing.elp.cod_cmp)
    text = f"Le cours {code} n'existe pas et ne sera pas créé cette nuit : {missing.text}."
    return Point(
        "R1",
        "course_not_created",
        text,
        True,
        fixer=who,
        how=how,
        evidence=evidence_of("R1", (missing.elp,)),
    )


def archived_point(
    facts: FactSet,
    course: MoodleCourse,
    config: DetectorConfig,
    successor: Callable[[str], str | None],
) -> Point:
    """R2: when the course was archived, when it is deleted, and where its content goes."""
    code = course.idnumber
    since = archived_since(course)
    due = deletion_date(course, config.model)
    text = f"Le cours {course.course_id} ({code}) est archivé"
    text += f" depuis le {_day(since, config)}" if since and since != EPOCH else ""
    if due is not None:
        text += f" ; il sera supprimé le {_day(due, config)} (date estimée)"
    new_code = successor(code)
    if new_code:
        text += (
            f". Le code APOGÉE a changé : nouveau code {new_code}. Copiez le contenu du cours "
            f"archivé {code} dans {new_code}"
        )
        who, how = remedy("code_changed")
        return Point("R2", "code_changed", text + ".", False, fixer=who, how=how)
    return Point("R2", "course_archived", text + ".", False)


def deleted_point(
    course: MoodleCourse, config: DetectorConfig, successor: Callable[[str], str | None]
) -> Point:
    """R2's last stage: Moodle deleted the (archived) course, on this day."""
    code = course.idnumber
    after = ", après son archivage" if course.archived else ""
    text = f"Le cours {course.course_id} ({code}) a été supprimé d'Ecampus le {_day(course.as_of, config)}{after}."
    new_code = successor(code)
    if new_code:
        text += f" Le code APOGÉE a changé : le cours se poursuit sous le code {new_code}."
    return Point("R2", "course_deleted", text, False)


def hidden_point(
    facts: FactSet, course: MoodleCourse, now: datetime, config: DetectorConfig
) -> Point | None:
    """« Cours cachés »: hidden before its period starts is normal (after it, course_hidden)."""
    elp = facts.elps.get(course.idnumber)
    if course.visible or course.archived or elp is None:
        return None
    start = course.startdate or period_day(elp, now, config, "start")
    if now >= start:
        return None  # course_hidden's finding says it
    text = (
        f"Le cours {course.idnumber} est caché, ce qui est normal avant le début de sa période "
        f"le {_day(start, config)} : les espaces de cours créés automatiquement sont cachés et "
        "vides par défaut ; les étudiants ne le voient pas tant que l'équipe enseignante ne l'a "
        "pas rendu visible (paramètres du cours)."
    )
    who, how = remedy("hidden_before_start")
    return Point("R1", "hidden_before_start", text, False, fixer=who, how=how)


def enrolment_text(entry: CourseEnrolment, config: DetectorConfig, idnumber: str) -> str:
    """One Moodle enrolment in words: course, role, method, dates, status."""
    e = entry.enrolment
    method = METHODS.get(entry.method, entry.method)
    role = ROLES.get(entry.role, entry.role)
    dates = f", depuis le {_day(e.timestart, config)}" if e.timestart else ""
    dates += f", jusqu'au {_day(e.timeend, config)}" if e.timeend else ", sans date de fin"
    state = "" if e.active else " (suspendue)"
    return f"cours {idnumber or entry.course_id} : {role}, inscrit {method}{dates}{state}"


def enrolments_point(facts: FactSet, users: set[str], who: str, config: DetectorConfig) -> Point:
    """« Comment savoir qui est inscrit et surtout comment ? » for one person's Moodle users."""
    lines: list[str] = []
    for course in sorted(facts.courses.values(), key=lambda c: c.course_id):
        for entry in facts.course_enrolments(course.course_id):
            if entry.user in users:
                lines.append(enrolment_text(entry, config, course.idnumber))
    if not lines:
        text = f"Inscriptions de {who} dans Ecampus : aucune dans les cours concernés."
    else:
        text = f"Inscriptions de {who} dans Ecampus : " + " ; ".join(lines) + "."
    return Point("R3", "enrolled_how", text, False, people=(who,))


def methods_point(facts: FactSet, course: MoodleCourse) -> Point | None:
    """« la liste des méthodes d'inscription actives et … combien d'inscriptions dépendent de
    chaque » (seed), for one course."""
    counts: dict[int, int] = {}
    for entry in facts.course_enrolments(course.course_id):
        if entry.enrolment.active:
            counts[entry.instance.enrol_id] = counts.get(entry.instance.enrol_id, 0) + 1
    instances = sorted(
        (i for i in facts.enrol_instances.values() if i.course_id == course.course_id),
        key=lambda i: i.enrol_id,
    )
    if not instances:
        return None
    by_name: dict[str, int] = {}  # one line per method (and cohort), however many instances
    for instance in instances:
        name = METHOD_NAMES.get(instance.method, instance.method)
        if instance.cohort_id is not None:
            name += f" {instance.cohort_id}"
        by_name[name] = by_name.get(name, 0) + counts.get(instance.enrol_id, 0)
    parts = [f"{name} : {plural(count, 'inscription')}" for name, count in by_name.items()]
    text = f"Méthodes d'inscription du cours {course.idnumber} : " + " ; ".join(parts) + "."
    return Point("R3", "enrolment_methods", text, False)


def users_of(facts: FactSet, who: str) -> set[str]:
    """The Moodle users (account uids) of a student number, staff id or uid."""
    return {a.uid for a in facts.accounts.values() if who in (a.uid, a.cod_etu, a.staff_id)} or {
        who
    }


def course_life_points(
    facts: FactSet,
    codes: set[str],
    now: datetime,
    config: DetectorConfig,
    successor: Callable[[str], str | None],
) -> list[Point]:
    """Not created, archived (and deleted when), hidden before its start: for each code."""
    points: list[Point] = []
    for code in sorted(codes):
        missing = not_created_point(facts, code, config)
        if missing is not None:
            points.append(missing)
        if not facts.courses_by_idnumber(code):
            points += [deleted_point(c, config, successor) for c in deleted_courses_of(facts, code)]
        for course in facts.courses_by_idnumber(code):
            if course.archived:
                points.append(archived_point(facts, course, config, successor))
                continue
            if (hidden := hidden_point(facts, course, now, config)) is not None:
                points.append(hidden)
            if (methods := methods_point(facts, course)) is not None:
                points.append(methods)
    return points


def person_points(person: PersonMatch | None) -> list[Point]:
    """Who the ticket's name, email or login found; an account stuck without an email.

    Seed « Mon nom et/ou mon prénom est erroné sur Ecampus » : « Les identifiant,
    nom, prénom et adresse mail sont synchronisés avec votre compte numérique »;
    « Je n'arrive pas à me connecter » : a guest or vacataire account without
    an email address is stuck on its profile page.
    """
    if person is None:
        return []
    text = (
        f"Personne trouvée par {person.how} : {person.describe()}. Identifiant, nom, prénom et "
        "adresse viennent du compte numérique : une erreur s'y corrige auprès du service "
        "administratif de la composante, visible dans Ecampus le lendemain."
    )
    points = [Point("", "person", text, False, people=(person.key,))]
    if lacks_email(person.account):
        who, how = remedy("missing_email", person.account.cod_cmp)
        text = (
            "Compte invité ou vacataire sans adresse électronique : à la première connexion, "
            "la personne reste bloquée sur sa page de profil."
        )
        points.append(Point("", "missing_email", text, True, fixer=who, how=how))
    return points
