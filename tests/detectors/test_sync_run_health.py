"""sync_run_health: the nightly run and the sources, for the CEMU on-call (R9, R10)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from detectors.base import DetectorConfig, RunHealthConfig
from detectors.facts import Elp, MoodleCourse, RunMessage, RunStatus, SyncRun
from detectors.known.sync_run_health import detect
from detectors.state import FactSet

PARIS = ZoneInfo("Europe/Paris")
CONFIG = DetectorConfig()
MONDAY = date(2025, 11, 17)
SUNDAY = date(2025, 11, 16)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def run(
    day: date,
    *,
    start: tuple[int, int] = (2, 0),
    end: tuple[int, int] | None = (4, 0),
    status: RunStatus = "success",
    messages: tuple[RunMessage, ...] = (),
) -> SyncRun:
    return SyncRun(
        f"run-{day.isoformat()}-{start[0]:02d}{start[1]:02d}",
        at(day, *start),
        at(day, *end) if end else None,
        status if end else "running",
        messages=messages,
    )


def nights_before(
    day: date, count: int = 7, messages: tuple[RunMessage, ...] = ()
) -> list[SyncRun]:
    return [run(day - timedelta(days=n), messages=messages) for n in range(count, 0, -1)]


def causes(facts: FactSet, now: datetime, config: DetectorConfig = CONFIG) -> dict[str, str]:
    return {f.cause: f.subject for f in detect(facts, now=now, scope=None, config=config)}


def test_a_night_run_finished_on_time_raises_nothing() -> None:
    facts = FactSet.build(runs=[*nights_before(MONDAY), run(MONDAY)])
    assert causes(facts, at(MONDAY, 10)) == {}


def test_no_run_by_seven_is_missing_but_not_before() -> None:
    facts = FactSet.build(runs=nights_before(MONDAY))
    assert causes(facts, at(MONDAY, 6, 30)) == {}
    found = detect(facts, now=at(MONDAY, 7, 5), scope=None, config=CONFIG)
    (missing,) = found
    assert (missing.cause, missing.subject) == ("run_missing", "night:2025-11-17")
    assert missing.audience == "oncall"
    assert missing.severity == "critical"


def test_the_deadline_is_configurable() -> None:
    facts = FactSet.build(runs=nights_before(MONDAY))
    relaxed = DetectorConfig(run_health=RunHealthConfig(deadline=time(9, 0)))
    assert causes(facts, at(MONDAY, 8), relaxed) == {}


def test_a_run_finishing_after_seven_is_late() -> None:
    late = run(MONDAY, end=(7, 40))
    facts = FactSet.build(runs=[*nights_before(MONDAY), late])
    assert causes(facts, at(MONDAY, 8)) == {"run_late": late.run_id}


def test_a_run_still_going_after_seven_is_late_not_missing() -> None:
    going = run(MONDAY, end=None)
    facts = FactSet.build(runs=[*nights_before(MONDAY), going])
    assert causes(facts, at(MONDAY, 6)) == {}
    assert causes(facts, at(MONDAY, 7, 30)) == {"run_late": going.run_id}


def test_a_failed_run_is_reported_with_its_errors() -> None:
    failed = run(
        MONDAY,
        end=(3, 10),
        status="failed",
        messages=(RunMessage("error", "REFER", "ORA-12541: TNS:no listener"),),
    )
    facts = FactSet.build(runs=[*nights_before(MONDAY), failed])
    (finding,) = detect(facts, now=at(MONDAY, 8), scope=None, config=CONFIG)
    assert (finding.cause, finding.subject, finding.severity) == (
        "run_failed",
        failed.run_id,
        "critical",
    )
    assert any("ORA-12541" in e.fact for e in finding.evidence)


DB_DOWN = (RunMessage("error", "moodle_db", "Error: Database connection failed"),)


@pytest.mark.parametrize(
    ("started", "failed_at", "alerted"),
    [
        ((9, 20), (9, 30), False),
        ((10, 40), (10, 55), False),
        ((11, 50), (12, 0), True),
        ((8, 40), (8, 50), True),
    ],
)
def test_database_connection_failure_inside_the_sunday_window_is_expected(
    started: tuple[int, int], failed_at: tuple[int, int], alerted: bool
) -> None:
    # R10: the Moodle database is optimised on Sundays 09:00-11:00 (Paris); the night went well.
    rerun = run(SUNDAY, start=started, end=failed_at, status="failed", messages=DB_DOWN)
    facts = FactSet.build(runs=[*nights_before(SUNDAY), run(SUNDAY), rerun])
    now = at(SUNDAY, *failed_at) + timedelta(minutes=5)
    assert causes(facts, now) == ({"run_failed": rerun.run_id} if alerted else {})


def test_other_failures_inside_the_window_are_still_alerts() -> None:
    night = run(SUNDAY)
    duplicate = (RunMessage("error", "Insc. BDD", "duplicate key"),)
    other = run(SUNDAY, start=(9, 20), end=(9, 30), status="failed", messages=duplicate)
    facts = FactSet.build(runs=[*nights_before(SUNDAY), night, other])
    assert causes(facts, at(SUNDAY, 9, 35)) == {"run_failed": other.run_id}


def _with_warnings(count: int) -> tuple[RunMessage, ...]:
    return tuple(RunMessage("warning", "w9", "update_groups") for _ in range(count))


def test_warnings_far_above_the_previous_runs_are_a_spike() -> None:
    usual = nights_before(MONDAY, messages=_with_warnings(100))
    noisy = run(MONDAY, messages=_with_warnings(400))
    (spike,) = detect(
        FactSet.build(runs=[*usual, noisy]), now=at(MONDAY, 8), scope=None, config=CONFIG
    )
    assert (spike.cause, spike.subject) == ("warnings_spike", noisy.run_id)
    assert "400 × w9" in spike.evidence[0].fact
    assert "médiane des 7 exécutions précédentes : 100" in spike.evidence[0].fact


def test_ordinary_variation_is_not_a_spike() -> None:
    usual = nights_before(MONDAY, messages=_with_warnings(100))
    busier = run(MONDAY, messages=_with_warnings(280))  # below 3 × median
    assert causes(FactSet.build(runs=[*usual, busier]), at(MONDAY, 8)) == {}


def test_a_code_usually_silent_needs_more_than_the_margin_to_spike() -> None:
    quiet = nights_before(MONDAY)
    few = (RunMessage("error", "Insc. BDD"),) * 30
    many = (RunMessage("error", "Insc. BDD"),) * 60
    assert causes(FactSet.build(runs=[*quiet, run(MONDAY, messages=few)]), at(MONDAY, 8)) == {}
    found = causes(FactSet.build(runs=[*quiet, run(MONDAY, messages=many)]), at(MONDAY, 8))
    assert "errors_spike" in found


def test_too_short_a_history_gives_no_baseline() -> None:
    facts = FactSet.build(
        runs=[*nights_before(MONDAY, 2), run(MONDAY, messages=_with_warnings(500))]
    )
    assert causes(facts, at(MONDAY, 8)) == {}


def _refer_changed(moment: datetime) -> FactSet:
    """REFER's last change at ``moment``; no run recorded, so only the silence is judged."""
    return FactSet.build(elps=[Elp("X", "x", "12", as_of=moment)])


