"""``group_missing``'s comparison with Moodle: students in the wrong group, or in none (R3.2, R9).

Seed, FAQ "Je ne suis pas affecté dans le bon groupe dans le cours, pourquoi ?".
The model gives each enrolled student the group of their IP (or the pseudo-group
``ELP_…``); ``detectors.model.groups.group_gaps`` compares that with Moodle's
group memberships (``mdl_groups_members``). Two causes, one finding per course
and cause, listing the students with the group expected and the one they are in:

- ``wrong_group``: placed in a group APOGÉE does not give them (TD2 for TD1);
- ``group_membership_missing``: enrolled, but in none of the groups expected.

R9: the student's IP (or the group) younger than the last completed run's start
is tonight's work, not a finding; without a completed run, without accounts or
without any group membership loaded, nothing is compared.
The FOAD situations the seed names for this symptom (cases c, d, f) make the
model expect no group and are ``group_missing``'s own causes; here APOGÉE is
coherent and Ecampus differs, so nothing known explains it: to the CEMU, who
reads lmsjonction's report (warnings ``w9``, "groupe existe déjà") and checks
whether the group was changed by hand in the course.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime

from detectors.base import DetectorConfig
from detectors.causes import DeclaredCause
from detectors.findings import Evidence, Finding, Severity
from detectors.model import ExpectedCourse, GapKind, GroupGap, group_gaps
from detectors.model.describe import agree, plural
from detectors.shared.model_bridge import ModelPass
from detectors.shared.moodle_roster import Roster, moodle_roster
from detectors.shared.people import people_summary, person_row
from detectors.shared.severity import course_severity
from detectors.state import FactSet

OWN_CAUSES = (
    DeclaredCause("wrong_group", "Étudiants dans un autre groupe que celui d'APOGÉE", "cemu"),
    DeclaredCause("group_membership_missing", "Étudiants inscrits sans le groupe d'APOGÉE", "cemu"),
)

_WHY = (
    " Les groupes des espaces de cours sont créés et alimentés par la synchronisation nocturne "
    "à partir des groupes des inscriptions pédagogiques d'APOGÉE. Ici, APOGÉE est cohérent "
    "(statut « à distance » de l'IA, de l'élément et du groupe) et la différence est antérieure "
    "à la dernière synchronisation : examinez le rapport de lmsjonction (avertissements w9, "
    "alerte « groupe existe déjà ») et vérifiez si le groupe a été modifié à la main dans "
    "l'espace de cours (Participants ► Groupes). Si c'est APOGÉE qui est faux (l'étudiant doit "
    "bien être dans l'autre groupe), la scolarité corrige le groupe de l'inscription pédagogique "
    "et la synchronisation de la nuit suivante déplace l'étudiant."
)
REMEDIATION: dict[str, str] = {
    "wrong_group": "Des étudiants sont, dans l'espace de cours, dans un autre groupe que celui "
    "de leur inscription pédagogique dans APOGÉE." + _WHY,
    "group_membership_missing": "Des étudiants sont inscrits dans l'espace de cours, mais dans "
    "aucun des groupes de leur inscription pédagogique dans APOGÉE." + _WHY,
}
TITLE: dict[GapKind, str] = {
    "wrong_group": "dans le mauvais groupe",
    "group_membership_missing": "sans le groupe de leur inscription pédagogique",
}


def _placements(facts: FactSet, roster: Roster, course_id: int) -> dict[str, frozenset[str]]:
    def build() -> dict[int, dict[str, frozenset[str]]]:
        found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for member in facts.group_members:
            cod_etu = roster.cod_etu_of_user.get(member.user)
            if cod_etu is not None:
                found[member.course_id][cod_etu].add(member.group_idnumber)
        return {c: {s: frozenset(g) for s, g in p.items()} for c, p in found.items()}

    every: dict[int, dict[str, frozenset[str]]] = facts.memo("group_placements", build)
    return every.get(course_id, {})


def _since(facts: FactSet, gap: GroupGap) -> list[datetime]:
    """The IP and the expected groups' dates: any younger than the last run waits (R9)."""
    groups = [facts.groups[g].as_of for g in gap.expected if g in facts.groups]
    return [gap.as_of, *groups]


def _severity(
    model: ModelPass, course: ExpectedCourse, count: int, config: DetectorConfig
) -> Severity:
    """The course's severity, at most a warning: nobody loses access, only their group."""
    found = course_severity(
        model.facts,
        count,
        course.idnumber,
        course.course_id,
        model.now,
        critical_affected=config.critical_affected,
        soon=config.severity_soon,
    )
    return "info" if found == "info" else "warning"


