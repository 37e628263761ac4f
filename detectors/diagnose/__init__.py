"""Answer a support ticket from the state alone: rules, dated facts, R9, who fixes what, and how.

Seed, "créer un ticket d'assistance": a ticket gives an APOGÉE course code,
a student number and/or a teacher. ``diagnose`` replays the sync-rule model
on them (``expected_for_elp`` through ``ModelPass.course``,
``expected_for_student``, ``evaluate_fiche``), compares with Moodle
(``moodle_roster``: needs the accounts that name Moodle users), says what
tonight's run will settle (R9, "sera corrigé cette nuit"), and adds the
course-level detectors' findings (hidden, ended early, idnumber edited,
forgotten cohort sync). French words: ``diagnose_text``; people against
Moodle: ``diagnose_people``.

What ``monitor`` must load (``load_facts(conn, codes)``, plus accounts):
for a course, its neighbourhood; for a student, the neighbourhood of every
ELP they have an IP on; for a teacher, of every ELP of the ADE fiches that
associate or plan them; in every case the accounts of the people concerned
and of the users enrolled in those courses (without accounts, Moodle is not
compared and the diagnosis says so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from detectors.base import Detector, DetectorConfig
from detectors.diagnose.course import (
    course_life_points,
    enrolments_point,
    person_points,
    users_of,
)
from detectors.diagnose.people import (
    course_differences,
    fiche_points,
    finding_point,
    group_points,
    refusal_point,
    verdict_points,
)
from detectors.diagnose.people_search import PersonMatch
from detectors.diagnose.render import render_text as render_text
from detectors.diagnose.text import Point, action_point, remedy, standing_point
from detectors.known import (
    course_ended_early,
    course_hidden,
    course_idnumber_changed,
    forgotten_cohort_sync,
)
from detectors.known.course_archived import new_code_of
from detectors.model import Refusal, course_actions_for, expected_for_student
from detectors.model.context import ModelContext
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.shared.moodle_roster import Roster, moodle_roster
from detectors.state import FactSet

# Course settings the daily detectors judge: part of the answer about a course.
COURSE_DETECTORS: tuple[Detector, ...] = (
    course_hidden.DETECTOR,
    course_ended_early.DETECTOR,
    course_idnumber_changed.DETECTOR,
    forgotten_cohort_sync.DETECTOR,
)


class OpenAlert(Protocol):
    """What diagnosis reads from a stored alert (``alerts.repository.AlertRecord`` fits)."""

    @property
    def id(self) -> int: ...
    @property
    def detector(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def cause(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def cod_elp(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AlertRef:
    """An open alert concerned by the ticket."""

    id: int
    detector: str
    cause: str
    status: str
    title: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The answer to one ticket: every point found, and the open alerts concerned."""

    cod_elp: str | None
    cod_etu: str | None
    teacher: str | None
    now: datetime
    timezone: str
    last_run: str | None
    horizon: datetime | None
    points: tuple[Point, ...]
    alerts: tuple[AlertRef, ...] = ()
    person: str | None = None  # who a name, email or login found

    @property
    def faults(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.fault)

    @property
    def pending_tonight(self) -> bool:
        """R9: a difference here will be settled by tonight's run."""
        return any(p.pending for p in self.points)

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form, for ``GET /diagnose``."""
        return {
            "course": self.cod_elp,
            "student": self.cod_etu,
            "teacher": self.teacher,
            "person": self.person,
            "now": self.now.isoformat(),
            "last_completed_run": self.last_run,
            "last_run_started_at": self.horizon.isoformat() if self.horizon else None,
            "pending_tonight": self.pending_tonight,
            "faults": len(self.faults),
            "points": [p.to_dict() for p in self.points],
            "open_alerts": [
                {
                    "id": a.id,
                    "detector": a.detector,
                    "cause": a.cause,
                    "status": a.status,
                    "title": a.title,
                }
                for a in self.alerts
            ],
            "text": render_text(self),
        }


def _course(
    model: ModelPass,
    roster: Roster,
    ctx: ModelContext,
    cod_elp: str,
    *,
    config: DetectorConfig,
    detailed: bool,
) -> tuple[list[Point], set[str]]:
    """The ELP's standing, tonight's course actions, course settings, and (detailed) everybody."""
    facts, view = model.facts, ctx.elp(cod_elp)
    points = [standing_point(view)]
    codes = {cod_elp} | ({view.course_idnumber} if view.course_idnumber else set())
    for code in sorted(codes):
        points += [action_point(model, a) for a in course_actions_for(facts, code, model.config)]
    points += course_life_points(
        facts, codes, model.now, config, lambda code: new_code_of(facts, code)
    )
    for detector in COURSE_DETECTORS:
        found = detector.detect(facts, now=model.now, scope=sorted(codes), config=config)
        points += [finding_point(f) for f in found]
    course = model.course(view.course_idnumber) if view.course_idnumber else None
    if detailed and course is not None:
        porte = view.standing == "porte"
        by_cause: dict[tuple[str, str], list[Refusal]] = {}
        for refusal in course.refusals:
            if (porte and refusal.cod_elp != cod_elp) or model.overlap_refusal(refusal):
                continue
            by_cause.setdefault((refusal.cause, refusal.cod_elp or ""), []).append(refusal)
        points += [refusal_point(model, group) for _, group in sorted(by_cause.items())]
        points += course_differences(model, roster, course)
        points += group_points(model, course)
    return points, codes


def _student(
    model: ModelPass, roster: Roster, cod_etu: str, cod_elp: str | None
) -> tuple[list[Point], set[str]]:
    """Every IP of the student (on ``cod_elp`` or reaching its course, when given)."""
    expectation = expected_for_student(model.facts, cod_etu, model.now, model.config)
    verdicts = [
        v
        for v in expectation.verdicts
        if cod_elp is None or cod_elp in (v.ip.cod_elp, v.course_idnumber)
    ]
    codes = {v.ip.cod_elp for v in verdicts} | {
        v.course_idnumber for v in verdicts if v.course_idnumber
    }
    if not verdicts:
        where = f" sur {cod_elp}" if cod_elp else ""
        text = (
            f"Aucune inscription pédagogique de {cod_etu}{where} dans REFER : la méthode par "
            "base de données ne l'inscrit dans aucun cours."
        )
        who, how = remedy("no_ip")
        return [Point("R3.1", "no_ip", text, True, fixer=who, how=how, people=(cod_etu,))], codes
    points = [p for v in verdicts for p in verdict_points(model, roster, v)]
    for idnumber in sorted({v.course_idnumber for v in verdicts if v.course_idnumber}):
        course = model.course(idnumber)
        if course is not None:
            points += group_points(model, course, cod_etu)
    return points, codes


def _teacher(
    model: ModelPass, roster: Roster, ctx: ModelContext, teacher: str, cod_elp: str | None
) -> tuple[list[Point], set[str]]:
    """Every ADE fiche associating or planning the teacher (R6)."""
    facts = model.facts
    ids = {f.fiche_id for f in facts.fiches.values() if teacher in f.teachers}
    ids |= {s.fiche_id for s in facts.sessions if teacher in s.teachers}
    fiches = [facts.fiches[i] for i in sorted(ids) if i in facts.fiches]
    if cod_elp is not None:
        fiches = [
            f
            for f in fiches
            if f.cod_elp is not None and cod_elp in (f.cod_elp, ctx.elp(f.cod_elp).course_idnumber)
        ]
    codes = {f.cod_elp for f in fiches if f.cod_elp}
    if not fiches:
        where = f" sur {cod_elp}" if cod_elp else ""
        text = (
            f"Aucune fiche ADE n'associe ni ne planifie {teacher}{where} : pas d'inscription (R6)."
        )
        who, how = remedy("no_planning")
        return [
            Point("R6", "no_planning", text, True, fixer=who, how=how, people=(teacher,))
        ], codes
    return [p for f in fiches for p in fiche_points(model, roster, ctx, f, teacher)], codes


def _concerned(
    alerts: Sequence[OpenAlert], codes: Collection[str], keys: Collection[str]
) -> tuple[AlertRef, ...]:
    return tuple(
        AlertRef(a.id, a.detector, a.cause, a.status, a.title)
        for a in alerts
        if (a.cod_elp is not None and a.cod_elp in codes) or a.subject in keys
    )


def _labelled(points: Sequence[Point]) -> tuple[Point, ...]:
    """The points with their cause's French label, from the catalogue of every declared cause."""
    from detectors.registry import CAUSES  # the registry collects this package's causes too

    labels = CAUSES.labels()
    # A detector's finding shown as a point is "detector:cause".
    return tuple(
        dataclasses.replace(p, cause_label=labels.get(p.cause.rpartition(":")[2], ""))
        for p in points
    )


