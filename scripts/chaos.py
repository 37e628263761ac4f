"""Chaos run (not in CI): faults injected under the real daemon process, against a clean run.

Publishes the synthetic ``small`` university (``ecampus-monitor simulate``) and
10,000 fuzzed messages to a broker of its own, runs a clean daemon on a SQLite
store for reference, then a chaos daemon on a private MariaDB (RECIPES.md)
while it injects: kill -9 during ingest, kill -9 during sending, a MariaDB
outage, an SMTP server answering 451 then recovering, a broker restart. It
prints one table: faults injected, events lost and duplicated, emails lost and
duplicated, false (and missed) alerts, crashes.

    .venv/bin/python scripts/chaos.py            # the full run (long)
    .venv/bin/python scripts/chaos.py --quick    # 3 kills each, 20 s outage, 1,000 fuzzed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import Engine, create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.tables import alert, outbox
from monitor.config import load_settings
from monitor.dead_letter_alerts import DETECTOR as DEAD_LETTERS
from monitor.kafka.broker import EmbeddedBroker, free_port
from monitor.pipeline import AFTER_RUN_CURSOR
from monitor.simulation.mailsink import MailSink
from monitor.store.schema import dirty_elp, fact_tables, ingest_progress, pipeline_cursor
from tests.fixtures.private_mariadb import PrivateMariaDB
from tests.integration.daemon_process import DaemonProcess, cli, daemon_env, wait_for

CEMU = "cemu@univ-chaos.fr"


class FlakySmtp:
    """An aiosmtpd handler that answers 451 while ``failing``, else stores like the MailSink."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failing = False
        self.refused = 0
        self.slow_seconds = 0.0  # a slow relay: kills land in the middle of a sending batch

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failing:
            self.refused += 1
            return "451 4.3.0 Temporary local problem, try again later"
        await asyncio.sleep(self.slow_seconds)
        return str(await self.inner.handle_DATA(server, session, envelope))


def publish_university(bootstrap: str, workdir: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "simulate",
            "--scale",
            "small",
            "--nights",
            "1",
            "--start",
            "now",
            "--bootstrap",
            bootstrap,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise SystemExit(f"simulate failed: {out.stderr[-2000:]}")
    print(((out.stdout + out.stderr).strip().splitlines() or ["published"])[-1])


def publish_fuzz(bootstrap: str, count: int, rng: random.Random) -> None:
    """Invalid messages only (never a valid change): random bytes, cut JSON, wrong types."""
    topics = sorted(load_settings().sources.topics)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    for n in range(count):
        kind = n % 4
        if kind == 0:
            value = rng.randbytes(rng.randint(1, 300))
        elif kind == 1:
            value = b'{"payload": {"op": "c", "after": {"COD_ELP": "FUZZ' + str(n).encode()
        elif kind == 2:
            value = json.dumps(
                {
                    "payload": {
                        "op": "u",
                        "after": {
                            "COD_ELP": f"FUZZ{n}",
                            "PERIODE": rng.choice([7, "S9", None, []]),
                        },
                    }
                }
            ).encode()
        else:
            value = json.dumps([n, "not an event"]).encode()
        producer.send(rng.choice(topics), key=f"FUZZ{n}".encode(), value=value)
    producer.flush(timeout=120)
    producer.close()


def published(bootstrap: str) -> int:
    """Every message on the source topics, counted by reading them (Tansu's ListOffsets
    under-reports batched records)."""
    from kafka import KafkaConsumer

    settings = load_settings()
    topics = sorted({*settings.sources.topics, settings.sources.runs_topic})
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
        max_poll_records=5000,
    )
    count = sum(1 for _ in consumer)
    consumer.close()
    return count


def events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.coalesce(func.sum(ingest_progress.c.events), 0))).scalar_one()
        )


