"""The daily digest: one per recipient per day, grouped by course and cause, in French."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from alerts.notify import digest as digest_module
from alerts.notify.digest import DigestJob, build_digests, enqueue_digests
from alerts.notify.digest_compose import News, compose_digests, digest_dedup_key
from alerts.notify.outbox import Notifier
from alerts.policy import NotificationPolicy
from alerts.reconcile import reconcile
from alerts.repository import AlertFilter, AlertRecord, acknowledge, list_alerts
from alerts.routing import Composante, Router
from alerts.tables import digest_run, outbox
from detectors.findings import Finding

PUBLIC_URL = "https://ecampus-monitor.example.org"
CEMU = "cemu.assistance@example.org"
HSS = "scolarite.hss@example.org"
DROIT = "scolarite.droit@example.org"
NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
# 07:30 in Paris, winter time.
DIGEST = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = NotificationPolicy()

MakeFinding = Callable[..., Finding]


@pytest.fixture
def router() -> Router:
    return Router(
        cemu=CEMU,
        composantes={
            "12": Composante("12", "UFR HSS", (HSS,)),
            "13": Composante("13", "UFR Droit", (DROIT,)),
        },
    )


@pytest.fixture
def notifier(router: Router) -> Notifier:
    return Notifier(router, PUBLIC_URL, policy=POLICY)


def night(engine: Engine, notifier: Notifier, findings: list[Finding], now: datetime) -> None:
    with engine.begin() as conn:
        reconcile(
            conn,
            findings,
            detectors={f.detector for f in findings} or {"teacher_missing"},
            subjects=None,
            now=now,
            notifier=notifier,
        )


def enqueue(
    engine: Engine, router: Router, now: datetime, policy: NotificationPolicy = POLICY
) -> int:
    with engine.begin() as conn:
        return enqueue_digests(conn, now, router=router, policy=policy, public_url=PUBLIC_URL)


def digests_in_outbox(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(outbox).where(outbox.c.dedup_key.like("digest:%")).order_by(outbox.c.id)
            )
        )


def faults(make_fault: MakeFinding) -> list[Finding]:
    """Three faults for UFR HSS on two courses, one for UFR Droit; all wait for the digest."""
    return [
        make_fault(),
        make_fault(
            detector="group_missing",
            cause="foad_case_c",
            title="Cours HSS-L2-SOC : groupe à distance manquant",
            remediation="Rattachez les étudiants à distance au groupe CEMU.",
        ),
        make_fault(
            subject="HSS-L1-HIS",
            cod_elp="HSS-L1-HIS",
            title="Cours HSS-L1-HIS « Histoire moderne » : 1 enseignant(s) non inscrit(s)",
            remediation="Planifiez l'enseignant dans ADE sur les séances de HSS-L1-HIS.",
        ),
        make_fault(
            subject="DRT-L1-CIV",
            cod_elp="DRT-L1-CIV",
            cod_cmp="13",
            title="Cours DRT-L1-CIV « Droit civil » : 3 enseignant(s) non inscrit(s)",
            summary="3 enseignant(s) de DRT-L1-CIV ne sont pas inscrits dans le cours Moodle.",
            remediation="Planifiez les enseignants dans ADE sur les séances de DRT-L1-CIV.",
        ),
    ]


def test_one_digest_per_scolarite_with_its_alerts_grouped_by_course_and_cause(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, faults(make_fault), NIGHT)

    assert enqueue(store_engine, router, DIGEST) == 2

    droit, hss = sorted(digests_in_outbox(store_engine), key=lambda row: row.recipients)
    assert (droit.recipients, hss.recipients) == ([DROIT], [HSS])
    assert hss.dedup_key == digest_dedup_key(HSS, date(2026, 11, 30))
    assert hss.dedup_key.startswith("digest:") and hss.dedup_key.endswith(":2026-11-30")
    assert "@" not in hss.dedup_key
    assert hss.alert_id is None
    assert hss.subject == "[Ecampus] Récapitulatif du 30/11/2026 : 3 alertes nouvelles"
    text = hss.body_text
    assert text.startswith("Bonjour,\n\nVoici le récapitulatif du suivi de l'Ecampus du 30/11/2026")
    # Grouped by course, then cause, with the French cause label, remediation and link.
    his = text.index("== Élément pédagogique HSS-L1-HIS — composante 12 UFR HSS ==")
    soc = text.index("== Élément pédagogique HSS-L2-SOC — composante 12 UFR HSS ==")
    assert his < soc
    soc_part = text[soc:]
    assert soc_part.index("Cause : FOAD cas c : groupe non CEMU, tout à distance") < soc_part.index(
        "Cause : Enseignant associé mais non planifié dans ADE"
    )
    with store_engine.connect() as conn:
        by_elp = {(a.cod_elp, a.detector): a.id for a in list_alerts(conn, AlertFilter())}
    assert (
        f"Suivre cette alerte : {PUBLIC_URL}/alerts/{by_elp[('HSS-L2-SOC', 'group_missing')]}"
        in text
    )
    assert "* [Nouveau] Cours HSS-L2-SOC : groupe à distance manquant" in text
    assert "Que faire : Rattachez les étudiants à distance au groupe CEMU." in text
    assert "DRT-L1-CIV" not in text
    # No evidence in a digest: the uids and student numbers stay behind the link.
    assert "12345" not in text and "12345" not in hss.body_html
    assert "DRT-L1-CIV" in droit.body_text and "HSS" not in droit.body_text


def test_html_digest_escapes_the_data(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, [make_fault(title="Cours <script>alert(1)</script>")], NIGHT)
    enqueue(store_engine, router, DIGEST)
    [row] = digests_in_outbox(store_engine)
    assert "<script>" not in row.body_html
    assert "Cours &lt;script&gt;alert(1)&lt;/script&gt;" in row.body_html
    assert f'<a href="{PUBLIC_URL}/alerts/' in row.body_html


def test_an_alert_emailed_at_once_is_not_news_again_in_the_digest(
    store_engine: Engine,
    notifier: Notifier,
    router: Router,
    make_fault: MakeFinding,
    make_finding: MakeFinding,
) -> None:
    archived = make_finding(cod_cmp="12")
    night(store_engine, notifier, [make_fault()], NIGHT)
    night(store_engine, notifier, [archived], NIGHT)
    enqueue(store_engine, router, DIGEST)
    [row] = digests_in_outbox(store_engine)
    assert row.subject.endswith(": 1 alerte nouvelle")
    assert "* [Toujours ouverte] Cours RCAED334 « Droit civil » : sera archivé cette nuit" in (
        row.body_text
    )
    assert "(signalée par courriel le 30/11/2026 à 03:15)" in row.body_text


def test_only_immediate_alerts_no_digest(
    store_engine: Engine, notifier: Notifier, router: Router, make_finding: MakeFinding
) -> None:
    night(store_engine, notifier, [make_finding()], NIGHT)
    assert enqueue(store_engine, router, DIGEST) == 0
    with store_engine.connect() as conn:
        [run] = conn.execute(select(digest_run)).all()
    assert (run.day, run.digests) == (date(2026, 11, 30), 0)


def test_no_news_no_digest_then_reminders_after_three_days_then_weekly(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, [make_fault()], NIGHT)
    sent_on = []
    for day in range(0, 12):
        now = DIGEST + day * DAY
        night(store_engine, notifier, [make_fault()], now - 4 * timedelta(hours=1))
        if enqueue(store_engine, router, now):
            sent_on.append(day)
    assert sent_on == [0, 3, 10]
    reminders = digests_in_outbox(store_engine)[1:]
    for row in reminders:
        assert row.subject.endswith(": 1 rappel")
        assert "* [Rappel] Cours HSS-L2-SOC" in row.body_text
        assert "(ouverte depuis le 30/11/2026)" in row.body_text


def test_a_digest_is_queued_once_whatever_the_restarts(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, faults(make_fault), NIGHT)
    assert enqueue(store_engine, router, DIGEST) == 2
    assert enqueue(store_engine, router, DIGEST + timedelta(minutes=5)) == 0
    # Even if the record of the day were lost, the outbox key refuses a second digest.
    with store_engine.begin() as conn:
        conn.execute(delete(digest_run))
    assert enqueue(store_engine, router, DIGEST + timedelta(hours=1)) == 0
    assert len(digests_in_outbox(store_engine)) == 2


def test_news_after_the_digest_time_wait_for_tomorrow(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, [make_fault()], DIGEST + timedelta(hours=2))
    assert enqueue(store_engine, router, DIGEST + timedelta(hours=3)) == 0
    assert enqueue(store_engine, router, DIGEST + DAY) == 1


def test_a_digest_missed_by_a_stopped_daemon_is_covered_by_the_next(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    assert enqueue(store_engine, router, DIGEST - DAY) == 0  # the last digest built
    night(store_engine, notifier, [make_fault()], NIGHT)
    # Down at 07:30; back at 17:00 (over ``digest_max_delay``): nothing sent in the evening…
    assert enqueue(store_engine, router, DIGEST + timedelta(hours=10, minutes=30)) == 0
    night(store_engine, notifier, [make_fault(), make_fault(subject="X", cod_elp="X")], NIGHT + DAY)
    # …and the next morning's digest tells both days' news.
    assert enqueue(store_engine, router, DIGEST + DAY) == 1
    [row] = digests_in_outbox(store_engine)
    assert row.subject.endswith(": 2 alertes nouvelles")
    assert "depuis le 29/11/2026 à 07:30" in row.body_text


def test_resolved_and_flapping_and_expectation_over_in_the_digest(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    gone = make_fault(subject="GONE", cod_elp="GONE", title="Cours GONE : réglé")
    flapping = make_fault(subject="FLAP", cod_elp="FLAP", title="Cours FLAP : instable")
    expected = make_fault(subject="EXP", cod_elp="EXP", title="Cours EXP : attendu")
    night(store_engine, notifier, [gone, flapping, expected], NIGHT - 3 * DAY)
    with store_engine.begin() as conn:
        [exp] = [a for a in list_alerts(conn, AlertFilter()) if a.subject == "EXP"]
        acknowledge(
            conn, exp.id, actor="op", comment=None, now=NIGHT - 3 * DAY, expected_until=NIGHT
        )
    enqueue(store_engine, router, DIGEST - DAY)  # yesterday's
    night(store_engine, notifier, [expected], NIGHT - timedelta(hours=3))
    night(store_engine, notifier, [flapping, expected], NIGHT)

    assert enqueue(store_engine, router, DIGEST) == 1
    text = digests_in_outbox(store_engine)[-1].body_text
    assert "* [De nouveau, instable] Cours FLAP : instable" in text
    assert "(instable : résolue puis revenue 1 fois de suite)" in text
    assert "* [Échéance dépassée] Cours EXP : attendu" in text
    assert (
        f"Résolues depuis le 29/11/2026 à 07:30\n- Cours GONE : réglé : {PUBLIC_URL}/alerts/"
        in text
    )


def test_cemu_gets_its_own_digest_of_what_is_routed_to_it(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(
        store_engine,
        notifier,
        [make_fault(), make_fault(subject="T", cod_elp="T", audience="teachers")],
        NIGHT,
    )
    assert enqueue(store_engine, router, DIGEST) == 2
    assert sorted(row.recipients[0] for row in digests_in_outbox(store_engine)) == [CEMU, HSS]


def test_still_open_alerts_are_bounded_but_news_never(
    make_alert: Callable[..., AlertRecord], router: Router
) -> None:
    start, end = DIGEST - DAY, DIGEST
    old = NIGHT - 2 * DAY
    alerts = [
        make_alert(id=n, subject=f"E{n}", cod_elp=f"E{n}", opened_at=old, first_seen=old)
        for n in range(1, 5)
    ]
    [digest] = compose_digests(
        day=date(2026, 11, 30),
        window_start=start,
        window_end=end,
        open_alerts=alerts,
        resolved=[],
        news={1: News("new-open", NIGHT), 2: News("acknowledged-worsened", NIGHT)},
        emailed={},
        router=router,
        policy=NotificationPolicy(digest_max_still_open=1),
    )
    assert [(i.alert.id, i.kind) for i in digest.items] == [
        (1, "new"),
        (2, "worsened"),
        (3, "still_open"),
    ]
    assert digest.still_open_omitted == 1
    # Courses with news first.
    assert [c.cod_elp for c in digest.courses] == ["E1", "E2", "E3"]


def test_build_digests_reads_without_writing(
    store_engine: Engine, notifier: Notifier, router: Router, make_fault: MakeFinding
) -> None:
    night(store_engine, notifier, faults(make_fault), NIGHT)
    with store_engine.connect() as conn:
        digests = build_digests(conn, DIGEST, router, POLICY)
    assert [(d.recipient, d.news) for d in digests] == [(DROIT, 1), (HSS, 3)]
    assert [c.cod_elp for c in digests[1].courses] == ["HSS-L1-HIS", "HSS-L2-SOC"]
    assert digests_in_outbox(store_engine) == []


def test_digest_job_lets_a_concurrent_worker_win(
    sqlite_engine: Engine, router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    def built_elsewhere(conn: Any, now: datetime, **_: Any) -> int:
        with sqlite_engine.begin() as other:
            other.execute(
                insert(digest_run).values(
                    day=date(2026, 11, 30),
                    slot_at=DIGEST.replace(tzinfo=None),
                    window_start=(DIGEST - DAY).replace(tzinfo=None),
                    digests=1,
                    created_at=DIGEST.replace(tzinfo=None),
                )
            )
        raise IntegrityError("INSERT INTO digest_run", {}, Exception("duplicate"))

    monkeypatch.setattr(digest_module, "enqueue_digests", built_elsewhere)
    assert DigestJob(router, POLICY, PUBLIC_URL).run(sqlite_engine, DIGEST) == 0


def test_digest_job_does_not_hide_another_integrity_error(
    sqlite_engine: Engine, router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: Any, now: datetime, **_: Any) -> int:
        raise IntegrityError("INSERT INTO outbox", {}, Exception("NOT NULL"))

    monkeypatch.setattr(digest_module, "enqueue_digests", broken)
    with pytest.raises(IntegrityError):
        DigestJob(router, POLICY, PUBLIC_URL).run(sqlite_engine, DIGEST)
