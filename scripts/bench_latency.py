"""Event -> alert latency under steady traffic: a fault's source time to its alert in ``GET /alerts``.

A clean small university is published to the embedded broker and the real
daemon (``ecampus-monitor run``, SQLite store, its HTTP API) ingests it. Then,
for ``--seconds``, ordinary traffic flows at ``--rate`` events/s (IP updates
with fresh source times, as a day of APOGÉE edits makes them) and every
``--fault-every`` seconds one ELP with a course is deleted from REFER: the
daemon must predict ``course_archived`` ("archivé cette nuit"). Each fault's
latency is the time from its Debezium ``source.ts_ms`` to the first answer of
``GET /alerts?detector=course_archived&cod_elp=…`` that lists it.

    .venv/bin/python scripts/bench_latency.py --rate 1000 --seconds 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from monitor.kafka.broker import EmbeddedBroker, free_port
from monitor.kafka.events import OutgoingMessage
from monitor.simulation.faults import FaultConfig
from monitor.simulation.sinks import make_producer, publish_to_kafka
from monitor.simulation.timeline import Simulation

console = Console()


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def events_consumed(api: str) -> float:
    with urllib.request.urlopen(f"{api}/metrics", timeout=5) as answer:
        body = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("ecampus_monitor_events_consumed_total{")
    )


def passes_done(api: str) -> set[str]:
    """The moments (after_run, daily, ...) whose detector passes the daemon has run."""
    with urllib.request.urlopen(f"{api}/metrics", timeout=5) as answer:
        body = answer.read().decode()
    return {
        line.split('moment="', 1)[1].split('"', 1)[0]
        for line in body.splitlines()
        if line.startswith("ecampus_monitor_detector_run_seconds_count{")
        and not line.endswith(" 0.0")
    }


def send(producer: object, message: OutgoingMessage) -> None:
    value = None if message.value is None else json.dumps(message.value).encode()
    producer.send(  # type: ignore[attr-defined]
        message.topic, key=json.dumps(message.key).encode(), value=value
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="ordinary events per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--fault-every", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    broker = EmbeddedBroker(log_dir=workdir).start()
    process: subprocess.Popen[bytes] | None = None
    try:
        bootstrap = broker.bootstrap_servers
        today = datetime.now(UTC).date()
        simulation = Simulation(
            "small",
            seed=args.seed,
            nights=1,
            start=today - timedelta(days=1),
            faults=FaultConfig.none(),
        )
        counts = publish_to_kafka(bootstrap, simulation.events(), simulation.topics())
        published = sum(counts.values())
        console.print(f"published {published:,} events of a clean small university")

        port = free_port()
        config = workdir / "monitor.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "kafka": {
                        "bootstrap_servers": [bootstrap],
                        "group_id": f"bench-{uuid.uuid4().hex[:8]}",
                        "session_timeout_ms": 6000,
                        "heartbeat_interval_ms": 1000,
                    },
                    "store": {"url": f"sqlite:///{workdir / 'state.sqlite'}"},
                    "http": {"host": "127.0.0.1", "port": port},
                    "smtp": {"host": "127.0.0.1", "port": free_port()},
                }
            )
        )
        env = os.environ | {"ECAMPUS_MONITOR_CONFIG": str(config)}
        subprocess.run([sys.executable, "-m", "monitor", "db", "upgrade"], env=env, check=True)
        log = (workdir / "daemon.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        api = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while True:
            try:
                if events_consumed(api) >= published:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the daemon did not catch up: see {workdir / 'daemon.log'}")
            time.sleep(0.5)
        # The whole-store passes (the published night's after-run pass, the day's daily
        # pass) take seconds and hold the detection loop meanwhile: once a day, not the
        # steady state measured here.
        while not {"after_run", "daily"} <= passes_done(api):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the daemon's passes did not run: see {workdir / 'daemon.log'}")
            time.sleep(0.5)
        console.print("caught up, after-run and daily passes done; steady traffic starts")

        ips = list(simulation.uni.ips.values())
        courses = {c.idnumber for c in simulation.uni.tables["moodle_course"].values()}
        victims = [e for code, e in simulation.uni.elps.items() if code in courses]
        random.Random(args.seed).shuffle(victims)
        stop = threading.Event()
        sent = itertools.count()

        def traffic() -> None:
            producer = make_producer(bootstrap, linger_ms=5)
            tick = 0.01
            per_tick = max(1, round(args.rate * tick))
            next_at = time.monotonic()
            for ip in itertools.cycle(ips):
                if stop.is_set():
                    break
                send(producer, simulation.codec.event("ip", "u", ip, datetime.now(UTC), ip))
                if next(sent) % per_tick == per_tick - 1:
                    next_at += tick
                    pause = next_at - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
            producer.flush()
            producer.close()

        background = threading.Thread(target=traffic, daemon=True)
        started = time.monotonic()
        background.start()
        producer = make_producer(bootstrap, linger_ms=0)
        latencies: list[float] = []
        missed = 0
        for elp in victims:
            if time.monotonic() - started > args.seconds:
                break
            at = datetime.now(UTC)
            message = simulation.codec.event("elp", "d", elp, at)
            send(producer, message)
            producer.flush()
            url = f"{api}/alerts?detector=course_archived&cod_elp={elp.cod_elp}"
            give_up = time.monotonic() + 30
            while time.monotonic() < give_up:
                listed = get_json(url)
                if isinstance(listed, list) and listed:
                    latencies.append(time.time() - at.timestamp())
                    break
                time.sleep(0.02)
            else:
                missed += 1
            time.sleep(max(0.0, args.fault_every - (time.monotonic() - started) % args.fault_every))
        stop.set()
        background.join(timeout=30)
        with urllib.request.urlopen(f"{api}/metrics", timeout=5) as answer:
            (workdir / "metrics.txt").write_bytes(answer.read())
        traffic_rate = next(sent) / (time.monotonic() - started)
        producer.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        broker.stop()

    table = Table(title="fault source time -> alert listed by GET /alerts")
    for column in ("faults", "found", "p50", "p95", "max", "ordinary traffic"):
        table.add_column(column, justify="right")
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")
    table.add_row(
        str(len(latencies) + missed),
        str(len(latencies)),
        f"{statistics.median(ordered):.2f} s" if ordered else "-",
        f"{p95:.2f} s",
        f"{ordered[-1]:.2f} s" if ordered else "-",
        f"{traffic_rate:,.0f} events/s",
    )
    console.print(table)


if __name__ == "__main__":
    main()