def test_a_source_silent_for_more_than_a_working_day_is_reported() -> None:
    facts = _refer_changed(at(date(2025, 11, 14), 17))  # a Friday afternoon
    monday = at(MONDAY, 10)  # 7 h of Friday + 10 h of Monday: fine
    tuesday = at(MONDAY + timedelta(days=1), 10)  # 41 working hours
    assert "source_silent" not in causes(facts, monday)
    (silent,) = detect(facts, now=tuesday, scope=None, config=CONFIG)
    assert (silent.cause, silent.subject, silent.audience) == (
        "source_silent",
        "source:refer",
        "oncall",
    )
    assert "41 h ouvrées" in silent.evidence[0].fact


def test_silence_is_not_judged_at_the_weekend() -> None:
    facts = _refer_changed(at(date(2025, 11, 12), 17))
    assert "source_silent" not in causes(facts, at(date(2025, 11, 15), 12))  # a Saturday


def test_moodle_silent_inside_the_maintenance_window_is_expected() -> None:
    every_day = DetectorConfig(run_health=RunHealthConfig(working_days=frozenset(range(7))))
    facts = FactSet.build(courses=[MoodleCourse(1, "X", as_of=at(SUNDAY, 9) - timedelta(hours=13))])
    assert "source_silent" not in causes(facts, at(SUNDAY, 9, 30), every_day)
    assert causes(facts, at(SUNDAY, 12), every_day) == {"source_silent": "source:moodle"}


def test_a_pass_scoped_to_dirty_elps_does_not_judge_the_runs() -> None:
    facts = FactSet.build(runs=nights_before(MONDAY))
    assert detect(facts, now=at(MONDAY, 8), scope=["RCAED334"], config=CONFIG) == []


def test_a_night_before_the_first_recorded_run_is_not_judged() -> None:
    # The monitor (or a replay) starts on Monday evening; its first run is Tuesday's at 02:00.
    # At 03:00 the last night past its deadline is Monday's, before any history: not missing.
    tuesday = MONDAY + timedelta(days=1)
    facts = FactSet.build(runs=[run(tuesday)])
    assert causes(facts, at(tuesday, 5)) == {}
