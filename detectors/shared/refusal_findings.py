"""Findings the enrolment detectors share, grouped the way people act on them.

Two shapes: the model's refusals, one finding per ELP (or ADE fiche) and
cause (``students_not_enrolled``, ``group_missing``, ``teacher_missing``, and
the causes of ``enrolments_lost``); and people the model enrols who are absent
from a course after a run (``missing_after_run``, for CEMU). A refusal's
subject is the ELP of its IP or fiche (a porté keeps its own code: that is
where scolarité fixes it), else the ADE fiche made only in ADE. People's ids
(``cod_etu``, ADE teacher ids) appear only in the evidence, never in a title
or a subject.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from detectors.base import DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import AdeFiche, Elp, Ia, Ip
from detectors.findings import Evidence, Finding, Phase, Severity
from detectors.model import CAUSES, Cause, ExpectedCourse, Refusal
from detectors.model.describe import describe_fact
from detectors.shared.model_bridge import Around, ModelPass
from detectors.shared.moodle_roster import Roster, moodle_roster
from detectors.shared.people import people_summary, person_row
from detectors.shared.run_lines import lines_about
from detectors.shared.severity import at_most, course_severity
from detectors.state import FactSet

# Course-level facts are shown for this many refusals; the people table is
# always complete.
DETAILED = 30

# The model's refusals carry the model's causes (``detectors.model.causes``); this one is
# the absence nothing known explains, found by ``absent_finding``.
OWN_CAUSES = (DeclaredCause("missing_after_run", "Absents d'Ecampus sans cause connue", "cemu"),)


def subject_of(refusal: Refusal) -> str:
    """The ELP the refused IP or fiche is on, else the ADE fiche itself."""
    if refusal.cod_elp is not None:
        return refusal.cod_elp
    fiche = next((f for f in refusal.facts if isinstance(f, AdeFiche)), None)
    return fiche.fiche_id if fiche is not None else refusal.who


@dataclass(frozen=True, slots=True)
class RefusalGroup:
    """Refusals of one cause on one subject: the people concerned and when it happened."""

    subject: str
    cause: Cause
    refusals: tuple[Refusal, ...]

    @property
    def cod_elp(self) -> str | None:
        return self.refusals[0].cod_elp

    @property
    def course_idnumber(self) -> str | None:
        return self.refusals[0].course_idnumber

    @property
    def people(self) -> list[str]:
        return sorted({r.who for r in self.refusals})

    def pending(self, model: ModelPass) -> bool:
        """R9: every fact shown is younger than the last completed run: tonight settles it."""
        return all(model.pending(r.as_of) for r in self.refusals)


def group_refusals(
    refusals: Iterable[Refusal], keep: Callable[[Refusal], bool]
) -> list[RefusalGroup]:
    """Refusals kept by ``keep``, one group per subject and cause, in subject order."""
    grouped: dict[tuple[str, Cause], list[Refusal]] = {}
    for refusal in refusals:
        if keep(refusal):
            grouped.setdefault((subject_of(refusal), refusal.cause), []).append(refusal)
    return [
        RefusalGroup(subject, cause, tuple(found))
        for (subject, cause), found in sorted(grouped.items())
    ]


@dataclass(frozen=True, slots=True)
class Wording:
    """What a finding says to its audience, in French."""

    title: str
    summary: str
    remediation: str


def phase_of(pending: bool) -> Phase:
    return "predicted" if pending else "occurred"


def elp_of(facts: FactSet, cod_elp: str | None) -> Elp | None:
    """The ELP as REFER shows it, or its last known row when deleted."""
    if cod_elp is None:
        return None
    return facts.elps.get(cod_elp) or facts.deleted_elps.get(cod_elp)


def elp_label(facts: FactSet, code: str) -> str:
    """``RCAED334 « label »`` for titles, or the bare code."""
    elp = elp_of(facts, code)
    return f"{code} « {elp.label} »" if elp is not None and elp.label else code


def _group_of(refusal: Refusal) -> str | None:
    if refusal.group_id is not None:
        return refusal.group_id
    ip = next((f for f in refusal.facts if isinstance(f, Ip)), None)
    return ip.group_id if ip is not None else None


def refusal_evidence(facts: FactSet, refusals: Sequence[Refusal]) -> tuple[Evidence, ...]:
    """The facts common to the refusals once, in French, then one table row per person.

    A reason shared by every refusal is said once; the course-level facts (ELP,
    groups, collections, ADE fiches and sessions) of the first ``DETAILED``
    refusals once each; people's own facts (IP, IA) stay in their rows.
    """
    if not refusals:
        return ()
    rule = refusals[0].rule
    texts = {r.text for r in refusals}
    lines: list[Evidence] = []
    if len(texts) == 1:
        lines.append(Evidence(rule, refusals[0].text, max(r.as_of for r in refusals)))
    seen: set[str] = set()
    for refusal in refusals[:DETAILED]:
        for fact in refusal.facts:
            if isinstance(fact, Ip | Ia):
                continue
            said = describe_fact(fact)
            if said not in seen:
                seen.add(said)
                lines.append(Evidence(rule, said, fact.as_of))
    rows: dict[str, Evidence] = {}
    for refusal in refusals:
        if refusal.who not in rows:
            rows[refusal.who] = person_row(
                facts, refusal.rule, refusal.who, refusal.text, refusal.as_of, _group_of(refusal)
            )
    return (*lines, *(rows[who] for who in sorted(rows)))


def refusal_finding(
    detector: str,
    model: ModelPass,
    group: RefusalGroup,
    config: DetectorConfig,
    say: Callable[[FactSet, RefusalGroup, bool], Wording],
    *,
    people: str,
    ceiling: Severity = "critical",
) -> Finding:
    """One finding for a group of refusals; ``say`` words it, knowing whether it is pending."""
    facts = model.facts
    course = group.course_idnumber
    expected = model.course(course) if course is not None else None
    course_id = expected.course_id if expected is not None else None
    count = len(group.people)
    pending = group.pending(model)
    wording = say(facts, group, pending)
    elp = elp_of(facts, group.cod_elp)
    severity = course_severity(
        facts,
        count,
        course,
        course_id,
        model.now,
        critical_affected=config.critical_affected,
        soon=config.severity_soon,
    )
    return Finding(
        detector=detector,
        subject=group.subject,
        cause=group.cause,
        title=wording.title,
        summary=wording.summary,
        remediation=wording.remediation,
        severity=at_most(severity, ceiling),
        # A hypothesis of the seed (IA replaced) is CEMU's and the DSI's, not the scolarité's
        # (``ia_replacement_audience`` may send it to the scolarité instead).
        audience=config.ia_replacement_audience
        if CAUSES[group.cause].fixer == "cemu_dsi"
        else "scolarite",
        phase=phase_of(pending),
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=group.cod_elp,
        course_id=course_id,
        affected_count=count,
        pending_until_next_run=pending,
        evidence=(
            people_summary(group.refusals[0].rule, people, group.people),
            *refusal_evidence(facts, group.refusals),
            *lines_about(facts, group.cod_elp, model.now),
        ),
    )


def absent_finding(
    detector: str,
    model: ModelPass,
    course: ExpectedCourse,
    absent: Sequence[tuple[str, str, datetime]],
    config: DetectorConfig,
    wording: Wording,
    *,
    rule: str,
    people: str,
) -> Finding:
    """People the model enrols (who, why, since when) absent from the course after a run: CEMU."""
    names = sorted(who for who, _, _ in absent)
    facts = model.facts
    rows = [person_row(facts, rule, who, why, since) for who, why, since in sorted(absent)]
    severity = course_severity(
        facts,
        len(names),
        course.idnumber,
        course.course_id,
        model.now,
        critical_affected=config.critical_affected,
        soon=config.severity_soon,
    )
    return Finding(
        detector=detector,
        subject=course.idnumber,
        cause="missing_after_run",
        title=wording.title,
        summary=wording.summary,
        remediation=wording.remediation,
        severity=severity,
        audience="cemu",
        cod_cmp=course.elp.cod_cmp,
        cod_elp=course.idnumber,
        course_id=course.course_id,
        affected_count=len(names),
        evidence=(
            people_summary(rule, people, names),
            Evidence("R9", "début de la dernière synchronisation réussie", model.horizon),
            *rows,
        ),
    )


class _Expected(Protocol):
    @property
    def as_of(self) -> datetime: ...

    @property
    def overlap_only(self) -> bool: ...


E = TypeVar("E", bound=_Expected)


def absent_after_run(
    model: ModelPass,
    roster: Roster,
    course: ExpectedCourse,
    expected: Iterable[E],
    name: Callable[[E], str],
    present_in: Callable[[int], AbstractSet[str]],
) -> list[E]:
    """People the model enrols since before the last run (R9), with an account, absent from Moodle.

    The course must exist and not be archived (else R1/R2 act tonight);
    previous-year people during the overlap are expected differences (R7).
    """
    moodle = model.facts.courses.get(course.course_id) if course.course_id is not None else None
    if moodle is None or moodle.archived:
        return []
    present = present_in(moodle.course_id)
    absent: list[E] = []
    for person in expected:
        who = name(person)
        if who in present or person.overlap_only:
            continue
        since = roster.enrollable_since(who, person.as_of)
        if since is not None and not model.pending(since):
            absent.append(person)
    return absent


@dataclass(frozen=True, slots=True)
class AbsentAfterRun(Generic[E]):
    """How a detector finds the people the model enrols but Moodle does not, after a run."""

    expected: Callable[[ExpectedCourse], Iterable[E]]
    name: Callable[[E], str]
    present_in: Callable[[Roster], Callable[[int], AbstractSet[str]]]
    finding: Callable[[ModelPass, ExpectedCourse, Sequence[E], DetectorConfig], Finding]


@dataclass(frozen=True, slots=True)
class RefusalDetector(Generic[E]):
    """The body the "refusals become findings" detectors share.

    The model's refusals that ``keep`` retains, one finding per subject and cause
    worded by ``say``; then, when the accounts name Moodle users and ``absent``
    is given, one ``missing_after_run`` finding per course (R9).
    """

    name: str
    keep: Callable[[ModelPass, Roster, Refusal], bool]
    say: Callable[[FactSet, RefusalGroup, bool], Wording]
    people: str
    ceiling: Severity = "critical"
    absent: AbsentAfterRun[E] | None = None

    def findings(self, model: ModelPass, around: Around, config: DetectorConfig) -> list[Finding]:
        roster = moodle_roster(model.facts)
        groups = group_refusals(around.refusals(), lambda r: self.keep(model, roster, r))
        found = [
            refusal_finding(
                self.name,
                model,
                group,
                config,
                self.say,
                people=self.people,
                ceiling=self.ceiling,
            )
            for group in groups
        ]
        if self.absent is None or not roster.available:
            return found
        absent = self.absent
        for course in around.courses:
            missing = absent_after_run(
                model,
                roster,
                course,
                absent.expected(course),
                absent.name,
                absent.present_in(roster),
            )
            if missing:
                found.append(absent.finding(model, course, missing, config))
        return found
