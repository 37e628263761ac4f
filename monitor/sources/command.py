"""``ecampus-monitor source refer|moodle`` and ``ecampus-monitor reconcile-sources``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from monitor.config import Settings

source_app = typer.Typer(
    help="Read a source database without Debezium and publish its changes as Debezium events.",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL of the source (default: source.urls.<name>)."),
]
OnceOption = Annotated[bool, typer.Option("--once", help="One pass, then exit.")]
SchemaOption = Annotated[
    str | None,
    typer.Option(
        "--schema", help="Schema to read (default: the topic's on Oracle, else the URL's)."
    ),
]


def source_url(settings: Settings, name: str, url: str | None) -> str:
    """The URL given, else the configured one; exit 2 with a message when there is none."""
    from monitor.cli import errors

    if url:
        return url
    configured = settings.source.urls.get(name)
    if configured is None:
        errors.print(f"[red]no URL for source {name!r}: give --url or set source.urls.{name}[/red]")
        raise typer.Exit(2)
    return configured.get_secret_value()


def _migrated_store(url: str) -> Engine:
    """The state store, or exit 2 when it is not at the current schema (the checkpoint table)."""
    from monitor.cli import errors
    from monitor.store.db import current_revision, head_revision, make_engine

    store = make_engine(url)
    try:
        revision = current_revision(store)
    except Exception as error:  # unreachable store: say so in one line
        errors.print(f"[red]cannot reach the state store: {str(error).splitlines()[0]}[/red]")
        raise typer.Exit(2) from None
    if revision != head_revision():
        errors.print("[red]the state store is not migrated: run `ecampus-monitor db upgrade`[/red]")
        raise typer.Exit(2)
    return store


def _poll(name: str, config: Path | None, url: str | None, once: bool, schema: str | None) -> None:
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from monitor.cli import _settings, console, errors
    from monitor.clock import utc_now
    from monitor.kafka.broker import ensure_topics
    from monitor.kafka.ingest.kafka_options import client_options
    from monitor.sources.poller import (
        SourcePoller,
        SourceUnavailable,
        poller_producer_options,
        probe,
        source_engine,
    )
    from monitor.sources.reader import SourceTableError

    settings = _settings(config)
    try:
        engine = source_engine(source_url(settings, name, url))
        probe(engine)
        store = _migrated_store(settings.store.url)
        producer = KafkaProducer(**poller_producer_options(settings))
        poller = SourcePoller(settings, name, engine, store, producer, clock=utc_now, schema=schema)
    except (SourceUnavailable, ValueError, KafkaError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    ensure_topics(client_options(settings.kafka), [spec.topic for spec in poller.tables])
    try:
        while True:
            try:
                for report in poller.run_pass():
                    ops = ", ".join(f"{op} {n}" for op, n in report.ops.items() if n)
                    console.print(f"{report.topic}: {report.rows} rows; {ops or 'no change'}")
            except (SourceUnavailable, SourceTableError, KafkaError) as error:
                errors.print(f"[red]{error}[/red]")
                if once:
                    raise typer.Exit(1) from None
            if once:
                return
            poller.clock.sleep(settings.source.poll_interval)
    finally:
        producer.close()
        engine.dispose()


@source_app.command("refer")
def source_refer(
    config: Annotated[Path | None, typer.Option("--config", "-c", dir_okay=False)] = None,
    url: UrlOption = None,
    once: OnceOption = False,
    schema: SchemaOption = None,
) -> None:
    """Poll REFER's tables (oracle+oracledb://, thin mode: no Oracle client needed)."""
    _poll("refer", config, url, once, schema)


@source_app.command("moodle")
def source_moodle(
    config: Annotated[Path | None, typer.Option("--config", "-c", dir_okay=False)] = None,
    url: UrlOption = None,
    once: OnceOption = False,
    schema: SchemaOption = None,
) -> None:
    """Poll Moodle's tables (mysql+pymysql:// or postgresql+psycopg://)."""
    _poll("moodle", config, url, once, schema)


def reconcile_sources(
    config: Annotated[Path | None, typer.Option("--config", "-c", dir_okay=False)] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="refer, moodle (default: every source.urls entry)."),
    ] = None,
    url: UrlOption = None,
    schema: SchemaOption = None,
) -> None:
    """Compare the state store with the source tables; report the drift (alert, metrics).

    The store is not changed. Exit 0 when the store matches, 1 on drift, 2 on error.
    """
    from monitor.cli import _settings, console, errors
    from monitor.clock import utc_now
    from monitor.sources import reconcile
    from monitor.sources.poller import SourceUnavailable
    from monitor.sources.reader import SourceTableError

    settings = _settings(config)
    names = source or sorted(settings.source.urls)
    if not names:
        errors.print(
            "[red]no source to reconcile: give --source and --url or set source.urls[/red]"
        )
        raise typer.Exit(2)
    if url and len(names) != 1:
        errors.print("[red]--url needs exactly one --source[/red]")
        raise typer.Exit(2)
    urls = {name: source_url(settings, name, url) for name in names}
    store = _migrated_store(settings.store.url)
    try:
        drifts = reconcile.reconcile_sources(
            settings, store, urls, schemas={name: schema for name in names}
        )
    except (SourceUnavailable, SourceTableError, ValueError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    reconcile.record(
        store, drifts, now=utc_now(), metrics=None, notifier=reconcile.notifier_for(settings)
    )
    for drift in drifts:
        console.print(
            f"{drift.topic}: {drift.source_rows} source rows; missing {drift.missing}, "
            f"extra {drift.extra}, different {drift.different}"
            + (f", unmappable {drift.unmappable}" if drift.unmappable else "")
        )
    raise typer.Exit(1 if any(d.total for d in drifts) else 0)
