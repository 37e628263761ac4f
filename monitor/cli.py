"""The ``ecampus-monitor`` command line."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from monitor.config import ConfigError, Settings, load_settings
from monitor.simulation.command import ScaleChoice

app = typer.Typer(
    help="Watch the data that feeds Ecampus (APOGÉE/REFER, ADE, Moodle) and alert before it breaks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the state store.", no_args_is_help=True)
alerts_app = typer.Typer(help="List and acknowledge alerts.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
dlq_app = typer.Typer(help="Dead-lettered source rows known to detection.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

# soft_wrap: long lines (paths, commands to copy) are not cut at the terminal width.
# Wide enough for the alert tables when the output is a file or a CI log.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML configuration file (also ECAMPUS_MONITOR_CONFIG).",
        exists=False,
        dir_okay=False,
    ),
]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config, **overrides)
    except ConfigError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    return settings


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration (YAML), secrets masked."""
    settings = _settings(config)
    console.print(yaml.safe_dump(settings.masked(), sort_keys=False, allow_unicode=True))


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the state store's tables to the current version (Alembic)."""
    from monitor.store.db import current_revision, make_engine, upgrade

    settings = _settings(config)
    engine = make_engine(settings.store.url)
    with console.status("migrating the state store…"):
        upgrade(engine)
    console.print(f"state store at revision {current_revision(engine)}")


@app.command()
def run(
    config: ConfigOption = None,
    role: Annotated[
        str,
        typer.Option(
            help="all: everything in one process; worker: ingest, detectors and email "
            "(metrics on metrics.port); api: the HTTP API only.",
        ),
    ] = "all",
) -> None:
    """Run the daemon: ingest, detectors, alerts, API and metrics, until SIGTERM/SIGINT."""
    from monitor.daemon import Daemon, StoreNotMigrated

    if role not in ("all", "worker", "api"):
        errors.print("[red]--role must be all, worker or api[/red]")
        raise typer.Exit(2)
    settings = _settings(config)
    daemon = Daemon(settings, role=role)  # type: ignore[arg-type]
    daemon.install_signal_handlers()
    # What is built by now (modules, settings, the compiled mappings) lives as long as the
    # process: the cyclic collector stops walking it at each full collection, which cost
    # the ingest a few µs a message (issue 13). Not in Daemon: tests build many daemons.
    gc.collect()
    gc.freeze()
    try:
        daemon.start()
    except StoreNotMigrated as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    where = f"API on http://{settings.http.host}:{daemon.api.port}" if daemon.api else "no API"
    console.print(f"ecampus-monitor running as {role}; {where}")
    daemon.wait()
    daemon.stop()


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its store, mail and logs.")
    ] = Path(".ecampus-demo"),
    once: Annotated[bool, typer.Option("--once", help="Exit when the story is played.")] = False,
    http_port: Annotated[
        int, typer.Option("--http-port", help="API port (0: any free port).")
    ] = 8080,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the previous demo's store and mail.")
    ] = False,
    scripted: Annotated[
        bool,
        typer.Option(
            "--scripted",
            help="Play the short scripted scenario (three courses archived) "
            "instead of the synthetic university.",
        ),
    ] = False,
    scale: Annotated[
        ScaleChoice,
        typer.Option(help="Synthetic university: small (the demo), tiny (a quick one) or unicaen."),
    ] = ScaleChoice.small,
    nights: Annotated[
        int, typer.Option(min=1, max=30, help="Simulated days, ending this morning.")
    ] = 2,
    seed: Annotated[int, typer.Option(help="Same seed, same university.")] = 1,
) -> None:
    """The embedded default: broker, SQLite store and SMTP server, a university's days, the daemon."""
    from monitor.simulation.demo.runner import DemoPlan, run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # kafka-python logs every refused connection while the embedded broker starts.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    plan = DemoPlan(scripted=scripted, scale=scale.value, nights=nights, seed=seed)
    raise typer.Exit(
        run_demo(directory, once=once, http_port=http_port, keep=keep, console=console, plan=plan)
    )


