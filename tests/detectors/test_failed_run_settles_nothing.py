"""A failed run settles nothing (R9; seed "Désynchronisation temporaire").

Only a successful lmsjonction run propagates REFER and ADE to Ecampus. After a
failed night the differences it would have fixed stay pending ("prévu"), nothing
becomes "constaté", and ``sync_run_health`` raises one ``run_failed`` alert for
the night instead of one "cause inexpliquée" per difference.
"""

from __future__ import annotations

from datetime import UTC, datetime

from model_builders import NOW, collection, elp, ip, with_collections
from moodle_builders import CONFIG, LAST_NIGHT, accounts, course, enrolled, instances

from detectors.facts import MoodleEnrolment, SyncRun
from detectors.findings import Finding
from detectors.known.enrolments_lost import detect as enrolments_lost
from detectors.known.students_not_enrolled import detect as students_not_enrolled
from detectors.known.sync_run_health import detect as run_health
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1", "X_TD2": "TD 2"}, ("X",))
WEEK_BEFORE = SyncRun(
    "run-2025-11-10",
    datetime(2025, 11, 10, 1, tzinfo=UTC),
    datetime(2025, 11, 10, 2, 30, tzinfo=UTC),
    "success",
)
# The IPs were made after the last successful run (10 Nov) and before last night's.
REGISTERED = datetime(2025, 11, 12, 9, tzinfo=UTC)
FAILED_NIGHT = SyncRun(LAST_NIGHT.run_id, LAST_NIGHT.started_at, LAST_NIGHT.finished_at, "failed")


def _run_alerts(facts: FactSet) -> list[Finding]:
    """The run's own alerts (the builders' facts are old: their sources look silent)."""
    found = run_health(facts, now=NOW, scope=None, config=CONFIG)
    return [f for f in found if f.cause != "source_silent"]


def _university(last_night: SyncRun) -> FactSet:
    return with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("1", "X", "X_TD1", as_of=REGISTERED), ip("2", "X", "X_TD2", as_of=REGISTERED)],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "student", "1"),
        accounts=accounts(students=("1", "2")),
        runs=[WEEK_BEFORE, last_night],
    )


def test_a_successful_run_makes_the_absence_unexplained_for_cemu() -> None:
    facts = _university(LAST_NIGHT)
    [finding] = students_not_enrolled(facts, now=NOW, scope=None, config=CONFIG)
    assert (finding.cause, finding.phase) == ("missing_after_run", "occurred")


def test_after_a_failed_run_the_absence_stays_pending_and_nothing_is_observed() -> None:
    facts = _university(FAILED_NIGHT)
    assert students_not_enrolled(facts, now=NOW, scope=None, config=CONFIG) == []
    assert facts.last_completed_run() == WEEK_BEFORE
    assert facts.last_finished_run() == FAILED_NIGHT


def test_a_failed_run_is_not_completed_but_finished() -> None:
    assert FAILED_NIGHT.finished and not FAILED_NIGHT.completed
    assert LAST_NIGHT.finished and LAST_NIGHT.completed


def test_a_failed_night_raises_one_run_health_alert_naming_the_last_good_run() -> None:
    facts = _university(FAILED_NIGHT)
    found = _run_alerts(facts)
    assert [f.cause for f in found] == ["run_failed"]
    [alert] = found
    assert alert.audience == "oncall"
    assert any("run-2025-11-10" in e.fact and "en attente" in e.fact for e in alert.evidence)


def test_a_missing_night_keeps_the_differences_pending_too() -> None:
    facts = _university(WEEK_BEFORE)  # no run of last night at all
    facts = FactSet.build(
        elps=facts.elps.values(),
        groups=facts.groups.values(),
        collection_links=facts.collection_links,
        ips=facts.ips,
        courses=facts.courses.values(),
        enrol_instances=facts.enrol_instances.values(),
        enrolments=facts.enrolments,
        accounts=facts.accounts.values(),
        runs=[WEEK_BEFORE],
    )
    assert students_not_enrolled(facts, now=NOW, scope=None, config=CONFIG) == []
    found = _run_alerts(facts)
    assert [f.cause for f in found] == ["run_missing"]


def test_enrolments_removed_during_a_failed_run_are_not_observed_losses() -> None:
    during = datetime(2025, 11, 17, 1, 40, tzinfo=UTC)
    [kept] = enrolled(7, "student", "1")
    removed = MoodleEnrolment(99, 71, "u2", as_of=during)
    base = _university(FAILED_NIGHT)
    facts = FactSet.build(
        elps=base.elps.values(),
        groups=base.groups.values(),
        collection_links=base.collection_links,
        ips=base.ips,
        courses=base.courses.values(),
        enrol_instances=base.enrol_instances.values(),
        enrolments=[kept],
        deleted_enrolments=[removed],
        accounts=base.accounts.values(),
        runs=[WEEK_BEFORE, FAILED_NIGHT],
    )
    assert enrolments_lost(facts, now=NOW, scope=None, config=CONFIG) == []
    succeeded = FactSet.build(
        elps=base.elps.values(),
        groups=base.groups.values(),
        collection_links=base.collection_links,
        ips=base.ips,
        courses=base.courses.values(),
        enrol_instances=base.enrol_instances.values(),
        enrolments=[kept],
        deleted_enrolments=[removed],
        accounts=base.accounts.values(),
        runs=[WEEK_BEFORE, LAST_NIGHT],
    )
    assert enrolments_lost(succeeded, now=NOW, scope=None, config=CONFIG) != []