def _show(groups: frozenset[str]) -> str:
    return ", ".join(sorted(groups)) if groups else "aucun"


def _finding(
    model: ModelPass,
    course: ExpectedCourse,
    kind: GapKind,
    gaps: list[GroupGap],
    config: DetectorConfig,
) -> Finding:
    facts = model.facts
    count = len(gaps)
    names = [gap.cod_etu for gap in gaps]
    rows = [
        person_row(
            facts,
            "R3.2",
            gap.cod_etu,
            f"attendu dans {_show(gap.expected)}, placé dans {_show(gap.placed)}",
            gap.as_of,
            group=_show(gap.placed),
        )
        for gap in gaps
    ]
    title = f"{course.idnumber} : {plural(count, 'étudiant')} {TITLE[kind]}"
    summary = (
        f"{plural(count, 'étudiant')} de l'espace de cours {course.idnumber} "
        f"{agree(count, 'est', 'sont')} {TITLE[kind]} (d'après APOGÉE, antérieur à la "
        "dernière synchronisation)."
    )
    return Finding(
        detector="group_missing",
        subject=course.idnumber,
        cause=kind,
        title=title,
        summary=summary,
        remediation=REMEDIATION[kind],
        severity=_severity(model, course, count, config),
        audience="cemu",
        cod_cmp=course.elp.cod_cmp,
        cod_elp=course.idnumber,
        course_id=course.course_id,
        affected_count=count,
        evidence=(
            people_summary("R3.2", "étudiant concerné", names),
            Evidence("R9", "début de la dernière synchronisation réussie", model.horizon),
            *rows,
        ),
    )


def course_gaps(model: ModelPass, course: ExpectedCourse) -> list[GroupGap]:
    """The course's gaps that are faults now: the course live in Moodle, older than the run (R9)."""
    return [g for g in every_gap(model, course) if not gap_pending(model, g)]


def gap_pending(model: ModelPass, gap: GroupGap) -> bool:
    """R9: the IP or an expected group younger than the last completed run: tonight's work."""
    return any(model.pending(moment) for moment in _since(model.facts, gap))


def every_gap(model: ModelPass, course: ExpectedCourse) -> list[GroupGap]:
    """The course's gaps, pending ones included (diagnosis says "cette nuit")."""
    facts = model.facts
    roster = moodle_roster(facts)
    # Without any membership loaded (mdl_groups_members not ingested), nothing can be told.
    if not (roster.available and facts.group_members) or course.course_id is None:
        return []
    if model.horizon is None:
        return []
    moodle = facts.courses.get(course.course_id)
    if moodle is None or moodle.archived or course.suspended:
        return []
    pseudo = {g for s in course.students.values() for g in s.group_ids}
    return group_gaps(
        course,
        _placements(facts, roster, course.course_id),
        roster.students(course.course_id),
        _ManagedGroups(facts.groups, pseudo),
    )


class _ManagedGroups:
    """lmsjonction's groups: APOGÉE's, and the pseudo-groups it gives this course's students
    (``ELP_…``, which have no APOGÉE group row).

    Looked up in place: a set of every group of the university, built for each course,
    took most of a group_missing pass at Unicaen's size (14,000 courses x 30,000 groups).
    """

    __slots__ = ("_apogee", "_pseudo")

    def __init__(self, apogee: Mapping[str, object], pseudo: set[str]) -> None:
        self._apogee = apogee
        self._pseudo = pseudo

    def __contains__(self, group: object) -> bool:
        return group in self._apogee or group in self._pseudo


def placement_findings(
    model: ModelPass, courses: Collection[ExpectedCourse], config: DetectorConfig
) -> list[Finding]:
    """Wrong or missing group memberships, one finding per course and cause."""
    findings: list[Finding] = []
    for course in sorted(courses, key=lambda c: c.idnumber):
        by_kind: Mapping[GapKind, list[GroupGap]] = _by_kind(course_gaps(model, course))
        for kind, gaps in by_kind.items():
            findings.append(_finding(model, course, kind, gaps, config))
    return findings


def _by_kind(gaps: list[GroupGap]) -> dict[GapKind, list[GroupGap]]:
    found: dict[GapKind, list[GroupGap]] = {}
    for gap in gaps:
        found.setdefault(gap.kind, []).append(gap)
    return found