def diagnose(
    facts: FactSet,
    *,
    now: datetime,
    config: DetectorConfig,
    cod_elp: str | None = None,
    cod_etu: str | None = None,
    teacher: str | None = None,
    open_alerts: Sequence[OpenAlert] = (),
    person: PersonMatch | None = None,
) -> Diagnosis:
    """Which rules apply to the ticket's course, student or teacher, and what to do (French)."""
    if not (cod_elp or cod_etu or teacher):
        raise ValueError("a diagnosis needs a course (cod_elp), a student (cod_etu) or a teacher")
    model = model_pass(facts, now, config)
    roster = moodle_roster(facts)
    ctx = ModelContext(facts, now, model.config)
    points: list[Point] = person_points(person)
    codes: set[str] = set()
    if cod_elp:
        detailed = cod_etu is None and teacher is None
        found, seen = _course(model, roster, ctx, cod_elp, config=config, detailed=detailed)
        points += found
        codes |= seen
    if cod_etu:
        found, seen = _student(model, roster, cod_etu, cod_elp)
        points += found
        codes |= seen
        if not cod_elp:  # the student's courses: hidden, archived, never created
            points += course_life_points(
                facts, seen, now, config, lambda code: new_code_of(facts, code)
            )
        points.append(enrolments_point(facts, users_of(facts, cod_etu), cod_etu, config))
    if teacher:
        found, seen = _teacher(model, roster, ctx, teacher, cod_elp)
        points += found
        codes |= seen
    run = facts.last_completed_run(before=now)
    keys = {k for k in (cod_elp, cod_etu, teacher) if k}
    return Diagnosis(
        cod_elp=cod_elp,
        cod_etu=cod_etu,
        teacher=teacher,
        now=now,
        timezone=config.timezone,
        last_run=run.run_id if run is not None else None,
        horizon=model.horizon,
        points=_labelled(points),
        alerts=_concerned(open_alerts, codes | keys, keys),
        person=person.describe() if person is not None else None,
    )
