"""Diagnosis of people: the model's verdict on a student's IPs or a teacher's fiches, against Moodle.

R9 decides what is pending: an access the model grants through facts younger
than the last completed run's start is not on Ecampus yet ("sera inscrit cette
nuit"); an older one missing from Moodle is unexplained (CEMU). Moodle users
are named through ``moodle_roster`` (accounts); without accounts nothing is
compared, and the point says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from detectors.causes import Fixer
from detectors.diagnose.text import Point, evidence_of, fixer, remedy
from detectors.facts import AdeFiche, Ip
from detectors.findings import Finding
from detectors.model import CAUSES, ExpectedCourse, IpVerdict, Refusal, evaluate_fiche
from detectors.model.context import ModelContext
from detectors.model.describe import agree, in_sentence, plural
from detectors.shared.group_placement import every_gap, gap_pending
from detectors.shared.model_bridge import ModelPass
from detectors.shared.moodle_roster import Roster

# Refusals that are no fault: deliberate (R3.5), or a closed year / cancelled IA (R7, R3.6).
NOT_FAULTS = frozenset({"outgoing_exchange", "year_inactive", "ia_cancelled"})
_AUDIENCE: dict[str, Fixer] = {
    "scolarite": "scolarite",
    "teachers": "teachers",
    "cemu": "cemu",
    "oncall": "cemu",
}


def _cod_cmp(model: ModelPass, cod_elp: str | None) -> str | None:
    if cod_elp is None:
        return None
    elp = model.facts.elps.get(cod_elp) or model.facts.deleted_elps.get(cod_elp)
    return elp.cod_cmp if elp is not None else None


def refusal_point(model: ModelPass, refusals: Sequence[Refusal]) -> Point:
    """One cause on one ELP, for everybody it refuses (R3-R6)."""
    first = refusals[0]
    info = CAUSES[first.cause]
    people = tuple(sorted({r.who for r in refusals}))
    where = f"le cours {first.course_idnumber}" if first.course_idnumber else "aucun cours"
    s = "" if len(people) == 1 else "s"
    if first.role == "teacher":
        whom = f"l'enseignant {people[0]} n'est" if not s else f"{len(people)} enseignants ne sont"
        text = f"{info.title} : {whom} pas inscrit{s} comme enseignant{s} dans {where}"
    else:
        group = f" (groupe {first.group_id})" if first.group_id and not s else ""
        on = f"inscrit{s} pédagogiquement à {first.cod_elp}{group}"
        whom = f"l'étudiant {people[0]}" if not s else f"{len(people)} étudiants"
        verb = "n'est" if not s else "ne sont"
        lost = (
            f"pas inscrit{s} dans" if info.blocks == "enrolment" else f"inscrit{s} sans groupe dans"
        )
        text = f"{info.title} : {whom}, {on}, {verb} {lost} {where}"
    newest = max(r.as_of for r in refusals)
    if model.pending(newest):
        text += f" (changement du {newest:%d/%m/%Y} : pris en compte par Ecampus cette nuit)"
    who, how = remedy(first.cause, _cod_cmp(model, first.cod_elp))
    return Point(
        info.rule,
        first.cause,
        text + ".",
        fault=first.cause not in NOT_FAULTS and not all(model.overlap_refusal(r) for r in refusals),
        fixer=who,
        how=how,
        people=people,
        evidence=evidence_of(info.rule, (*first.facts, *_group_facts(model, first))),
    )


def _group_facts(model: ModelPass, refusal: Refusal) -> tuple[object, ...]:
    """The IP's group and where its collection is attached, when the refusal does not show them."""
    ip = next((f for f in refusal.facts if isinstance(f, Ip)), None)
    group = model.facts.groups.get(ip.group_id) if ip is not None and ip.group_id else None
    if group is None or group in refusal.facts:
        return ()
    links = [c for c in model.facts.collection_links if c.collection == group.collection]
    return (group, *links)


def finding_point(finding: Finding) -> Point:
    """A course-level detector's finding, as diagnosis tells it."""
    rule = finding.evidence[0].rule if finding.evidence else ""
    return Point(
        rule,
        f"{finding.detector}:{finding.cause}",
        finding.summary,
        fault=True,
        pending=finding.pending_until_next_run,
        fixer=fixer(_AUDIENCE[finding.audience], finding.cod_cmp),
        how=finding.remediation,
        evidence=finding.evidence,
    )