def unsent(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(outbox)
        return int(
            conn.execute(query.where(outbox.c.status.in_(("queued", "sending")))).scalar_one()
        )


def done(engine: Engine, total: int) -> bool:
    try:
        with engine.connect() as conn:
            dirty = conn.execute(select(func.count()).select_from(dirty_elp)).scalar_one()
            cursor = conn.execute(
                select(pipeline_cursor.c.value).where(pipeline_cursor.c.name == AFTER_RUN_CURSOR)
            ).scalar_one_or_none()
        return events(engine) >= total and dirty == 0 and cursor is not None and unsent(engine) == 0
    except Exception:  # the store may be down on purpose
        return False


def facts(engine: Engine) -> Counter[tuple[str, str, int]]:
    rows: Counter[tuple[str, str, int]] = Counter()
    with engine.connect() as conn:
        for name, table in fact_tables.items():
            for key, ts in conn.execute(select(table.c.key, table.c.source_ts)):
                rows[(name, key, ts)] += 1
    return rows


def alerts(engine: Engine) -> set[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert.c.detector, alert.c.subject, alert.c.cause, alert.c.status)
        )
        return {(r.detector, r.subject, r.cause) for r in rows if r.status != "resolved"}


def mails(sink: MailSink) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in sink.messages())


def run_daemon(
    env: dict[str, str], log: Path, until: Callable[[], bool], timeout: float
) -> DaemonProcess:
    daemon = DaemonProcess(env, log)
    wait_for(until, log.name, timeout, daemon, every=0.5)
    return daemon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer faults, shorter outages")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kills = 3 if args.quick else 20
    outage = 20 if args.quick else 120
    fuzzed = 1000 if args.quick else 10_000
    faults: Counter[str] = Counter()
    crashes = 0
    work = Path(tempfile.mkdtemp(prefix="ecampus-chaos-"))
    broker = EmbeddedBroker(port=free_port(), log_dir=work / "tansu").start()
    sinks = {name: MailSink(work / f"{name}-mail") for name in ("clean", "chaos")}
    flaky = FlakySmtp(sinks["chaos"]._handler)
    sinks["chaos"]._handler = flaky  # type: ignore[assignment]
    for sink in sinks.values():
        sink.start()
    mariadb: PrivateMariaDB | None = None
    started = time.monotonic()
    try:
        publish_university(broker.bootstrap_servers, work)
        publish_fuzz(broker.bootstrap_servers, fuzzed, rng)
        total = published(broker.bootstrap_servers)
        faults["fuzzed messages"] = fuzzed

        def env_for(name: str, url: str) -> dict[str, str]:
            extra = {
                "ECAMPUS_MONITOR_SMTP__ENABLED": "true",
                "ECAMPUS_MONITOR_SMTP__PORT": str(sinks[name].port),
                "ECAMPUS_MONITOR_SMTP__RETRY_INITIAL_SECONDS": "1",
                "ECAMPUS_MONITOR_SMTP__RETRY_MAX_SECONDS": "5",
                "ECAMPUS_MONITOR_ROUTING__CEMU_ADDRESS": CEMU,
                "ECAMPUS_MONITOR_KAFKA__MAX_POLL_RECORDS": "200",
                "ECAMPUS_MONITOR_NOTIFICATIONS__DIGESTS_ENABLED": "false",
                "ECAMPUS_MONITOR_LOG_LEVEL": "INFO",
            }
            env = daemon_env(url, broker.bootstrap_servers, **extra)
            assert cli("db", "upgrade", env=env).returncode == 0
            return env

        clean_url = f"sqlite:///{work / 'clean.sqlite'}"
        clean_store = create_engine(clean_url)
        clean = run_daemon(
            env_for("clean", clean_url), work / "clean.log", lambda: done(clean_store, total), 3600
        )
        clean.stop()
        print(f"clean run: {events(clean_store)} events, {len(alerts(clean_store))} alerts")

        if shutil.which("mariadbd"):
            mariadb = PrivateMariaDB(work / "mariadb")
            mariadb.install()
            mariadb.start()
            mariadb.sql("CREATE DATABASE ecm CHARACTER SET utf8mb4")
            chaos_url = mariadb.url
        else:
            chaos_url = f"sqlite:///{work / 'chaos.sqlite'}"
        chaos_store = create_engine(chaos_url, pool_pre_ping=True)
        env = env_for("chaos", chaos_url)
        logs = iter(range(1, 10_000))

        def start() -> DaemonProcess:
            return DaemonProcess(env, work / f"chaos-{next(logs)}.log")

        def check(daemon: DaemonProcess) -> None:
            nonlocal crashes
            if not daemon.alive and daemon.process.returncode not in (0, -9):
                crashes += 1

        # 1. kill -9 during ingest, at random moments while events are being applied; the
        # SMTP server answers 451 meanwhile (the first emails wait in the outbox).
        flaky.failing = True
        faults["SMTP 451 period"] += 1
        daemon = start()
        while faults["kill -9 during ingest"] < kills and events(chaos_store) < total:
            before = events(chaos_store)

            def progressed(before: int = before) -> bool:
                return events(chaos_store) > before or events(chaos_store) >= total

            wait_for(progressed, "ingest progress", 600, daemon, every=0.05)
            time.sleep(rng.uniform(0.0, 1.5))
            check(daemon)
            if events(chaos_store) >= total:
                break
            daemon.kill()
            faults["kill -9 during ingest"] += 1
            daemon = start()
        # 2. the store goes away for a while, the daemon waits.
        if mariadb is not None:
            mariadb.stop()
            faults[f"MariaDB outage ({outage} s)"] += 1
            time.sleep(outage)
            check(daemon)
            mariadb.start()
        # 3. the SMTP server recovers, slowly: kill -9 right after an email was accepted.
        wait_for(lambda: unsent(chaos_store) > 0, "emails queued", 600, daemon, every=0.5)
        flaky.slow_seconds = 0.5
        flaky.failing = False
        while faults["kill -9 during sending"] < kills and unsent(chaos_store) > 0:
            received = len(sinks["chaos"].message_files())

            def accepted(received: int = received) -> bool:
                return len(sinks["chaos"].message_files()) > received or not unsent(chaos_store)

            try:
                wait_for(accepted, "an email accepted", 120, daemon, every=0.02)
            except AssertionError:
                break
            if not unsent(chaos_store):
                break
            daemon.kill()
            faults["kill -9 during sending"] += 1
            daemon = start()
        wait_for(lambda: done(chaos_store, total), "the chaos run done", 3600, daemon, every=0.5)
        # 4. the broker restarts (Tansu keeps nothing): the daemon must come back to ready.
        broker.stop()
        faults["broker restart"] += 1
        time.sleep(10)
        broker.start()
        daemon.wait_ready(timeout=120)
        check(daemon)
        crashes += int(not daemon.alive)
        daemon.stop()
        crashes += sum(
            "Traceback" in p.read_text(errors="replace") for p in work.glob("chaos-*.log")
        )

        reference, observed = facts(clean_store), facts(chaos_store)
        expected_alerts, got_alerts = alerts(clean_store), alerts(chaos_store)
        got_alerts = {a for a in got_alerts if a[0] != DEAD_LETTERS}
        expected_alerts = {a for a in expected_alerts if a[0] != DEAD_LETTERS}
        sent_clean, sent_chaos = mails(sinks["clean"]), mails(sinks["chaos"])
        rows = [
            ("faults injected", ", ".join(f"{k}: {v}" for k, v in faults.items())),
            ("events published (incl. fuzzed)", str(total)),
            ("events lost (fact rows missing)", str(sum((reference - observed).values()))),
            ("events duplicated (fact rows extra)", str(sum((observed - reference).values()))),
            ("emails (clean run)", str(sum(sent_clean.values()))),
            ("emails lost", str(sum((sent_clean - sent_chaos).values()))),
            (
                "emails duplicated (same Message-ID twice)",
                str(sum(n - 1 for n in sent_chaos.values() if n > 1)),
            ),
            ("emails refused with 451 (retried)", str(flaky.refused)),
            ("false alerts", str(len(got_alerts - expected_alerts))),
            ("missed alerts", str(len(expected_alerts - got_alerts))),
            ("crashes", str(crashes)),
            ("duration", f"{time.monotonic() - started:.0f} s"),
            ("machine", f"{platform.node()} {platform.machine()}, {platform.python_version()}"),
        ]
        width = max(len(name) for name, _ in rows)
        print("\n" + "\n".join(f"| {name.ljust(width)} | {value} |" for name, value in rows))
        print(f"\nwork directory: {work}")
    finally:
        for sink in sinks.values():
            sink.stop()
        if mariadb is not None:
            mariadb.stop()
        broker.stop()


if __name__ == "__main__":
    main()
