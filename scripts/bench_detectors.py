"""Measure the detectors and diagnosis over a real SQLite state store holding a synthetic university.

The store is built once per (scale, seed, nights, faults) and kept (``--db``):
the simulator's events (snapshot, days of edits with faults of every data
kind, nightly runs) are encoded as JSON, decoded by the daemon's
``MessageDecoder`` and written by ``apply_changes`` in batches of 5,000: the
ingest path without Kafka. Measurements run on a copy, so reruns start alike.

    python scripts/bench_detectors.py                      # unicaen (builds the store: ~2.5 min)
    python scripts/bench_detectors.py --scale small        # a minute
    python scripts/bench_detectors.py --profile incremental  # cProfile of one measurement

Each measurement is repeated and given as median and spread, next to a
baseline measured in the same loop (the machine is shared and noisy):

- full pass: ``load_facts(conn)`` against a raw scan of the same rows (no
  facts built); every detector of ``DETECTORS`` against the model's
  ``expected_state`` alone; ``DetectionPipeline.run_after_run`` (load, detect,
  reconcile into alerts) against ``load_facts``; the after-run and daily passes due
  together, in one call over one load (``run_whole_state``), against the two apart;
- incremental: ``load_facts(conn, [cod_elp])`` and the "ahead" detectors for
  random ELPs, with the ELP offer kept (``ElpOffer``) and without; and
  ``run_ahead`` with one dirty ELP, made dirty by a neighbour row or by an edit
  of the ELP itself; against a one-row query;
- diagnosis: ``diagnose_ticket`` for course, student and teacher tickets,
  against the same one-row query.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, delete, func, insert, select

from alerts.notify.outbox import Notifier
from alerts.routing import Router
from alerts.tables import alert
from detectors.base import DetectorConfig
from detectors.model import expected_state
from detectors.registry import DETECTORS, detectors_for
from detectors.shared.model_bridge import model_config
from monitor.diagnosis import diagnose_ticket
from monitor.kafka.events import encode
from monitor.kafka.ingest.decode import MessageDecoder
from monitor.kafka.mapping import Change, fact_to_row
from monitor.metrics import Metrics
from monitor.pipeline import DetectionPipeline
from monitor.store.apply import apply_changes
from monitor.store.db import make_engine, upgrade
from monitor.store.offer import ElpOffer
from monitor.store.rows import load_rows
from monitor.store.schema import dirty_elp, fact_tables, pipeline_cursor
from monitor.store.snapshot import load_facts

# Wide enough for the table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 180)
BATCH = 5_000
MEASUREMENTS = ("full", "after_run", "morning", "incremental", "run_ahead", "diagnose")
CONFIG = DetectorConfig()
# Every data fault kind; the nightly-run ones need more nights than a benchmark wants.
NO_RUN_FAULTS = dict.fromkeys(
    ("missing_run", "late_run", "failed_run", "warnings_spike", "silent_source"), 0
)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# --- the store ---------------------------------------------------------------------------------
def build_store(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Simulate, and ingest every event through the decoder into a fresh store at ``path``."""
    from monitor.config import SourceSettings
    from monitor.simulation import FaultConfig, Simulation

    faults = FaultConfig.model_validate({"default": args.faults, "sync_run_health": NO_RUN_FAULTS})
    started = time.perf_counter()
    simulation = Simulation(args.scale, seed=args.seed, nights=args.nights, faults=faults)
    generated = time.perf_counter() - started
    checkpoints: list[datetime] = []
    simulation.checkpoint = lambda moment, _moments: checkpoints.append(moment)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    decoder = MessageDecoder(SourceSettings())
    events = 0
    batch: list[Any] = []

    def flush() -> None:
        with engine.begin() as conn:
            apply_changes(conn, batch, datetime.now(UTC))
        batch.clear()

    with _progress() as progress:
        task = progress.add_task(f"ingesting {args.scale}", total=None)
        for message in simulation.events():
            change = decoder.decode(message.topic, encode(message.value))
            events += 1
            if change is not None:
                batch.append(change)
            if len(batch) >= BATCH:
                flush()
                progress.update(task, completed=events)
        flush()
    engine.dispose()
    info = {
        "params": _params(args),
        "events": events,
        "faults": sum(1 for r in simulation.truth if r.primary),
        "generate_seconds": generated,
        "build_seconds": time.perf_counter() - started,
        # The morning after the last night: what the after-run pass would see.
        "now": checkpoints[-1].isoformat(),
    }
    Path(f"{path}.json").write_text(json.dumps(info, indent=2))
    return info