@alerts_app.command("list")
def alerts_list(
    config: ConfigOption = None,
    status: Annotated[str | None, typer.Option(help="pending, open, acknowledged, …")] = None,
    detector: Annotated[str | None, typer.Option(help="e.g. course_archived")] = None,
    course: Annotated[str | None, typer.Option("--course", help="APOGÉE code (cod_elp)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List alerts from the state store."""
    from alerts.lifecycle import STATUSES
    from alerts.repository import AlertFilter, list_alerts
    from monitor.store.db import make_engine

    if status is not None and status not in STATUSES:
        errors.print(f"[red]--status must be one of {', '.join(STATUSES)}[/red]")
        raise typer.Exit(2)
    settings = _settings(config)
    engine = make_engine(settings.store.url)
    with engine.connect() as conn:
        flt = AlertFilter(status=status, detector=detector, cod_elp=course, limit=limit)
        found = list_alerts(conn, flt)
    if as_json:
        print(json.dumps([asdict(a) for a in found], default=str, ensure_ascii=False, indent=2))
        return
    from monitor.simulation.demo.show import alerts_table

    console.print(alerts_table(found, "alerts"))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (see `alerts list`).")],
    config: ConfigOption = None,
    who: Annotated[
        str | None, typer.Option(help="Who acknowledges (default: the login name).")
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Acknowledge an alert: notifications stop until it worsens or comes back."""
    from alerts.lifecycle import TransitionRefused
    from alerts.repository import AlertNotFound, acknowledge
    from monitor.clock import utc_now
    from monitor.store.db import make_engine

    settings = _settings(config)
    actor = who or os.environ.get("USER") or "cli"
    engine = make_engine(settings.store.url)
    try:
        with engine.begin() as conn:
            alert = acknowledge(conn, alert_id, actor=actor, comment=comment, now=utc_now())
    except AlertNotFound:
        errors.print(f"[red]no alert {alert_id}[/red]")
        raise typer.Exit(1) from None
    except TransitionRefused as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"alert {alert.id} acknowledged by {actor}")


@app.command("diagnose")
def diagnose_command(
    config: ConfigOption = None,
    course: Annotated[str | None, typer.Option("--course", help="APOGÉE code (cod_elp).")] = None,
    student: Annotated[
        str | None, typer.Option("--student", help="Student number (cod_etu).")
    ] = None,
    teacher: Annotated[
        str | None, typer.Option("--teacher", help="Teacher id (ADE/staff).")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="A person by name, email, login or number (case and accents ignored); "
            "several matches are listed (exit code 3) to choose from.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of French text.")] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Answer as of this time (ISO 8601, e.g. 2025-09-15T08:00; local time of "
            "rules.timezone without an offset): R7, R9 and R10 at that time.",
        ),
    ] = None,
) -> None:
    """Answer a support ticket: which rules apply, the facts and their dates, who fixes what."""
    from monitor.clock import utc_now
    from monitor.diagnosis import (
        NothingToDiagnose,
        PersonNotFound,
        SeveralPeople,
        diagnose_ticket,
    )
    from monitor.store.db import make_engine

    settings = _settings(config)
    now = utc_now() if at is None else _moment(at, settings.rules.timezone)
    engine = make_engine(settings.store.url)
    try:
        with engine.connect() as conn:
            diagnosis = diagnose_ticket(
                conn,
                now=now,
                config=settings.rules.detector_config(),
                cod_elp=course,
                cod_etu=student,
                teacher=teacher,
                moodle=settings.moodle,
                person=person,
            )
    except NothingToDiagnose as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    except PersonNotFound as error:
        print(f"Aucun résultat : {error}.")
        raise typer.Exit(1) from None
    except SeveralPeople as several:
        if as_json:
            choices = [{"key": m.key, "how": m.how, "who": m.describe()} for m in several.matches]
            print(
                json.dumps({"choose_one_of": choices, "text": several.text()}, ensure_ascii=False)
            )
        else:
            print(several.text())
        raise typer.Exit(3) from None
    if as_json:
        print(json.dumps(diagnosis.to_dict(), default=str, ensure_ascii=False, indent=2))
    else:
        from detectors.diagnose import render_text

        print(render_text(diagnosis))


def _moment(text: str, timezone: str) -> datetime:
    """An ISO 8601 time from the command line; without an offset, local to ``timezone``."""
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.print(f"[red]--at {text!r} is not an ISO 8601 time (e.g. 2025-09-15T08:00)[/red]")
        raise typer.Exit(2) from None
    local = moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


@app.command("check-sources")
def check_sources_command(
    config: ConfigOption = None,
    sample: Annotated[
        int, typer.Option("--sample", "-n", min=1, help="Messages read per topic, from the start.")
    ] = 1000,
) -> None:
    """Sample every configured topic and say what the daemon would dead-letter or not resolve.

    Reads as a consumer without group: nothing is committed. Exit code 1 when
    a message would be dead-lettered.
    """
    from rich.table import Table

    from monitor.kafka.check_sources import check_sources

    settings = _settings(config)
    with console.status("sampling the topics…"):
        report = check_sources(settings, sample)
    for topic in report.missing_topics:
        console.print(f"[yellow]topic {topic} does not exist (yet): nothing to check[/yellow]")
    table = Table(title=f"{sum(report.sampled.values()):,} message(s) sampled")
    for column in ("topic", "sampled", "problem", "messages", "dead-lettered", "example key"):
        table.add_column(column, overflow="fold")
    for problem in sorted(report.problems.values(), key=lambda p: (p.topic, p.what)):
        table.add_row(
            problem.topic,
            f"{report.sampled[problem.topic]:,}",
            problem.what,
            f"{problem.count:,}",
            "yes" if problem.dead_letter else "no",
            problem.example_key,
        )
    if report.problems:
        # Problems and keys are long: wider than the other tables when not on a terminal.
        Console(soft_wrap=True, width=None if sys.stdout.isatty() else 260).print(table)
    else:
        console.print(f"{sum(report.sampled.values()):,} message(s) sampled: no problem found")
    if report.dead_lettered:
        errors.print(f"[red]{report.dead_lettered:,} message(s) would be dead-lettered[/red]")
        raise typer.Exit(1)


def _register_simulate() -> None:
    from monitor.simulation.command import simulate

    app.command("simulate")(simulate)


_register_simulate()


def _register_outbox() -> None:
    from monitor.outbox_command import outbox_app

    app.add_typer(outbox_app, name="outbox")


_register_outbox()


def _register_replay() -> None:
    from monitor.replay_command import replay

    app.command("replay")(replay)


_register_replay()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


def _register_sources() -> None:
    from monitor.sources.command import reconcile_sources, source_app

    app.add_typer(source_app, name="source")
    app.command("reconcile-sources")(reconcile_sources)


_register_sources()


@dlq_app.command("clear")
def dlq_clear(
    config: ConfigOption = None,
    topic: Annotated[str | None, typer.Option(help="Only this source topic.")] = None,
) -> None:
    """Forget dead-lettered rows handled by hand: alerts about their ELPs are emailed again.

    The ``ingest_dead_letters`` alert resolves at the next detection cycle.
    """
    from monitor.dead_letter_alerts import clear
    from monitor.store.db import make_engine

    settings = _settings(config)
    engine = make_engine(settings.store.url)
    forgotten = clear(engine, topic)
    engine.dispose()
    console.print(f"{forgotten} dead-lettered row(s) forgotten")
