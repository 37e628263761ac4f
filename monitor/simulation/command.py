"""``ecampus-monitor simulate``: a synthetic university lives N nights, as Kafka events or files.

Register with ``app.command("simulate")(simulate)``. Destinations (at least
one; ``--out`` combines with either broker): ``--out DIR`` writes JSON lines
files (one per topic), ``--bootstrap HOST:PORT`` publishes to any Kafka,
``--embedded`` starts the embedded broker, publishes to it, prints its address
and keeps it running until Ctrl-C or SIGTERM (its storage is memory only:
stopping it loses the events, so "publish and exit" would publish for
nobody). The ground truth of the injected faults goes to
``DIR/ground_truth.jsonl`` with ``--out``, else to ``./ground_truth.jsonl``.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from monitor.kafka.broker import EmbeddedBroker
    from monitor.kafka.events import OutgoingMessage
    from monitor.simulation.sinks import JsonLinesWriter
    from monitor.simulation.timeline import Simulation

console = Console(stderr=True)
ZONE = "Europe/Paris"


class ScaleChoice(StrEnum):
    tiny = "tiny"
    small = "small"
    unicaen = "unicaen"


def parse_start(value: str | None, nights: int, zone: str = ZONE) -> date:
    """The snapshot day: a date (``2026-10-05``), or ``now`` (the last night ends this morning)."""
    if value is None:
        from monitor.simulation.timeline import DEFAULT_START

        return DEFAULT_START
    if value.strip().lower() == "now":
        return datetime.now(ZoneInfo(zone)).date() - timedelta(days=nights)
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise typer.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD or now)") from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f}"),
        TimeElapsedColumn(),
        console=console,
    )


def simulate(
    scale: Annotated[
        ScaleChoice,
        typer.Option(
            help="tiny: 160 ELPs, 1,200 students (tests, a quick trial). "
            "small: ~300 ELPs, 3,000 students. unicaen: ~14,000 ELPs, 30,000 students."
        ),
    ] = ScaleChoice.small,
    nights: Annotated[
        int, typer.Option(min=1, max=366, help="Days of edits, each followed by a nightly run.")
    ] = 2,
    seed: Annotated[int, typer.Option(help="Same seed, same university and same events.")] = 1,
    bootstrap: Annotated[
        str | None, typer.Option(help="Publish to this Kafka bootstrap server (HOST:PORT).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Write JSON lines files (one per topic) and the ground truth here.",
        ),
    ] = None,
    faults: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="YAML of the faults to inject (default: one of each data fault; `default: 0` for a clean university).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="Snapshot day, YYYY-MM-DD (default 2026-10-05), or `now`: the last night ends this morning."
        ),
    ] = None,
    embedded: Annotated[
        bool,
        typer.Option(
            help="Start the embedded broker, publish to it, keep it running until Ctrl-C."
        ),
    ] = False,
) -> None:
    """Generate a synthetic university and live N days and nights: REFER/ADE edits, lmsjonction runs, Moodle changes."""
    # The simulator is imported here, not with the CLI: ``ecampus-monitor run`` and every
    # other command start without it (tests/monitor/test_clock.py).
    from monitor.simulation.faults import FaultConfig, write_truth
    from monitor.simulation.generator import GENERATION_STEPS
    from monitor.simulation.injection import NoTarget
    from monitor.simulation.schedule import ScheduleError
    from monitor.simulation.sinks import SUMMARY_FILE, TRUTH_FILE
    from monitor.simulation.timeline import Simulation

    if out is None and bootstrap is None and not embedded:
        raise typer.BadParameter(
            "choose a destination: --out DIR, --bootstrap HOST:PORT or --embedded"
        )
    if bootstrap is not None and embedded:
        raise typer.BadParameter("--bootstrap and --embedded are exclusive: choose one broker")
    try:
        config = FaultConfig.from_yaml(faults) if faults is not None else FaultConfig()
    except (ValidationError, ValueError) as error:
        console.print(f"[red]invalid faults file {faults}: {error}[/red]")
        raise typer.Exit(2) from None
    first_day = parse_start(start, nights)
    broker = _start_embedded() if embedded else None
    try:
        if broker is not None:
            bootstrap = broker.bootstrap_servers
        try:
            with _progress() as progress:
                generating = progress.add_task("generating", total=len(GENERATION_STEPS))
                simulation = Simulation(
                    scale.value,
                    seed=seed,
                    nights=nights,
                    start=first_day,
                    faults=config,
                    on_step=lambda step: progress.update(
                        generating, advance=1, description=f"generated {step}"
                    ),
                )
                counts = _emit(simulation, progress, out, bootstrap)
        except (ScheduleError, NoTarget) as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
        truth_path = (out or Path.cwd()) / TRUTH_FILE
        write_truth(truth_path, simulation.truth)
        if out is not None:
            summary = {
                "scale": scale.value,
                "seed": seed,
                "nights": nights,
                "start": first_day.isoformat(),
                "events": dict(sorted(counts.items())),
                "faults": sum(r.primary for r in simulation.truth),
            }
            (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
        console.print(
            f"{sum(counts.values()):,} events on {len(counts)} topics; "
            f"{sum(r.primary for r in simulation.truth)} faults injected, ground truth in {truth_path}"
        )
        if broker is not None:
            _serve(broker.bootstrap_servers)
    finally:
        if broker is not None:
            broker.stop()


def _start_embedded() -> EmbeddedBroker:
    from monitor.kafka.broker import BrokerDidNotStart, BrokerNotInstalled, EmbeddedBroker

    try:
        return EmbeddedBroker().start()
    except (BrokerNotInstalled, BrokerDidNotStart) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _emit(
    simulation: Simulation, progress: Progress, out: Path | None, bootstrap: str | None
) -> Counter[str]:
    """Stream the events to the files and/or the broker, with progress bars; count per topic."""
    from monitor.simulation.sinks import JsonLinesWriter, publish_to_kafka

    snapshot_size = simulation.snapshot_size()
    snapshot = progress.add_task("snapshot events", total=snapshot_size)
    nights = progress.add_task("days and nights events", total=None)
    seen = 0

    def tracked(messages: Iterator[OutgoingMessage]) -> Iterator[OutgoingMessage]:
        nonlocal seen
        for message in messages:
            seen += 1
            progress.advance(snapshot if seen <= snapshot_size else nights)
            yield message

    stream = tracked(simulation.events())
    writer = JsonLinesWriter(out) if out is not None else None
    if writer is not None:
        stream = _tee(stream, writer)
    try:
        if bootstrap is None:
            return Counter(message.topic for message in stream)
        return publish_to_kafka(bootstrap, stream, simulation.topics())
    finally:
        if writer is not None:
            writer.close()


def _tee(messages: Iterator[OutgoingMessage], writer: JsonLinesWriter) -> Iterator[OutgoingMessage]:
    for message in messages:
        writer.write(message)
        yield message


def _serve(address: str) -> None:
    """Keep the embedded broker up until Ctrl-C or SIGTERM."""
    console.print(
        f"embedded broker on [bold]{address}[/bold]; run the daemon against it with\n"
        f"  ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS='[\"{address}\"]' ecampus-monitor run\n"
        "Ctrl-C stops the broker (memory storage: the events go with it)."
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Set both: a shell may start a background job with SIGINT ignored.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping the embedded broker")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