def _absent(
    role: str, where: str, people: Sequence[tuple[str, datetime]], model: ModelPass
) -> list[Point]:
    """R9: expected people missing from Moodle, pending tonight or unexplained."""
    pending = tuple(sorted(w for w, as_of in people if model.pending(as_of)))
    late = tuple(sorted(w for w, as_of in people if not model.pending(as_of)))
    points: list[Point] = []
    if pending:
        who, how = remedy("pending")
        text = (
            f"{plural(len(pending), role + ' attendu')} dans {where} : modification récente, "
            f"{agree(len(pending), 'inscrit')} cette nuit"
        )
        points.append(Point("R9", "pending", text + ".", False, True, who, how, pending))
    if late:
        who, how = remedy("missing_after_run")
        text = (
            f"{plural(len(late), role + ' attendu')} dans {where} d'après des données antérieures "
            f"à la dernière synchronisation, mais {agree(len(late), 'absent')} d'Ecampus"
        )
        points.append(Point("R3", "missing_after_run", text + ".", True, False, who, how, late))
    return points


def course_differences(model: ModelPass, roster: Roster, course: ExpectedCourse) -> list[Point]:
    """The course in Moodle against the model: who is there as expected, missing, or extra."""
    if not roster.available:
        return [_not_compared()]
    moodle = model.facts.courses.get(course.course_id) if course.course_id is not None else None
    if moodle is None or moodle.archived:
        return []  # R1/R2: created or unarchived tonight (a course action says so)
    where = f"le cours {course.idnumber}"
    present = roster.students(moodle.course_id)
    expected = {c: s for c, s in course.students.items() if not s.overlap_only or c in present}
    teachers_in = roster.teacher_ids_in(moodle.course_id)
    fine = len(present & expected.keys())
    placed = len(teachers_in & course.teachers.keys())
    points: list[Point] = []
    if fine or placed:
        text = (
            f"{plural(fine, 'étudiant')} et {plural(placed, 'enseignant')} inscrits comme attendu "
            f"dans {where}."
        )
        points.append(Point("R3", "enrolled", text, False))
    missing = [(s.cod_etu, s.as_of) for c, s in expected.items() if c not in present]
    points += _absent("étudiant", where, missing, model)
    teachers = [
        (t.teacher, t.as_of) for t in course.teachers.values() if t.teacher not in teachers_in
    ]
    points += _absent("enseignant", where, teachers, model)
    refused = {r.who: r for r in course.refusals if r.role == "student" and r.blocks == "enrolment"}
    extra = sorted(present - expected.keys())
    leaving = tuple(w for w in extra if w in refused and model.pending(refused[w].as_of))
    if leaving:
        text = (
            f"{plural(len(leaving), 'étudiant')} {agree(len(leaving), 'sera désinscrit', 'seront désinscrits')} de {where} cette nuit "
            "(changement récent dans APOGÉE)."
        )
        points.append(Point("R9", "pending", text, False, True, *remedy("pending"), leaving))
    stale = tuple(w for w in extra if w in refused and w not in leaving)
    if stale:
        causes = ", ".join(sorted({in_sentence(CAUSES[refused[w].cause].title) for w in stale}))
        text = (
            f"{plural(len(stale), 'étudiant')} encore {agree(len(stale), 'inscrit')} par base de données dans {where} alors "
            f"que la dernière synchronisation aurait dû l'appliquer ({causes})."
        )
        points.append(
            Point("R3", "not_expected", text, True, False, *remedy("not_expected"), stale)
        )
    unexplained = tuple(w for w in extra if w not in refused)
    if unexplained:
        text = (
            f"{plural(len(unexplained), 'étudiant inscrit')} par base de données dans {where} sans "
            "qu'aucune inscription pédagogique ne les y mène."
        )
        points.append(
            Point("R3", "not_expected", text, True, False, *remedy("not_expected"), unexplained)
        )
    points += _extra_teachers(model, roster, course, where)
    return points


def _extra_teachers(
    model: ModelPass, roster: Roster, course: ExpectedCourse, where: str
) -> list[Point]:
    assert course.course_id is not None
    planned = course.teachers.keys()
    placed = roster.teachers(course.course_id)
    extra = tuple(sorted(p.user for p in placed if not roster.teacher_ids(p.user) & planned))
    if not extra:
        return []
    if model.in_overlap:
        text = (
            f"{plural(len(extra), 'enseignant inscrit')} dans {where} sans planification : attendu "
            "pendant le tuilage avec l'année précédente (jusqu'à fin septembre)."
        )
        return [Point("R7", "teacher_overlap", text, False, people=extra)]
    who, how = remedy("teacher_not_planned_enrolled", course.elp.cod_cmp)
    text = (
        f"{plural(len(extra), 'enseignant inscrit')} par base de données dans {where} sans "
        "planification ADE valide."
    )
    return [Point("R6", "teacher_not_planned_enrolled", text, True, False, who, how, extra)]


def _not_compared() -> Point:
    text = "Comptes numériques non chargés : impossible de comparer avec les inscriptions Moodle."
    return Point("R3", "moodle_not_compared", text, False)


def _enrolled(
    model: ModelPass, roster: Roster, course_idnumber: str | None, who: str, *, teacher: bool
) -> bool | None:
    """Whether Moodle has ``who`` in the course by the database method (None: cannot tell)."""
    course = model.course(course_idnumber) if course_idnumber is not None else None
    if not roster.available or course is None or course.course_id is None:
        return None
    if teacher:
        return who in roster.teacher_ids_in(course.course_id)
    return who in roster.students(course.course_id)


