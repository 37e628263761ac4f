"""``ecampus-monitor replay``: the daemon over recorded topics, on the events' own time.

Register with ``app.command("replay")(replay)``. The replay keeps its own
store and mail in ``--dir`` (never the configured store: a backtest must not
touch production), emails go to ``--dir``/mail as ``.eml`` files unless
``--send-mail`` uses the configured SMTP server, and Alertmanager is never
pushed to.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from alerts.tables import alert
from monitor.clock import EventClock
from monitor.config import (
    AlertmanagerSettings,
    ConfigError,
    HttpSettings,
    StoreSettings,
    load_settings,
)

if TYPE_CHECKING:
    from monitor.replay import ReplayReport

console = Console(stderr=True)


def replay(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Directory of JSON lines files (<topic>.jsonl, as `simulate --out`)."
        ),
    ] = None,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Read the recorded topics from this Kafka (HOST:PORT), from the start."),
    ] = None,
    topics: Annotated[
        str | None,
        typer.Option(help="Comma-separated topics to replay (default: every configured one)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML configuration file (rules, routing, …)."),
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", help="The replay's own store (state.sqlite) and mail.")
    ] = Path("replay"),
    send_mail: Annotated[
        bool,
        typer.Option("--send-mail", help="Send emails to the configured SMTP server instead."),
    ] = False,
    step_minutes: Annotated[
        int, typer.Option("--step", min=1, help="Detection every N minutes of source time.")
    ] = 60,
) -> None:
    """Replay recorded topics through the daemon, its clock following the events' source time."""
    from monitor.replay import (
        Replay,
        ReplayReport,
        decode_in_time_order,
        from_directory,
        from_kafka,
    )
    from monitor.simulation.mailsink import MailSink
    from monitor.store.db import make_engine, upgrade

    if (source is None) == (bootstrap is None):
        console.print("[red]give either --from DIR or --bootstrap HOST:PORT[/red]")
        raise typer.Exit(2)
    if source is not None and not source.is_dir():
        console.print(f"[red]--from {source}: no such directory[/red]")
        raise typer.Exit(2)
    try:
        settings = load_settings(config)
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    directory.mkdir(parents=True, exist_ok=True)
    store = directory / "state.sqlite"
    for stale in (store, store.with_name("state.sqlite-wal"), store.with_name("state.sqlite-shm")):
        stale.unlink(missing_ok=True)  # the replay's own store: each replay starts empty
    update: dict[str, object] = {
        "store": StoreSettings(url=f"sqlite:///{store.resolve()}"),
        "alertmanager": AlertmanagerSettings(),
        "http": HttpSettings(enabled=False, public_url=settings.http.public_url),
    }
    if bootstrap is not None:
        update["kafka"] = settings.kafka.model_copy(update={"bootstrap_servers": [bootstrap]})
    wanted = (
        [t.strip() for t in topics.split(",") if t.strip()]
        if topics
        else [*settings.sources.topics, settings.sources.runs_topic]
    )
    clock = EventClock(datetime.min.replace(tzinfo=UTC))
    with ExitStack() as stack:
        if not send_mail:
            # .eml files named by the replayed time, not the wall clock.
            sink = stack.enter_context(MailSink(directory / "mail", port=0, clock=clock))
            update["smtp"] = settings.smtp.model_copy(
                update={
                    "host": "127.0.0.1",
                    "port": sink.port,
                    "username": None,
                    "password": None,
                    "starttls": False,
                    "use_ssl": False,
                    "enabled": True,
                }
            )
        replayed = settings.model_copy(update=update)
        engine = make_engine(replayed.store.url)
        upgrade(engine)
        report = ReplayReport()
        messages = (
            from_directory(source, wanted) if source is not None else from_kafka(replayed, wanted)
        )
        with console.status("reading and ordering the recorded events…"):
            changes = decode_in_time_order(replayed, messages, report)
        with console.status(f"replaying {len(changes):,} events…"):
            step = timedelta(minutes=step_minutes)
            Replay(replayed, engine, step=step, clock=clock).run(changes, report)
        with engine.connect() as conn:
            by_detector = [
                (str(detector), str(status), int(count))
                for detector, status, count in conn.execute(
                    select(alert.c.detector, alert.c.status, func.count()).group_by(
                        alert.c.detector, alert.c.status
                    )
                )
            ]
        engine.dispose()
    _summary(report, by_detector, directory, send_mail)


def _summary(
    report: ReplayReport,
    by_detector: Sequence[tuple[str, str, int]],
    directory: Path,
    send_mail: bool,
) -> None:
    period = (
        f"{report.first:%Y-%m-%d %H:%M} → {report.last:%Y-%m-%d %H:%M} UTC"
        if report.first and report.last
        else "no event"
    )
    print(f"replayed {report.events} events ({period}) in {report.checkpoints} detection cycles")
    for topic, count in sorted(report.undecodable.items()):
        print(f"skipped {count} undecodable message(s) of {topic}")
    for detector, status, count in by_detector:
        print(f"alerts {detector} {status}: {count}")
    where = "the configured SMTP server" if send_mail else str(directory / "mail")
    print(f"store: {directory / 'state.sqlite'}; emails: {where}")
