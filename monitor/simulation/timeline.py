"""Nights: a clean university lives through N days of edits and N nightly runs, as events.

``Simulation(...).events()`` yields, in source-time order:

1. the snapshot (Debezium op ``r``) of REFER, ADE and Moodle at 00:00 of the
   start day, then the night-0 run (nothing to do: the university is clean);
2. for each day: the APOGÉE/ADE/Moodle edits of the day (background traffic
   and the scheduled faults, 08:00-18:30 local), then the night's run: its
   "running" report, the Moodle changes the model asks for, the final report.

``truth`` fills up as the events are consumed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from detectors.model import ModelConfig, in_year_overlap
from monitor.config import SourceSettings
from monitor.kafka.events import OutgoingMessage
from monitor.kafka.mapping import sync_run_from_report
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.background import (
    ACTIONS,
    ADE_ACTIONS,
    HOURS,
    LATE_ACTIONS,
    LATE_EVENING,
    OFFICE_HOURS,
    reveal,
)
from monitor.simulation.codec import SourceCodec
from monitor.simulation.fault_kinds import FAULT_KINDS
from monitor.simulation.faults import FaultConfig, TruthRecord
from monitor.simulation.generator import StepCallback, generate_university
from monitor.simulation.inject_groups import restore_cemu_labels, warnings_spike
from monitor.simulation.injection import Injection, SimState
from monitor.simulation.lmsjonction import NightOptions, NightResult, run_night
from monitor.simulation.scale import Scale, scale_named
from monitor.simulation.schedule import ScheduleError, make_schedule
from monitor.simulation.seed_cases import reserve
from monitor.simulation.university import MOODLE_ENTITIES, SOURCE_ENTITIES, Edit

RUN_START = time(1, 30)
LATE_RUN_START = time(7, 5)
EVENING = (19, 0)  # checkpoints: after the day's edits, after the night's run (late ones too)
MORNING = (7, 45)
AHEAD = frozenset({"ahead", "continuous"})
AFTER_RUN = frozenset({"after_run", "daily", "continuous"})
DAILY = frozenset({"daily", "continuous"})  # a morning without run: no after-run pass
DEFAULT_START = date(2026, 10, 5)

Action = Callable[[SimState, datetime], None]


def run_id_of(night_date: date) -> str:
    return f"lmsjonction-{night_date:%Y%m%d}"


class Simulation:
    """A seeded university and the schedule of its days and nights."""

    def __init__(
        self,
        scale: Scale | str = "small",
        *,
        seed: int = 1,
        nights: int = 2,
        start: date = DEFAULT_START,
        faults: FaultConfig | None = None,
        sources: SourceSettings | None = None,
        timezone: str = "Europe/Paris",
        wrapped: bool = False,
        on_step: StepCallback | None = None,
    ) -> None:
        self.scale = scale_named(scale) if isinstance(scale, str) else scale
        self.faults = faults if faults is not None else FaultConfig()
        if (
            not self.faults.ia_replacement_defect
            and self.faults.students_not_enrolled.ia_cancelled_replaced
        ):
            raise ScheduleError("ia_cancelled_replaced faults need ia_replacement_defect: true")
        self.model_config = ModelConfig(
            ia_replacement_defect=self.faults.ia_replacement_defect, timezone=timezone
        )
        self.zone = ZoneInfo(timezone)
        self.snapshot_at = datetime.combine(start, time(0, 0), tzinfo=self.zone)
        self.uni = generate_university(
            self.scale, seed, self.snapshot_at, self.model_config, on_step
        )
        self._snapshot_size = sum(
            len(self.uni.tables[e]) for e in (*SOURCE_ENTITIES, *MOODLE_ENTITIES)
        )
        rng = random.Random(f"nights-{seed}")
        cal = AcademicCalendar.around(self.snapshot_at, self.model_config)
        self.state = SimState(self.uni, rng, cal, self.model_config)
        reserve(self.state)
        self.schedule = make_schedule(self.faults, nights, start, rng)
        self.codec = SourceCodec(sources or SourceSettings(), wrapped=wrapped)
        self.truth: list[TruthRecord] = []
        # Called after each day's edits and after each night with the moment and the
        # detectors' moments it stands for (see scoring.DetectorReplay).
        self.checkpoint: Callable[[datetime, frozenset[str]], None] | None = None
        self._created_last_night: tuple[int, ...] = ()
        self._spike_groups: list[str] = []
        self._faults_done = 0

    def topics(self) -> list[str]:
        return self.codec.topics()

    def snapshot_size(self) -> int:
        """Events of the snapshot (op ``r``): the rows of the university as generated, and
        exactly once the snapshot was produced (Moodle's side writes more rows than views)."""
        return self._snapshot_size

    def events(self) -> Iterator[OutgoingMessage]:
        yield from self._snapshot()
        yield from self._night(0)
        for day in range(1, self.schedule.nights + 1):
            yield from self._day(day)
            evening = self.state.cal.at(self.schedule.day_date(day), *EVENING)
            self._check(evening, AHEAD)
            yield from self._night(day)
            morning = self.state.cal.at(self.schedule.day_date(day + 1), *MORNING)
            self._check(morning, DAILY if self.schedule.trouble(day).missing else AFTER_RUN)

    def _check(self, moment: datetime, moments: frozenset[str]) -> None:
        if self.checkpoint is not None:
            self.checkpoint(moment, moments)

    def _snapshot(self) -> Iterator[OutgoingMessage]:
        count = 0
        for entity in (*SOURCE_ENTITIES, *MOODLE_ENTITIES):
            for fact in list(self.uni.tables[entity].values()):
                for message in self.codec.events(entity, "r", fact, self.snapshot_at):
                    count += 1
                    yield message
        # A Moodle view is several Moodle rows (users, contexts…): now the count is exact.
        self._snapshot_size = count

    def _edits(self, edits: list[Edit]) -> Iterator[OutgoingMessage]:
        for edit in edits:
            yield from self.codec.edit_events(edit)

    # --- days -------------------------------------------------------------------
    def _day(self, day: int) -> Iterator[OutgoingMessage]:
        state, rng = self.state, self.state.rng
        today = self.schedule.day_date(day)
        weekend = today.weekday() >= 5

        def when(first: int = 8 * 60, last: int = 18 * 60 + 30) -> datetime:
            minute = rng.randrange(first, last)
            return state.cal.at(today) + timedelta(minutes=minute, seconds=rng.randrange(60))

        actions: list[tuple[datetime, int, Action]] = []
        for name, action in ACTIONS.items():
            if name in ADE_ACTIONS and day in self.schedule.silent_days:
                continue
            count = getattr(self.scale, name)
            first, last = HOURS.get(name, OFFICE_HOURS)
            for number in range(max(1, count // 10) if weekend else count):
                if number == 0 and name in LATE_ACTIONS:
                    first = LATE_EVENING  # one late: Moodle never goes quiet for a whole night
                actions.append((when(first, last), len(actions), action))
                first = HOURS.get(name, OFFICE_HOURS)[0]
        for course_id in self._created_last_night:
            actions.append((when(8 * 60, 10 * 60), len(actions), reveal(course_id)))
        if self._spike_groups:
            fix = partial(restore_cemu_labels, group_ids=self._spike_groups)
            self._spike_groups = []
            actions.append((when(9 * 60, 12 * 60), len(actions), fix))
        for key in self.schedule.data_faults.get(day, []):
            actions.append((when(9 * 60, 18 * 60), len(actions), self._fault(key)))
        if self.schedule.trouble(day).spike:
            run_id = run_id_of(today + timedelta(days=1))
            actions.append((when(14 * 60, 18 * 60), len(actions), self._spike(run_id)))
        if day in self.schedule.silence_starts:
            self._run_fault(
                "silent_source",
                "source_silent",
                "source:ade",
                state.cal.at(today, 8),
                detail=f"no ADE change on {today} and the next day",
            )
        actions.sort(key=lambda item: (item[0], item[1]))
        self.uni.journal = []
        for at, _order, action in actions:
            action(state, at)
        edits, self.uni.journal = self.uni.journal, None
        yield from self._edits(edits)

    def _next_fault_id(self) -> str:
        self._faults_done += 1
        return f"fault-{self._faults_done:04d}"

    def _fault(self, key: str) -> Action:
        def inject(state: SimState, at: datetime) -> None:
            injection = Injection(state, self._next_fault_id(), key, at)
            FAULT_KINDS[key].inject(injection)
            self.truth.extend(injection.records)

        return inject

    def _spike(self, run_id: str) -> Action:
        def inject(state: SimState, at: datetime) -> None:
            key = "sync_run_health.warnings_spike"
            injection = Injection(state, self._next_fault_id(), key, at)
            self._spike_groups = warnings_spike(injection, run_id, self.faults.spike_students)
            self.truth.extend(injection.records)

        return inject

    def _run_fault(
        self,
        variant: str,
        cause: str,
        subject: str,
        at: datetime,
        *,
        run_id: str | None = None,
        detail: str = "",
    ) -> str:
        fault_id = self._next_fault_id()
        self.truth.append(
            TruthRecord(
                fault_id,
                f"sync_run_health.{variant}",
                True,
                "sync_run_health",
                cause,
                at,
                subject,
                run_id=run_id,
                detail=detail,
            )
        )
        return fault_id

    # --- nights -----------------------------------------------------------------
    def _night(self, night: int) -> Iterator[OutgoingMessage]:
        state = self.state
        night_date = self.schedule.start + timedelta(days=night)
        trouble = self.schedule.trouble(night)
        run_id = run_id_of(night_date)
        jitter = timedelta(minutes=state.rng.randrange(10))
        usual = state.cal.at(night_date, RUN_START.hour, RUN_START.minute) + jitter
        self._created_last_night = ()
        if trouble.missing:
            # sync_run_health names the night by the morning's local date.
            subject = f"night:{night_date.isoformat()}"
            self._run_fault("missing_run", "run_missing", subject, usual, detail="no run report")
            return
        started = usual
        if trouble.late:
            started = state.cal.at(night_date, LATE_RUN_START.hour, LATE_RUN_START.minute) + jitter
            local = started.astimezone(self.zone)
            self._run_fault(
                "late_run",
                "run_late",
                run_id,
                started,
                run_id=run_id,
                detail=f"started at {local:%H:%M}",
            )
        options = NightOptions(
            run_id,
            started,
            "failed" if trouble.failed else "success",
            self.model_config,
            frozenset(state.team_enrolled_fiches),
        )
        self.uni.journal = []
        result = run_night(self.uni, options, state.cal)
        edits, self.uni.journal = self.uni.journal, None
        self.uni.runs.append(sync_run_from_report(result.finished))
        if trouble.failed:
            self._failed_run_truth(run_id, started, result)
        self._hidden_course_truth(result, started)
        yield self.codec.report(result.started)
        yield from self._edits(edits)
        yield self.codec.report(result.finished)
        self._created_last_night = result.created_courses

    def _failed_run_truth(self, run_id: str, started: datetime, result: NightResult) -> None:
        """The failed run, and what it left undone, as the detectors see it the next morning.

        A failed run settles nothing (R9, ``SyncRun.completed``): what it would have
        enrolled stays pending until a run succeeds, so its one alert is ``run_failed``
        (no ``missing_after_run``, no team "associated, not planned" from it). Teachers
        it would have removed, enrolled without a valid planning since before it, are
        still ``too_many_teachers`` (outside the year overlap, R7).
        """
        fault_id = self._run_fault(
            "failed_run", "run_failed", run_id, started, run_id=run_id, detail="nothing applied"
        )
        left_undone: list[tuple[str, str, str]] = []
        if not in_year_overlap(started, self.model_config):
            left_undone.append(("teacher_removed", "too_many_teachers", "without_planning"))
        for what, detector, cause in left_undone:
            for idnumber in sorted(result.unapplied.get(what, ())):
                self.truth.append(
                    TruthRecord(
                        fault_id,
                        "sync_run_health.failed_run",
                        False,
                        detector,
                        cause,
                        started,
                        idnumber,
                        cod_elp=idnumber,
                        run_id=run_id,
                    )
                )

    def _hidden_course_truth(self, result: NightResult, started: datetime) -> None:
        """A course the night created for a fault's ELP stays hidden until a teacher shows it."""
        uni = self.uni
        for course_id in result.created_courses:
            course = uni.courses[course_id]
            cause = self.state.course_created_for.get(course.idnumber)
            elp = uni.elps.get(course.idnumber)
            if cause is None or elp is None or not uni.database_users(course_id):
                continue
            if self.state.cal.period_started(elp.period, started):
                fault_id, fault = cause
                self.truth.append(
                    TruthRecord(
                        fault_id,
                        fault,
                        False,
                        "course_hidden",
                        "hidden_after_start",
                        started,
                        course.idnumber,
                        cod_elp=course.idnumber,
                        course_id=course_id,
                        cod_cmp=elp.cod_cmp,
                        detail="created hidden tonight, shown tomorrow",
                    )
                )
