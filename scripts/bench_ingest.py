"""Ingest throughput, side by side in one run: the Kafka client, the decoder, the real worker.

Publishes a simulated university to the embedded broker once, then consumes the
same topics, each path in a fresh consumer group, each figure counted from the
first message consumed:

- A: kafka-python consume + ``json.loads`` of each value (the client's own speed);
- B: A + the monitor's ``MessageDecoder.decode`` (parse and mapping, no store);
- the worker: ``ecampus-monitor run --role worker`` as a real process, per store,
  read from its own ``/metrics`` (``ecampus_monitor_events_consumed_total``), with
  its peak RSS.

The worker's ``ecampus_monitor_ingest_stage_seconds`` (poll, decode, map, apply,
dirty, store_commit, dead_letters, offset_commit, other) is printed per stage.

Each path's CPU time over the same span is printed too (A's: the bench process's;
the worker's: its process, every thread): microseconds of CPU a message, and A's
divided by it, a ratio that the load of a shared machine moves much less than
the wall-clock one (MariaDB's server works in its own process: not counted).

Rerun (about 2 minutes at small scale; MariaDB from ``--mariadb-url``):

    .venv/bin/python scripts/bench_ingest.py --scale small --stores sqlite,mariadb
    # the first ingest of the whole unicaen snapshot: time and peak RSS (about 10 minutes)
    .venv/bin/python scripts/bench_ingest.py --scale unicaen --snapshot --paths A
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from kafka import KafkaConsumer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from monitor.config import load_settings
from monitor.kafka.broker import EmbeddedBroker, free_port
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.metrics import INGEST_STAGES
from monitor.simulation.faults import FaultConfig
from monitor.simulation.sinks import publish_to_kafka
from monitor.simulation.timeline import Simulation

console = Console()
EVENTS_METRIC = "ecampus_monitor_events_consumed_total"
STAGE_METRIC = "ecampus_monitor_ingest_stage_seconds_sum"


@dataclass(frozen=True)
class Figure:
    path: str
    messages: int
    seconds: float
    peak_rss_mb: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float | None = None  # the process's CPU over the same span, every thread

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_message(self) -> float | None:
        """Microseconds of CPU a message: what the load of the machine moves least."""
        if self.cpu_seconds is None or not self.messages:
            return None
        return self.cpu_seconds / self.messages * 1e6


def consume(
    bootstrap: str, topics: list[str], total: int, work: Callable[[str, bytes | None], None]
) -> Figure:
    """Consume ``total`` messages in a fresh group, timing from the first one received."""
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=60000,
    )
    seen = 0
    started: float | None = None
    cpu = 0.0
    try:
        while seen < total:
            batches = consumer.poll(timeout_ms=1000)
            for records in batches.values():
                if started is None:
                    started, cpu = time.perf_counter(), time.process_time()
                for record in records:
                    work(record.topic, record.value)
                seen += len(records)
    finally:
        consumer.close()
    assert started is not None
    return Figure("", seen, time.perf_counter() - started, cpu_seconds=time.process_time() - cpu)


def run_worker(
    bootstrap: str, store_url: str, total: int, workdir: Path, code: Path | None = None
) -> Figure:
    """The real worker process on the published topics, until its metrics count ``total``.

    ``code``: another checkout of the project whose worker to run instead (``PYTHONPATH``).
    """
    port = free_port()
    config = workdir / f"worker-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {
                    "bootstrap_servers": [bootstrap],
                    "group_id": f"bench-worker-{uuid.uuid4().hex[:8]}",
                    "session_timeout_ms": 6000,
                    "heartbeat_interval_ms": 1000,
                },
                "store": {"url": store_url},
                "metrics": {"port": port},
                "smtp": {"host": "127.0.0.1", "port": free_port()},
            }
        )
    )
    env = os.environ | {"ECAMPUS_MONITOR_CONFIG": str(config)}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    # ``-m`` puts the working directory first on the path: the checkout's own, for its code.
    cwd = code if code is not None else None
    subprocess.run(
        [sys.executable, "-m", "monitor", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        cwd=cwd,
    )
    log = (workdir / f"{config.stem}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--role", "worker"],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    started: float | None = None
    count = 0.0
    cpu = 0.0
    first: dict[str, float] = {}
    try:
        while count < total:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited {process.returncode}: see {log.name}")
            count, stages = _scrape(port)
            if count and started is None:
                started, first, cpu = time.perf_counter(), stages, _cpu_seconds(process.pid)
            time.sleep(0.05)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        cpu = _cpu_seconds(process.pid) - cpu
        peak = _peak_rss_mb(process.pid)
        # The stages of the batches counted (the first batch's own stages are in ``first``).
        stages = {name: spent - first.get(name, 0.0) for name, spent in _scrape(port)[1].items()}
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    return Figure("", int(count), elapsed, peak, stages, cpu)


def _scrape(port: int) -> tuple[float, dict[str, float]]:
    """Events consumed and seconds per ingest stage, from the worker's ``/metrics``."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            body = answer.read().decode()
    except OSError:
        return 0.0, {}
    events = 0.0
    stages: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith(EVENTS_METRIC + "{"):
            events += float(line.rsplit(" ", 1)[1])
        elif line.startswith(STAGE_METRIC + "{"):
            stage = line.split('stage="', 1)[1].split('"', 1)[0]
            stages[stage] = float(line.rsplit(" ", 1)[1])
    return events, stages