def _granted(
    model: ModelPass, present: bool | None, what: str, as_of: datetime, role: str
) -> Point:
    if present is None:
        return Point("R3", "expected", f"{what} (comparaison avec Moodle impossible).", False)
    if present:
        return Point("R3", "enrolled", f"{what} : c'est le cas dans Ecampus.", False)
    if model.pending(as_of):
        text = f"{what} : modification du {as_of:%d/%m/%Y}, {role} sera inscrit cette nuit."
        return Point("R9", "pending", text, False, True, *remedy("pending"))
    text = f"{what}, mais absent d'Ecampus : les données précèdent la dernière synchronisation."
    return Point("R3", "missing_after_run", text, True, False, *remedy("missing_after_run"))


def verdict_points(model: ModelPass, roster: Roster, verdict: IpVerdict) -> list[Point]:
    """One IP: the enrolment it gives (and whether Moodle has it), or why not."""
    ip = verdict.ip
    present = _enrolled(model, roster, verdict.course_idnumber, ip.cod_etu, teacher=False)
    facts = evidence_of("R3", (ip,))
    points: list[Point] = []
    if verdict.enrolled:
        group = f", groupe {verdict.group_id}" if verdict.group_id else ", sans groupe"
        what = (
            f"L'IP de {ip.cod_etu} sur {ip.cod_elp} donne l'inscription dans le cours "
            f"{verdict.course_idnumber}{group}"
        )
        if verdict.overlap_only and present is False:
            text = f"{what} jusqu'à la fin du tuilage (R7) ; absent d'Ecampus."
            point = Point("R7", "overlap_only", text, False)
        else:
            point = _granted(model, present, what, verdict.as_of, "l'étudiant")
        points.append(replace(point, people=(ip.cod_etu,), evidence=facts))
    points += [refusal_point(model, [r]) for r in verdict.refusals]
    if not verdict.enrolled and present:
        newest = max((r.as_of for r in verdict.refusals), default=ip.as_of)
        pending = model.pending(newest)
        cause = "pending" if pending else "not_expected"
        outcome = (
            "il en sera désinscrit cette nuit."
            if pending
            else "la dernière synchronisation aurait dû l'en retirer."
        )
        text = (
            f"{ip.cod_etu} est encore inscrit dans le cours {verdict.course_idnumber} : {outcome}"
        )
        points.append(
            Point("R9" if pending else "R3", cause, text, not pending, pending, *remedy(cause))
        )
    return points


def group_points(
    model: ModelPass, course: ExpectedCourse, cod_etu: str | None = None
) -> list[Point]:
    """Moodle group memberships against APOGÉE's (seed: "pas affecté dans le bon groupe")."""
    points: list[Point] = []
    for gap in every_gap(model, course):
        if cod_etu is not None and gap.cod_etu != cod_etu:
            continue
        pending = gap_pending(model, gap)
        expected = ", ".join(sorted(gap.expected))
        placed = ", ".join(sorted(gap.placed)) or "aucun groupe"
        text = (
            f"{gap.cod_etu} est dans le cours {course.idnumber}, mais dans {placed} au lieu de "
            f"{expected} (groupe de son inscription pédagogique dans APOGÉE)"
        )
        if pending:
            text += " : modification récente, le groupe sera corrigé cette nuit"
            who, how = remedy("pending")
        else:
            who, how = remedy(gap.kind)
        point = Point(
            "R9" if pending else "R3.2",
            "pending" if pending else gap.kind,
            text + ".",
            fault=not pending,
            pending=pending,
            fixer=who,
            how=how,
            people=(gap.cod_etu,),
        )
        points.append(point)
    return points


def fiche_points(
    model: ModelPass, roster: Roster, ctx: ModelContext, fiche: AdeFiche, teacher: str
) -> list[Point]:
    """One ADE fiche for one teacher (R6): enrolled in its ELP's course, or why not."""
    verdict = evaluate_fiche(ctx, fiche)
    granted = verdict.teachers.get(teacher)
    if granted is None:
        return [refusal_point(model, [r]) for r in verdict.refusals if r.who == teacher]
    present = _enrolled(model, roster, verdict.course_idnumber, teacher, teacher=True)
    what = (
        f"La fiche ADE {fiche.fiche_id} planifie {teacher} : inscription comme enseignant dans "
        f"le cours {verdict.course_idnumber}"
    )
    point = _granted(model, present, what, granted.as_of, "l'enseignant")
    planned = [s for s in model.facts.sessions_of_fiche(fiche.fiche_id) if teacher in s.teachers]
    return [replace(point, people=(teacher,), evidence=evidence_of("R6", (fiche, *planned[:3])))]