def _params(args: argparse.Namespace) -> dict[str, Any]:
    return {"scale": args.scale, "seed": args.seed, "nights": args.nights, "faults": args.faults}


def pristine_store(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    path = Path(args.db or Path(tempfile.gettempdir()) / f"bench_detectors_{args.scale}.sqlite")
    sidecar = Path(f"{path}.json")
    if path.exists() and sidecar.exists() and not args.rebuild:
        info: dict[str, Any] = json.loads(sidecar.read_text())
        if info["params"] == _params(args):
            console.print(f"reusing the store {path} (built in {info['build_seconds']:.0f} s)")
            return path, info
    console.print(f"building the store {path}")
    info = build_store(path, args)
    console.print(f"built in {info['build_seconds']:.0f} s: {info['events']:,} events")
    return path, info


@contextmanager
def working_copy(pristine: Path) -> Iterator[Engine]:
    """A copy of the store, so alerts and cursors of one run never leak into the next."""
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / "state.sqlite"
        shutil.copyfile(pristine, copy)
        engine = make_engine(f"sqlite:///{copy}")
        try:
            yield engine
        finally:
            engine.dispose()


# --- statistics --------------------------------------------------------------------------------
@dataclasses.dataclass
class Timing:
    """Seconds of repeated runs of one measurement and of its baseline, measured alongside."""

    name: str
    seconds: list[float]
    baseline_name: str
    baseline: list[float]
    aim: float | None = None
    note: str = ""

    def median(self) -> float:
        return statistics.median(self.seconds)

    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def ratio(self) -> float:
        return self.median() / statistics.median(self.baseline)

    def verdict(self, value: float) -> str:
        if self.aim is None:
            return ""
        return "met" if value < self.aim else "MISSED"


def _time(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _format(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


# --- measurements ------------------------------------------------------------------------------
def raw_scan(engine: Engine) -> int:
    """Every live fact row fetched as tuples: the database and driver, no facts built."""
    rows = 0
    with engine.connect() as conn:
        for table in fact_tables.values():
            rows += len(conn.execute(select(table).where(table.c.tombstone.is_(False))).all())
    return rows


def measure_full(engine: Engine, now: datetime, repeat: int) -> list[Timing]:
    loads, scans, models, detections = [], [], [], []
    per_detector: dict[str, list[float]] = {d.name: [] for d in DETECTORS}
    findings = 0
    with _progress() as progress:
        task = progress.add_task("full pass", total=repeat)
        for _ in range(repeat):
            scans.append(_time(lambda: raw_scan(engine))[0])
            with engine.connect() as conn:
                seconds, facts = _time(lambda: load_facts(conn))
            loads.append(seconds)
            fresh = dataclasses.replace(facts)  # no memoised model, no indexes
            models.append(_time(lambda: expected_state(fresh, now, model_config(CONFIG)))[0])  # noqa: B023
            fresh = dataclasses.replace(facts)
            total, findings = 0.0, 0
            for detector in DETECTORS:
                seconds, found = _time(
                    lambda: detector.detect(fresh, now=now, scope=None, config=CONFIG)  # noqa: B023
                )
                per_detector[detector.name].append(seconds)
                total += seconds
                findings += len(found)
            detections.append(total)
            progress.advance(task)
    slowest = sorted(per_detector.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
    detail = ", ".join(f"{name} {_format(statistics.median(s))}" for name, s in slowest)
    return [
        Timing("load_facts(conn): the whole state", loads, "raw scan of the same rows", scans),
        Timing(
            f"every detector ({len(DETECTORS)}), whole state",
            detections,
            "model alone (expected_state)",
            models,
            aim=10.0,
            note=f"{findings:,} findings; slowest: {detail}",
        ),
    ]


def _pipeline(engine: Engine) -> DetectionPipeline:
    router = Router(cemu="cemu@example.org", composantes={})
    return DetectionPipeline(
        engine,
        notifier=Notifier(router, "https://ecm.example.org"),
        sender=None,
        metrics=Metrics(CollectorRegistry()),
        config=CONFIG,
    )


def measure_after_run(pristine: Path, now: datetime, repeat: int) -> Timing:
    """The after-run pass on a fresh copy each time: the first pass opens every alert."""
    passes, loads = [], []
    opened = 0
    with _progress() as progress:
        task = progress.add_task("run_after_run", total=repeat)
        for _ in range(repeat):
            with working_copy(pristine) as engine:
                with engine.connect() as conn:
                    loads.append(_time(lambda: load_facts(conn))[0])
                seconds, report = _time(lambda: _pipeline(engine).run_after_run(now))
                passes.append(seconds)
                assert report is not None, "no finished run in the store"
                opened = report.opened
            progress.advance(task)
    return Timing(
        "DetectionPipeline.run_after_run (load, detect, reconcile)",
        passes,
        "load_facts(conn)",
        loads,
        note=f"opens {opened:,} alerts",
    )


def measure_morning(pristine: Path, now: datetime, repeat: int) -> Timing:
    """The after-run and daily passes due together (a morning start, a backlog), each on
    a fresh copy: ``run_whole_state`` (one load for both) against the two passes apart."""
    together, apart = [], []
    with _progress() as progress:
        task = progress.add_task("morning", total=repeat)
        for _ in range(repeat):
            with working_copy(pristine) as engine:
                seconds, both = _time(lambda: _pipeline(engine).run_whole_state(now))
                together.append(seconds)
                assert both.after_run is not None and both.daily is not None, "not both due"
            with working_copy(pristine) as engine:
                pipeline = _pipeline(engine)
                apart.append(
                    _time(lambda: (pipeline.run_after_run(now), pipeline.run_daily(now)))[0]  # noqa: B023
                )
            progress.advance(task)
    return Timing(
        "after-run and daily passes due together: one load (run_whole_state)",
        together,
        "the two passes apart (run_after_run, run_daily)",
        apart,
    )


def _trivial(engine: Engine, code: str) -> float:
    elp = fact_tables["elp"]
    with engine.connect() as conn:
        return _time(lambda: conn.execute(select(elp).where(elp.c.cod_elp == code)).all())[0]


def measure_incremental(engine: Engine, now: datetime, codes: Sequence[str]) -> list[Timing]:
    """One ELP's neighbourhood and the ahead detectors: with the ELP offer kept, as the
    pipeline keeps it between batches, and with the whole offer read (no offer kept)."""
    ahead = detectors_for("ahead")
    kept, whole, loads, detections, trivial = [], [], [], [], []
    offer = ElpOffer()
    with engine.connect() as conn:
        offer.read(conn)
    with _progress() as progress:
        task = progress.add_task("incremental", total=len(codes))
        for code in codes:
            trivial.append(_trivial(engine, code))
            with engine.connect() as conn:
                cold = _time(lambda: load_facts(conn, [code]))[0]  # noqa: B023
                load, facts = _time(lambda: load_facts(conn, [code], offer=offer))  # noqa: B023
            detect = sum(
                _time(lambda: d.detect(facts, now=now, scope=[code], config=CONFIG))[0]  # noqa: B023
                for d in ahead
            )
            loads.append(load)
            detections.append(detect)
            kept.append(load + detect)
            whole.append(cold + detect)
            progress.advance(task)
    base = "one-row query (the ELP)"
    names = ", ".join(d.name for d in ahead)
    return [
        Timing("incremental: load + ahead detectors", kept, base, trivial, aim=0.05, note=names),
        Timing("  of which load_facts(conn, [cod_elp], offer)", loads, base, trivial),
        Timing("  of which ahead detectors", detections, base, trivial),
        Timing(
            "incremental, the whole ELP offer read",
            whole,
            base,
            trivial,
            aim=0.05,
            note="without ElpOffer: the first pass of a process, or after a batch committed late",
        ),
    ]


def measure_run_ahead(pristine: Path, now: datetime, codes: Sequence[str]) -> list[Timing]:
    """``run_ahead`` with one dirty ELP: made dirty by a row of its neighbourhood (the offer
    kept as is) or by an edit of the ELP itself (the offer brought up to date first)."""
    base = "one-row query (the ELP)"
    elp = fact_tables["elp"]
    neighbour, edited, trivial = [], [], []
    with working_copy(pristine) as copy, _progress() as progress:
        task = progress.add_task("run_ahead", total=2 * len(codes))
        pipeline = _pipeline(copy)
        with copy.begin() as conn:
            conn.execute(delete(dirty_elp))
        for code in codes:
            trivial.append(_trivial(copy, code))
            with copy.begin() as conn:
                conn.execute(insert(dirty_elp).values(cod_elp=code, since=now.replace(tzinfo=None)))
            seconds, report = _time(lambda: pipeline.run_ahead(now))
            assert report is not None and report.scope_size == 1
            neighbour.append(seconds)
            progress.advance(task)
            with copy.begin() as conn:
                (fact,) = load_rows(conn, "elp", elp.c.cod_elp == code)
                row = fact_to_row(fact) | {"label": f"{fact.label} (modifié)"}
                version = int(fact.as_of.timestamp() * 1000) + 1000
                batch = apply_changes(conn, [Change("elp", code, row, version)], datetime.now(UTC))
                assert batch.dirty_elps == {code}
            seconds, report = _time(lambda: pipeline.run_ahead(now))
            assert report is not None and report.scope_size == 1
            edited.append(seconds)
            progress.advance(task)
    return [
        Timing("DetectionPipeline.run_ahead, one dirty ELP", neighbour, base, trivial, aim=0.05),
        Timing(
            "DetectionPipeline.run_ahead, the ELP itself edited",
            edited,
            base,
            trivial,
            aim=0.05,
            note="the kept offer brought up to date by the rows written since",
        ),
    ]


def ticket_samples(engine: Engine, rng: random.Random, count: int) -> dict[str, list[str]]:
    t = fact_tables
    with engine.connect() as conn:

        def live(column: Any) -> list[str]:
            table = column.table
            query = select(column).where(table.c.tombstone.is_(False)).distinct()
            return sorted(v for v in conn.execute(query).scalars() if v)

        teachers = sorted(
            {
                teacher
                for row in conn.execute(select(t["ade_fiche"].c.teachers)).scalars()
                for teacher in row or []
            }
        )
        samples = {
            "course": live(t["elp"].c.cod_elp),
            "student": live(t["ip"].c.cod_etu),
            "teacher": teachers,
        }
    return {kind: rng.sample(values, min(count, len(values))) for kind, values in samples.items()}


def measure_diagnose(engine: Engine, now: datetime, tickets: dict[str, list[str]]) -> list[Timing]:
    argument = {"course": "cod_elp", "student": "cod_etu", "teacher": "teacher"}
    offer = ElpOffer()  # as GET /diagnose keeps it; the CLI reads the offer each time
    timings = []
    with _progress() as progress:
        for kind, values in tickets.items():
            task = progress.add_task(f"diagnose by {kind}", total=len(values))
            seconds, trivial, points = [], [], 0
            for value in values:
                trivial.append(_trivial(engine, value))
                with engine.connect() as conn:
                    elapsed, diagnosis = _time(
                        lambda: diagnose_ticket(
                            conn,
                            now=now,
                            config=CONFIG,
                            offer=offer,
                            **{argument[kind]: value},  # noqa: B023
                        )
                    )
                seconds.append(elapsed)
                points += len(diagnosis.points)
                progress.advance(task)
            note = f"{len(values)} tickets, {points / len(values):.1f} points each"
            timings.append(
                Timing(
                    f"diagnose_ticket by {kind}",
                    seconds,
                    "one-row query",
                    trivial,
                    aim=1.0,
                    note=note,
                )
            )
    return timings


# --- output ------------------------------------------------------------------------------------
def show(timings: list[Timing], title: str) -> None:
    table = Table(title=title)
    for column in ("measurement", "n", "median", "p95", "min–max", "baseline (median)", "ratio"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    table.add_column("aim")
    for t in timings:
        aim = "" if t.aim is None else f"< {_format(t.aim)}: {t.verdict(t.p95())}"
        table.add_row(
            escape(t.name),
            str(len(t.seconds)),
            _format(t.median()),
            _format(t.p95()),
            f"{_format(min(t.seconds))}–{_format(max(t.seconds))}",
            f"{t.baseline_name}: {_format(statistics.median(t.baseline))}",
            f"{t.ratio():,.1f}×",
            aim,
        )
    console.print(table)


def markdown(timings: list[Timing]) -> str:
    lines = [
        "| measurement | n | median | p95 | min–max | baseline, median | ratio | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in timings:
        aim = "" if t.aim is None else f"aim < {_format(t.aim)} ({t.verdict(t.p95())}). "
        lines.append(
            f"| {t.name.strip()} | {len(t.seconds)} | {_format(t.median())} | {_format(t.p95())} "
            f"| {_format(min(t.seconds))}–{_format(max(t.seconds))} | {t.baseline_name}: "
            f"{_format(statistics.median(t.baseline))} | {t.ratio():,.1f}× | {aim}{t.note} |"
        )
    return "\n".join(lines)


def store_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(
                select(func.count()).select_from(table).where(table.c.tombstone.is_(False))
            ).scalar_one()
            for name, table in fact_tables.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="unicaen", choices=["tiny", "small", "unicaen"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=2, help="simulated nights (default 2)")
    parser.add_argument("--faults", type=int, default=3, help="faults of every data kind")
    parser.add_argument("--db", help="where the store is kept between runs (default: temp dir)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store even if kept")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of full passes")
    parser.add_argument("--samples", type=int, default=100, help="ELPs for incremental passes")
    parser.add_argument("--tickets", type=int, default=40, help="diagnose tickets of each kind")
    parser.add_argument(
        "--only", choices=MEASUREMENTS, action="append", help="this measurement only (repeatable)"
    )
    parser.add_argument("--profile", choices=MEASUREMENTS, help="cProfile of one measurement")
    args = parser.parse_args()
    wanted = [args.profile] if args.profile else args.only or list(MEASUREMENTS)

    console.print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; scale {args.scale}, seed {args.seed}"
    )
    pristine, info = pristine_store(args)
    now = datetime.fromisoformat(info["now"])
    rng = random.Random(args.seed)
    engine = make_engine(f"sqlite:///{pristine}")
    counts = store_counts(engine)
    console.print(
        "store: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()) + f"; now = {now:%Y-%m-%d %H:%M} UTC"
    )  # fmt: skip
    with engine.connect() as conn:
        codes = sorted(
            conn.execute(
                select(fact_tables["elp"].c.cod_elp).where(
                    fact_tables["elp"].c.tombstone.is_(False)
                )
            ).scalars()
        )
    sample = rng.sample(codes, min(args.samples, len(codes)))
    tickets = ticket_samples(engine, rng, args.tickets)

    steps: dict[str, Callable[[], list[Timing]]] = {
        "full": lambda: measure_full(engine, now, args.repeat),
        "after_run": lambda: [measure_after_run(pristine, now, args.repeat)],
        "morning": lambda: [measure_morning(pristine, now, args.repeat)],
        "incremental": lambda: measure_incremental(engine, now, sample),
        "run_ahead": lambda: measure_run_ahead(pristine, now, sample[: args.samples // 4]),
        "diagnose": lambda: measure_diagnose(engine, now, tickets),
    }
    results: list[Timing] = []
    for name in wanted:
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            steps[name]()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            return
        found = steps[name]()
        show(found, name)
        results += found
    # Keep the store for the next run; the working copies are gone already.
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(alert)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(pipeline_cursor)).scalar_one() == 0
    engine.dispose()
    console.print(f"\nMarkdown for BENCHMARKS.md ({args.scale}, seed {args.seed}):\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