def _cpu_seconds(pid: int) -> float:
    """CPU seconds the process ``pid`` used so far, all its threads (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def mariadb_store(server_url: str) -> tuple[str, Callable[[], None]]:
    name = f"ecm_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url + "/test")
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))

    def drop() -> None:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()

    return f"{server_url}/{name}?charset=utf8mb4", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small", "unicaen"], default="small")
    parser.add_argument("--nights", type=int, default=1)
    parser.add_argument(
        "--snapshot", action="store_true", help="publish only the snapshot (the first ingest)"
    )
    parser.add_argument("--paths", default="A,B", help="client paths measured: A, B (A is needed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,mariadb", help="comma list: sqlite, mariadb")
    parser.add_argument("--mariadb-url", default="mysql+pymysql://root@127.0.0.1:3306")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. `git worktree add /tmp/base main`): its worker is "
        "measured too, right after this one, on each store: before/after in one run",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker = EmbeddedBroker(log_dir=workdir).start()
    try:
        bootstrap = broker.bootstrap_servers
        simulation = Simulation(
            args.scale, seed=args.seed, nights=args.nights, faults=FaultConfig()
        )
        console.print(f"publishing {args.scale} (seed {args.seed}, {args.nights} night(s))…")
        events = simulation.events()
        if args.snapshot:
            events = itertools.islice(events, simulation.snapshot_size())
        counts = publish_to_kafka(bootstrap, events, simulation.topics())
        topics = sorted(counts)
        total = sum(counts.values())
        console.print(f"{total:,} messages on {len(topics)} topics")

        decoder = MessageDecoder(load_settings(None).sources)

        def only_json(_topic: str, value: bytes | None) -> None:
            if value is not None:
                json.loads(value)

        def decode(topic: str, value: bytes | None) -> None:
            if value is not None:
                json.loads(value)
            with contextlib.suppress(InvalidMessage):
                decoder.decode(topic, value)

        figures = [
            _named(consume(bootstrap, topics, total, only_json), "A: consume + json.loads"),
        ]
        if "B" in args.paths:
            figures.append(
                _named(consume(bootstrap, topics, total, decode), "B: A + MessageDecoder.decode")
            )
        for store in [s.strip() for s in args.stores.split(",") if s.strip()]:
            if store not in ("sqlite", "mariadb"):
                parser.error(f"unknown store {store!r}")
            name = {"sqlite": "SQLite", "mariadb": "MariaDB"}[store]
            for code, label in [(None, ""), (args.baseline, " (baseline)")]:
                if label and code is None:
                    continue
                if store == "sqlite":
                    url = f"sqlite:///{workdir / f'state-{uuid.uuid4().hex[:6]}.sqlite'}"
                    drop: Callable[[], None] = lambda: None  # noqa: E731
                else:
                    url, drop = mariadb_store(args.mariadb_url)
                try:
                    figure = run_worker(bootstrap, url, total, workdir, code)
                finally:
                    drop()
                figures.append(_named(figure, f"worker, {name}{label}"))
    finally:
        broker.stop()

    table = Table(title=f"ingest, {args.scale}, {total:,} messages, {len(topics)} topics")
    columns = ("path", "messages/s", "ratio to A", "seconds", "peak RSS", "CPU µs/msg", "A's CPU /")
    for column in columns:
        table.add_column(column, justify="left" if column == "path" else "right")
    baseline = figures[0].rate
    a_cpu = figures[0].cpu_per_message
    for figure in figures:
        cpu = figure.cpu_per_message
        table.add_row(
            figure.path,
            f"{figure.rate:,.0f}",
            f"{figure.rate / baseline:.2f}",
            f"{figure.seconds:.1f}",
            f"{figure.peak_rss_mb:,.0f} MB" if figure.peak_rss_mb else "",
            f"{cpu:.1f}" if cpu is not None else "",
            f"{a_cpu / cpu:.2f}" if cpu and a_cpu else "",
        )
    console.print(table)
    workers = [f for f in figures if f.stages]
    if workers:
        console.print(stage_table(workers))
    console.print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def stage_table(workers: list[Figure]) -> Table:
    """Seconds, microseconds a message and share of each ingest stage, per worker."""
    table = Table(title="the worker's time per stage (its /metrics, batches counted)")
    table.add_column("stage")
    for figure in workers:
        table.add_column(f"{figure.path}: s", justify="right")
        table.add_column("µs/msg", justify="right")
        table.add_column("share", justify="right")
    for stage in [*INGEST_STAGES, "all"]:
        cells = [stage]
        for figure in workers:
            total = sum(figure.stages.values())
            spent = total if stage == "all" else figure.stages.get(stage, 0.0)
            cells += [
                f"{spent:.2f}",
                f"{spent / figure.messages * 1e6:.1f}" if figure.messages else "",
                f"{spent / total:.0%}" if total else "",
            ]
        table.add_row(*cells)
    return table


def _named(figure: Figure, path: str) -> Figure:
    return Figure(
        path, figure.messages, figure.seconds, figure.peak_rss_mb, figure.stages, figure.cpu_seconds
    )


if __name__ == "__main__":
    main()
