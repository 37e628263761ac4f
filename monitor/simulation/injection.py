"""What an injector works with: the simulation's state, one fault's context, and target picking.

Each fault gets its own ELP, student, course or teacher: a target once used is
never touched again, by another fault or by the day-to-day traffic, so every
alert the ground truth announces has exactly one cause.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from detectors.facts import Elp, MoodleCourse
from detectors.model import ModelConfig
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.faults import TruthRecord
from monitor.simulation.organisation import ElpKind
from monitor.simulation.university import University

T = TypeVar("T")


class NoTarget(RuntimeError):
    """No unused ELP, student or course fits this fault: use a bigger scale or fewer faults."""


@dataclass
class Used:
    """Targets already taken by a fault (background traffic avoids them too)."""

    elps: set[str] = field(default_factory=set)
    students: set[str] = field(default_factory=set)
    courses: set[int] = field(default_factory=set)
    teachers: set[str] = field(default_factory=set)
    composantes: set[str] = field(default_factory=set)


@dataclass
class SimState:
    """Everything that lives across the days of one simulation."""

    uni: University
    rng: random.Random
    cal: AcademicCalendar
    model_config: ModelConfig
    used: Used = field(default_factory=Used)
    # lmsjonction quirk (too_many_teachers): fiches whose associated team it enrols.
    team_enrolled_fiches: set[str] = field(default_factory=set)
    # Courses a fault keeps hidden or dated: teachers do not "fix" them the next morning.
    untouchable_courses: set[int] = field(default_factory=set)
    student_ids: list[str] = field(default_factory=list)  # cached for random picks
    # ELP code -> (fault id, fault) whose night creates a new course for it (hidden until shown).
    course_created_for: dict[str, tuple[str, str]] = field(default_factory=dict)

    def porteurs(self) -> set[str]:
        return {e.porteur for e in self.uni.elps.values() if e.porteur is not None}


@dataclass
class Injection:
    """One fault being injected at ``at``; collects its ground-truth records."""

    state: SimState
    fault_id: str
    fault: str
    at: datetime
    records: list[TruthRecord] = field(default_factory=list)

    @property
    def uni(self) -> University:
        return self.state.uni

    @property
    def rng(self) -> random.Random:
        return self.state.rng

    def record(
        self, detector: str, cause: str, subject: str, *, primary: bool = True, **ids: Any
    ) -> None:
        self.records.append(
            TruthRecord(
                self.fault_id, self.fault, primary, detector, cause, self.at, subject, **ids
            )
        )

    def pick(self, candidates: Iterable[T], what: str) -> T:
        ordered = list(candidates)
        if not ordered:
            raise NoTarget(
                f"{self.fault}: no unused {what} left (use a bigger scale or fewer faults)"
            )
        return ordered[self.rng.randrange(len(ordered))]

    def calm_elps(
        self,
        kinds: Iterable[ElpKind] = ("real", "pseudo"),
        where: Callable[[Elp], bool] | None = None,
        *,
        with_students: bool = True,
    ) -> list[Elp]:
        """Unused, open, not porté, not porteur ELPs of ``kinds`` whose course has students."""
        uni, used = self.uni, self.state.used
        wanted = set(kinds)
        porteurs = self.state.porteurs()
        found = []
        for code in sorted(uni.elps):
            elp = uni.elps[code]
            if (
                code in used.elps
                or code in porteurs
                or uni.elp_kind.get(code) not in wanted
                or elp.status != "open"
                or (where is not None and not where(elp))
            ):
                continue
            course = uni.live_course(code)
            if course is None or course.course_id in used.courses:
                continue
            if uni.instances_of(course.course_id, "cohort"):
                continue  # archived or emptied, its cohort sync would raise an alert of its own
            if with_students and not uni.database_users(course.course_id):
                continue
            found.append(elp)
        return found

    def take_elp(self, elp: Elp) -> MoodleCourse:
        """Mark the ELP, its course and its students as used; return the course."""
        used = self.state.used
        used.elps.add(elp.cod_elp)
        used.students.update(self.uni.ips_by_elp.get(elp.cod_elp, ()))
        course = self.uni.live_course(elp.cod_elp)
        assert course is not None
        used.courses.add(course.course_id)
        return course

    def etape_kind(self, cod_elp: str) -> str:
        return self.uni.etapes[self.uni.elp_etape[cod_elp]].kind

    def planned_teachers(self, cod_elp: str) -> set[str]:
        """Teachers planned in a session of any fiche of the ELP."""
        uni = self.uni
        return {
            teacher
            for fiche_id in uni.fiches_by_elp.get(cod_elp, ())
            for session_id in uni.sessions_by_fiche.get(fiche_id, ())
            for teacher in uni.sessions[session_id].teachers
        }

    def stranger_teacher(self, elp: Elp) -> str:
        """A teacher of the composante with nothing planned or associated on this ELP."""
        known = self.planned_teachers(elp.cod_elp) | {
            t
            for f in self.uni.fiches_by_elp.get(elp.cod_elp, ())
            for t in self.uni.fiches[f].teachers
        }
        pool = self.uni.teachers_by_cmp[elp.cod_cmp]
        teacher = self.pick(
            (t for t in pool if t not in known and t not in self.state.used.teachers), "teacher"
        )
        self.state.used.teachers.add(teacher)
        return teacher


Injector = Callable[[Injection], None]
