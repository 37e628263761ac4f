"""enrolments_lost (R3-R6, R9; seed "les inscriptions à un cours disparaissent")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from model_builders import NOW, collection, elp, ip, with_collections
from moodle_builders import (
    CONFIG,
    DURING_THE_RUN,
    LAST_NIGHT,
    LAST_WEEK,
    THIS_MORNING,
    accounts,
    course,
    enrolled,
    instances,
    student_user,
)

from detectors.base import DetectorConfig
from detectors.facts import AdeFiche, AdeSession, Group, Ia, Ip, SyncRun
from detectors.findings import Finding
from detectors.known.enrolments_lost import DETECTOR, NOT_FAULTS, REMEDIATION, detect, losses
from detectors.model import CAUSES
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1"}, ("X",))


def _findings(facts: FactSet, config: DetectorConfig = CONFIG) -> list[Finding]:
    return detect(facts, now=NOW, scope=None, config=config)


def _night(
    ips: list[Ip],
    lost: tuple[str, ...],
    kept: tuple[str, ...] = (),
    *,
    deleted_at: datetime = DURING_THE_RUN,
    **facts: object,
) -> FactSet:
    """Course X (id 7): ``kept`` still enrolled, ``lost`` deleted at ``deleted_at``."""
    students = tuple(sorted({i.cod_etu for i in ips} | set(lost) | set(kept)))
    return with_collections(
        TD,
        elps=facts.pop("elps", [elp("X")]),
        ips=ips,
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "student", *kept),
        deleted_enrolments=enrolled(7, "student", *lost, as_of=deleted_at),
        accounts=accounts(students=students),
        runs=facts.pop("runs", [LAST_NIGHT]),
        **facts,
    )


def test_runs_after_each_sync_run() -> None:
    assert DETECTOR.moments == {"after_run"}


def test_each_loss_gets_its_cause_from_the_model_or_is_unexplained_for_cemu() -> None:
    facts = _night(
        [ip("1", "X"), ip("2", "X", "X_TD1"), ip("3", "X", "X_TD1")],
        lost=("1", "2"),
        kept=("3",),
    )
    found = {f.cause: f for f in _findings(facts)}
    assert set(found) == {"ip_without_group", "unexplained"}
    assert found["ip_without_group"].audience == "scolarite"
    assert "jusqu'au groupe" in found["ip_without_group"].remediation
    assert found["unexplained"].audience == "cemu"
    assert found["unexplained"].subject == "X" and found["unexplained"].course_id == 7
    assert student_user("2") in found["unexplained"].evidence[0].fact
    assert "2" not in found["unexplained"].title


def test_suspended_m1ms03_enrolments_suspended_by_the_run_are_lost_to_suspension() -> None:
    ms03 = collection("MS03C", {"M.1.MS03TD": "TD"}, ("M.1.MS03",))
    facts = with_collections(
        ms03,
        elps=[elp("M.1.MS03", status="suspended", period="S1")],
        ips=[ip("1", "M.1.MS03", "M.1.MS03TD"), ip("2", "M.1.MS03", "M.1.MS03TD")],
        courses=[course(9, "M.1.MS03")],
        enrol_instances=instances(9),
        enrolments=enrolled(9, "student", "1", "2", active=False, as_of=DURING_THE_RUN),
        accounts=accounts(students=("1", "2")),
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert (finding.cause, finding.affected_count) == ("elp_suspended", 2)
    assert "suspendue" in finding.evidence[1].fact


def test_2hr5c_students_vanish_from_the_porteur_course_when_the_collection_is_not_shared() -> None:
    facts = with_collections(
        collection("M.1HRP9CTD", {"M.1HRP9CTD": "TD"}, ("M.1HRP9C",)),
        elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")],
        ips=[ip("B", "2HR5C", "M.1HRP9CTD")],
        courses=[course(40, "M.1HRP9C")],
        enrol_instances=instances(40),
        deleted_enrolments=enrolled(40, "student", "B", as_of=DURING_THE_RUN),
        accounts=accounts(students=("B",)),
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert (finding.subject, finding.cause) == ("2HR5C", "porte_collection_not_shared")
    assert finding.course_id == 40 and "cours du porteur M.1HRP9C" in finding.title
    assert "L'élément 2HR5C est « porté » par M.1HRP9C" in finding.remediation


def test_student_whose_ip_was_removed_lost_access_as_the_database_method_intends() -> None:
    assert _findings(_night([], lost=("1",))) == []


def test_outgoing_exchange_student_loses_access_deliberately() -> None:
    facts = _night(
        [ip("1", "X", "X_TD1")],
        lost=("1",),
        ias=[Ia("IA1", "1", "L2", 2025, exchange_programme="Eras+ D>An")],
    )
    assert _findings(facts) == []


def test_enrolment_given_back_since_is_no_longer_lost() -> None:
    assert _findings(_night([ip("1", "X")], lost=("1",), kept=("1",))) == []


def test_deletions_outside_a_run_are_not_the_sync_runs_doing() -> None:
    facts = _night([ip("1", "X")], lost=("1",), deleted_at=THIS_MORNING)
    assert losses(facts, NOW) == []
    assert _findings(facts) == []


def test_losses_older_than_the_lookback_are_forgotten() -> None:
    facts = _night([ip("1", "X")], lost=("1",))
    later = NOW + timedelta(days=8)
    assert detect(facts, now=later, scope=None, config=CONFIG) == []
    keep_longer = DetectorConfig(enrolments_lost_lookback_days=30)
    assert len(detect(facts, now=later, scope=None, config=keep_longer)) == 1


def test_student_fixed_in_apogee_this_morning_is_reenrolled_tonight_not_unexplained() -> None:
    # The seed's "Désynchronisation temporaire": the scolarité fixed it the same day.
    facts = _night([ip("1", "X", "X_TD1", as_of=THIS_MORNING)], lost=("1",))
    assert _findings(facts) == []


def test_a_registration_made_again_after_the_run_that_removed_it_is_no_loss() -> None:
    # Thursday's run removed the dropped option; Friday the student took it again; last
    # night's run failed: absent, but students_not_enrolled says so (missing after run).
    thursday = SyncRun(
        "run-2025-11-13",
        datetime(2025, 11, 13, 1, tzinfo=UTC),
        datetime(2025, 11, 13, 2, tzinfo=UTC),
        "success",
    )
    failed = SyncRun("run-2025-11-17", LAST_NIGHT.started_at, LAST_NIGHT.finished_at, "failed")
    facts = _night(
        [ip("1", "X", "X_TD1", as_of=datetime(2025, 11, 14, 9, tzinfo=UTC))],
        lost=("1",),
        deleted_at=datetime(2025, 11, 13, 1, 30, tzinfo=UTC),
        runs=[thursday, failed],
    )
    assert [loss.user for loss in losses(facts, NOW)] == [student_user("1")]
    assert _findings(facts) == []


def test_teacher_lost_to_a_new_group_masking_the_planning() -> None:
    facts = with_collections(
        TD,
        elps=[elp("X")],
        groups=(Group("ELP_X_CM"),),
        fiches=[AdeFiche("F1", "X", ("dupont",))],
        sessions=[AdeSession("S1", "F1", LAST_WEEK, ("ELP_X_CM",), ("dupont",))],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        deleted_enrolments=enrolled(7, "teacher", "dupont", as_of=DURING_THE_RUN),
        accounts=accounts(teachers=("dupont",)),
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert finding.cause == "masked_by_new_group"
    assert "masque" in finding.remediation
    assert finding.remediation.startswith("Des inscriptions par base de données ont disparu")


def test_without_accounts_nobody_can_be_named_and_nothing_is_reported() -> None:
    facts = _night([ip("1", "X", "X_TD1")], lost=("1",))
    bare = FactSet.build(
        elps=facts.elps.values(),
        groups=facts.groups.values(),
        collection_links=facts.collection_links,
        ips=facts.ips,
        courses=facts.courses.values(),
        enrol_instances=facts.enrol_instances.values(),
        deleted_enrolments=facts.deleted_enrolments,
        runs=facts.runs,
    )
    assert losses(bare, NOW) != [] and _findings(bare) == []


def test_every_cause_a_loss_can_have_is_explained_in_french() -> None:
    for cause, info in CAUSES.items():
        if info.blocks == "enrolment" and cause not in NOT_FAULTS:
            assert cause in REMEDIATION, cause
    assert "unexplained" in REMEDIATION
