"""``forgotten_cohort_sync``: stop-gap enrolments left behind in a course (R1, R2, R3).

Seed sections "Puis-je me dépanner en synchronisant une cohorte (basée sur les
IA) dans le cours ?" and "Puis-je me dépanner en inscrivant manuellement des
étudiants ou en ajoutant une méthode d'auto-inscription ?". A cohort sync is
added by hand and must be removed by hand once the database method (R3) is
fixed: it is often forgotten, keeping inappropriate enrolments and an
"artificial" activity in obsolete courses. Causes, one finding per course and
cause (an instance gets the first that holds, in this order):

- ``cohort_in_obsolete_course``: the course is archived (R2), or its idnumber
  is not a current ELP (R1; tonight it will be archived);
- ``cohort_redundant``: at least ``cohort_redundant_share`` (default 90 %) of
  the members of the cohort instance (the users enrolled through it) are also
  enrolled by the database method in that course: "il faut penser à la retirer
  du cours quand les inscriptions automatiques sont corrigées"; 38 members of
  40 is corrected enough, and the 2 others are named;
- ``cohort_too_old``: created more than ``cohort_sync_max_age_days`` ago;
- ``enrolment_without_end``: manual or self enrolments (student role) with no
  end date: "il est impératif de limiter ces inscriptions dans le temps".

Besides, per course (not in an obsolete one, which the first cause covers):

- ``cohort_member_without_ip``: students the cohort gives access to who have
  no IP on the course's ELP nor on its portés: "les cohortes s'appuient sur
  les IA, donc ne prennent pas en compte le fait que certains étudiants ne
  font pas toutes les UEs d'un parcours". Needs the accounts to name Moodle
  users (``moodle_roster``); members without a student account are not judged.

Courses without idnumber are not lmsjonction's: only the R1 check skips them.
Nobody loses access here, so severity stays low: ``warning`` for an obsolete
course still kept alive, ``info`` otherwise. Audience: the course's teachers
(routed to the CEMU until teachers have addresses).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Literal

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import MoodleCourse, MoodleEnrolInstance
from detectors.findings import Evidence, Finding, Severity
from detectors.model.context import ModelContext
from detectors.model.courses import is_current_elp
from detectors.model.describe import plural
from detectors.shared.cohort_members import CohortReach, is_redundant
from detectors.shared.moodle_roster import moodle_roster
from detectors.shared.people import person_row, teacher_rows
from detectors.state import CourseEnrolment, FactSet

NAME = "forgotten_cohort_sync"

Cause = Literal[
    "cohort_in_obsolete_course",
    "cohort_redundant",
    "cohort_too_old",
    "cohort_member_without_ip",
    "enrolment_without_end",
]
OWN_CAUSES: tuple[DeclaredCause, ...] = (
    DeclaredCause(
        "cohort_in_obsolete_course", "Synchronisation de cohorte dans un cours obsolète", "teachers"
    ),
    DeclaredCause("cohort_redundant", "Synchronisation de cohorte devenue inutile", "teachers"),
    DeclaredCause("cohort_too_old", "Synchronisation de cohorte ancienne", "teachers"),
    DeclaredCause(
        "cohort_member_without_ip",
        "Cohorte donnant accès à des étudiants sans inscription pédagogique",
        "teachers",
    ),
    DeclaredCause("enrolment_without_end", "Inscriptions manuelles sans date de fin", "teachers"),
)

_ABOUT_COHORTS = (
    " Les synchronisations de cohortes posent des problèmes de gestion d'obsolescence : on "
    "les ajoute manuellement, et c'est aussi manuellement qu'il faut penser à la retirer du "
    "cours (Participants ► Méthodes d'inscription) quand les inscriptions automatiques sont "
    "corrigées. Les cohortes s'appuient sur les IA : elles ne tiennent pas compte du fait que "
    "certains étudiants ne suivent pas toutes les UE d'un parcours."
)

_METHOD = {"manual": "manuelle", "self": "auto-inscription"}

REMEDIATION: dict[Cause, str] = {
    "cohort_in_obsolete_course": (
        "Ce cours est archivé, ou son code APOGÉE ne fait plus partie de l'offre de formation, "
        "mais une synchronisation de cohorte y maintient des inscriptions : elle entretient une "
        "activité « artificielle » dans un cours obsolète. Retirez la synchronisation de cohorte "
        "du cours." + _ABOUT_COHORTS
    ),
    "cohort_redundant": (
        "Les membres de cette synchronisation de cohorte sont désormais (presque) tous inscrits "
        "par la méthode base de données (inscriptions automatiques) : la cohorte ne sert plus et "
        "provoquera des inscriptions inappropriées plus tard. Retirez-la du cours ; pour les "
        "membres qui ne sont pas inscrits par la base de données (nommés ci-dessous), voyez avec "
        "la scolarité si leurs inscriptions pédagogiques doivent être corrigées dans APOGÉE."
        + _ABOUT_COHORTS
    ),
    "cohort_too_old": (
        "Cette synchronisation de cohorte a été ajoutée il y a plus de {days} jours. Vérifiez si "
        "les inscriptions automatiques du cours sont corrigées : si oui, retirez-la ; sinon, "
        "signalez-le à la scolarité pour que les inscriptions pédagogiques soient corrigées dans "
        "APOGÉE." + _ABOUT_COHORTS
    ),
    "cohort_member_without_ip": (
        "Une synchronisation de cohorte donne accès à ce cours à des étudiants qui n'ont pas "
        "d'inscription pédagogique à l'élément (ni à ses éléments portés) : les cohortes "
        "s'appuient sur les IA, donc ne prennent pas en compte le fait que certains étudiants ne "
        "font pas toutes les UE d'un parcours. Si ces étudiants doivent suivre ce cours, demandez "
        "à la scolarité leur inscription pédagogique dans APOGÉE ; sinon, retirez la "
        "synchronisation de cohorte du cours (Participants ► Méthodes d'inscription) une fois "
        "les inscriptions automatiques corrigées."
    ),
    "enrolment_without_end": (
        "Des inscriptions manuelles ou par auto-inscription de ce cours n'ont pas de date de fin. "
        "Ces méthodes n'apportent pas les garanties de la méthode par base de données, qui retire "
        "l'accès à ceux qui ne doivent plus l'avoir (changement de filière, d'année "
        "universitaire…) : il est impératif de limiter ces inscriptions dans le temps (durée de "
        "l'inscription, ou date de fin dans la liste des participants)."
    ),
}

TITLE: dict[Cause, str] = {
    "cohort_in_obsolete_course": "synchronisation de cohorte dans un cours obsolète",
    "cohort_redundant": "synchronisation de cohorte devenue inutile",
    "cohort_too_old": "synchronisation de cohorte ancienne",
    "cohort_member_without_ip": "cohorte donnant accès à des étudiants sans inscription "
    "pédagogique",
    "enrolment_without_end": "inscriptions manuelles sans date de fin",
}

_SEVERITY: dict[Cause, Severity] = {
    "cohort_in_obsolete_course": "warning",
    "cohort_redundant": "info",
    "cohort_too_old": "info",
    "cohort_member_without_ip": "warning",
    "enrolment_without_end": "info",
}


def max_age_days(config: DetectorConfig) -> int:
    """Age beyond which a cohort sync is reported (``thresholds.cohort_sync_max_age_days``)."""
    return config.cohort_sync_max_age_days


def redundant_share(config: DetectorConfig) -> float:
    """Share of members also database-enrolled that makes a cohort redundant (0-1)."""
    return config.cohort_redundant_share


def _cohort_cause(
    instance: MoodleEnrolInstance,
    members: set[str],
    database_users: set[str],
    *,
    obsolete: bool,
    oldest_allowed: datetime,
    share: float,
) -> Cause | None:
    if obsolete:
        return "cohort_in_obsolete_course"
    if is_redundant(members, database_users, share):
        return "cohort_redundant"
    if instance.created is not None and instance.created < oldest_allowed:
        return "cohort_too_old"
    return None


def _course_findings(
    facts: FactSet,
    course: MoodleCourse,
    instances: Iterable[MoodleEnrolInstance],
    *,
    oldest_allowed: datetime,
    days: int,
    share: float,
    reach: CohortReach,
) -> list[Finding]:
    enrolled = [e for e in facts.course_enrolments(course.course_id) if e.enrolment.active]
    database_users = {e.user for e in enrolled if e.method == "database"}
    by_instance: dict[int, list[CourseEnrolment]] = defaultdict(list)
    for enrolment in enrolled:
        by_instance[enrolment.instance.enrol_id].append(enrolment)
    obsolete = course.archived or (
        bool(course.idnumber) and not is_current_elp(facts, course.idnumber, reach.ctx.config)
    )
    found: dict[Cause, list[Evidence]] = defaultdict(list)
    people: dict[Cause, set[str]] = defaultdict(set)
    for instance in sorted(instances, key=lambda i: i.enrol_id):
        members = {e.user for e in by_instance[instance.enrol_id]}
        if instance.method == "cohort":
            cause = _cohort_cause(
                instance,
                members,
                database_users,
                obsolete=obsolete,
                oldest_allowed=oldest_allowed,
                share=share,
            )
            created = f", créée le {instance.created:%d/%m/%Y}" if instance.created else ""
            label = f"synchronisation de cohorte {instance.cohort_id} (instance {instance.enrol_id}{created})"
            if cause is not None:
                fact = f"{label} : {plural(len(members), 'membre')}"
                found[cause].append(Evidence("R3", fact, instance.as_of))
                people[cause] |= members
            if cause == "cohort_redundant" and not members <= database_users:
                also = len(members & database_users)
                fact = (
                    f"{also} sur {plural(len(members), 'membre')} inscrits aussi par la base de "
                    f"données (seuil : {share:.0%})"
                )
                found[cause].append(Evidence("R3", fact))
                for user in sorted(members - database_users):
                    row = "membre de la cohorte, non inscrit par la base de données"
                    found[cause].append(Evidence("R3", row, who=user))
            if not obsolete and course.idnumber:
                without = reach.without_ip(members, course.idnumber)
                if without:
                    fact = (
                        f"{label} : {plural(len(without), 'membre')} sans inscription "
                        f"pédagogique à {course.idnumber}"
                    )
                    found["cohort_member_without_ip"].append(Evidence("R3.1", fact, instance.as_of))
                    found["cohort_member_without_ip"] += [
                        person_row(facts, "R3.1", cod_etu, "sans inscription pédagogique", None)
                        for cod_etu in without
                    ]
                    people["cohort_member_without_ip"] |= set(without)
        elif instance.method in ("manual", "self") and instance.role == "student":
            open_ended = [e for e in by_instance[instance.enrol_id] if e.enrolment.timeend is None]
            if open_ended:
                fact = (
                    f"{plural(len(open_ended), 'inscription')} « {_METHOD[instance.method]} » sans date de fin "
                    f"(instance {instance.enrol_id})"
                )
                newest = max(e.enrolment.as_of for e in open_ended)
                found["enrolment_without_end"].append(Evidence("R3", fact, newest))
                people["enrolment_without_end"] |= {e.user for e in open_ended}
    elp = facts.elps.get(course.idnumber) or facts.deleted_elps.get(course.idnumber)
    name = course.idnumber or f"(cours {course.course_id})"
    course_fact = Evidence(
        "R2" if obsolete else "R1",
        f"cours Moodle {course.course_id} « {course.fullname} »"
        + (" archivé" if course.archived else "")
        + ("" if not obsolete or course.archived else ", code absent de l'offre actuelle"),
        course.as_of,
    )
    return [
        Finding(
            detector=NAME,
            subject=course.idnumber or f"course:{course.course_id}",
            cause=cause,
            title=f"Cours {name} : {TITLE[cause]}",
            summary=(
                f"Le cours {name} « {course.fullname} » : {TITLE[cause]} "
                f"({plural(len(people[cause]), 'personne concernée')})."
            ),
            remediation=REMEDIATION[cause].format(days=days),
            severity=_SEVERITY[cause],
            audience="teachers",
            cod_cmp=elp.cod_cmp if elp is not None else None,
            cod_elp=course.idnumber or None,
            course_id=course.course_id,
            affected_count=len(people[cause]),
            evidence=(*evidence, course_fact, *teacher_rows(facts, course.idnumber, "R6")),
        )
        for cause, evidence in found.items()
    ]


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Cohort syncs and open-ended manual enrolments to clean up, one finding per course and cause."""
    days = max_age_days(config)
    share = redundant_share(config)
    roster = moodle_roster(facts)
    reach = CohortReach(ModelContext(facts, now, config.model), roster.cod_etu_of_user)
    oldest_allowed = now - timedelta(days=days)
    instances_of: dict[int, list[MoodleEnrolInstance]] = defaultdict(list)
    for instance in facts.enrol_instances.values():
        if instance.method != "database":
            instances_of[instance.course_id].append(instance)
    if scope is None:
        courses = [facts.courses[i] for i in sorted(instances_of) if i in facts.courses]
    else:
        courses = [c for code in sorted(set(scope)) for c in facts.courses_by_idnumber(code)]
    findings: list[Finding] = []
    for course in courses:
        if course.course_id in instances_of:
            findings.extend(
                _course_findings(
                    facts,
                    course,
                    instances_of[course.course_id],
                    oldest_allowed=oldest_allowed,
                    days=days,
                    share=share,
                    reach=reach,
                )
            )
    return findings


DETECTOR = Detector(name=NAME, moments=frozenset({"daily"}), detect=detect, causes=OWN_CAUSES)
