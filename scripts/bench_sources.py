"""Measure the source poller at Unicaen scale: a table of 500,000 IPs in MariaDB.

    python scripts/bench_sources.py [--rows 500000] [--keep]

Creates two databases on the MariaDB server (``ECAMPUS_MONITOR_TEST_MARIADB_URL``,
default root@127.0.0.1:3306): a REFER stand-in with ``T_ADE_ACTIVITES_ETUDIANTS``
and the state store (the checkpoint), starts the embedded broker, then measures,
each pass in a fresh child process so that its peak memory (maxrss) is its own:

- ``first``: the first read (every row published as ``r``, checkpoint written);
- ``unchanged``: a second read of the same table (nothing published);
- ``changes``: a read after 1,000 updates, 1,000 inserts and 1,000 deletes;
- ``reconcile``: the store (filled beforehand by a direct load, not by ingest) checked
  against the table.

Prints a Markdown table for BENCHMARKS.md (section "Source poller").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

SERVER = os.environ.get("ECAMPUS_MONITOR_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
TOPIC = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _settings(bootstrap: str, store_url: str) -> Any:
    from monitor.config import KafkaSettings, SourceSettings, StoreSettings, load_settings

    topics = SourceSettings().topics
    return load_settings(
        kafka=KafkaSettings(bootstrap_servers=[bootstrap]),
        sources=SourceSettings(topics={TOPIC: topics[TOPIC]}),
        store=StoreSettings(url=store_url),
    )


def measure_pass(bootstrap: str, source_url: str, store_url: str) -> dict[str, Any]:
    from kafka import KafkaProducer

    from monitor.sources.poller import SourcePoller, poller_producer_options, source_engine
    from monitor.store.db import make_engine

    settings = _settings(bootstrap, store_url)
    producer = KafkaProducer(**poller_producer_options(settings))
    poller = SourcePoller(
        settings,
        "refer",
        source_engine(source_url),
        make_engine(store_url),
        producer,
        clock=lambda: datetime.now(UTC),
    )
    started = time.perf_counter()
    (report,) = poller.run_pass()
    seconds = time.perf_counter() - started
    producer.close()
    return {"seconds": seconds, "maxrss_mb": _maxrss_mb(), "rows": report.rows, "ops": report.ops}


def measure_reconcile(bootstrap: str, source_url: str, store_url: str) -> dict[str, Any]:
    from monitor.sources.reconcile import reconcile_sources
    from monitor.store.db import make_engine

    settings = _settings(bootstrap, store_url)
    started = time.perf_counter()
    (drift,) = reconcile_sources(settings, make_engine(store_url), {"refer": source_url})
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "maxrss_mb": _maxrss_mb(),
        "rows": drift.source_rows,
        "drift": {"missing": drift.missing, "extra": drift.extra, "different": drift.different},
    }


def _child(which: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _prepare(rows: int, source_url: str, store_url: str) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

    from monitor.store.db import make_engine, upgrade

    metadata = MetaData()
    ips = Table(
        "T_ADE_ACTIVITES_ETUDIANTS",
        metadata,
        Column("COD_ETU", String(20), primary_key=True),
        Column("COD_ELP", String(20), primary_key=True),
        Column("IDGROUPE", String(40)),
        Column("DISTANT", Integer),
        Column("ANNEE", Integer),
    )
    engine = create_engine(source_url)
    metadata.create_all(engine)
    chunk = 20_000
    with engine.begin() as conn:
        for start in range(0, rows, chunk):
            conn.execute(
                ips.insert(),
                [
                    {
                        "COD_ETU": f"2{(i // 13):07d}",
                        "COD_ELP": f"ELP{(i * 7919) % 14000:05d}",
                        "IDGROUPE": f"G{i % 40}",
                        "DISTANT": i % 50 == 0,
                        "ANNEE": 2026,
                    }
                    for i in range(start, min(rows, start + chunk))
                ],
            )
    engine.dispose()
    upgrade(make_engine(store_url))


def _change(source_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(source_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE T_ADE_ACTIVITES_ETUDIANTS SET IDGROUPE = 'GX' ORDER BY COD_ETU LIMIT 1000")
        )
        conn.execute(text("DELETE FROM T_ADE_ACTIVITES_ETUDIANTS ORDER BY COD_ETU DESC LIMIT 1000"))
        conn.execute(
            text(
                "INSERT INTO T_ADE_ACTIVITES_ETUDIANTS SELECT CONCAT('3', SUBSTRING(COD_ETU, 2)), "
                "COD_ELP, IDGROUPE, DISTANT, ANNEE FROM T_ADE_ACTIVITES_ETUDIANTS "
                "ORDER BY COD_ETU LIMIT 1000"
            )
        )
    engine.dispose()


def _fill_store(bootstrap: str, source_url: str, store_url: str) -> None:
    """The store as the ingest would have made it from the first read (applied directly)."""
    from sqlalchemy import create_engine

    from monitor.kafka.contracts import DebeziumPayload, DebeziumSource
    from monitor.kafka.mapping import change_from_debezium
    from monitor.sources.reader import read_rows, table_spec, with_key_types
    from monitor.store.apply import apply_changes
    from monitor.store.db import make_engine

    settings = _settings(bootstrap, store_url)
    spec = table_spec(TOPIC, settings.sources.topics[TOPIC], schema=None)
    source, store = create_engine(source_url), make_engine(store_url)
    now = datetime.now(UTC)
    with source.connect() as src:
        spec = with_key_types(src, spec)
        batch = []
        for _key, _hash, row in read_rows(src, spec, 5000):
            payload = DebeziumPayload(op="r", after=json.loads(row), source=DebeziumSource(ts_ms=1))
            batch.append(change_from_debezium(settings.sources.topics[TOPIC], payload))
            if len(batch) == 20_000:
                with store.begin() as conn:
                    apply_changes(conn, batch, now)
                batch = []
        with store.begin() as conn:
            apply_changes(conn, batch, now)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, *rest = args.child
        measure = {"pass": measure_pass, "reconcile": measure_reconcile}[which]
        print(json.dumps(measure(*rest)))
        return

    import logging
    import tempfile
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from monitor.kafka.broker import EmbeddedBroker, ensure_topics

    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    tag = uuid.uuid4().hex[:8]
    names = (f"ecm_bench_refer_{tag}", f"ecm_bench_store_{tag}")
    server = create_engine(SERVER + "/test")
    with server.begin() as conn:
        for name in names:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    source_url, store_url = (f"{SERVER}/{n}?charset=utf8mb4" for n in names)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as logs:
        broker = EmbeddedBroker(log_dir=Path(logs))
        broker.start()
        try:
            started = time.perf_counter()
            _prepare(args.rows, source_url, store_url)
            print(
                f"prepared {args.rows} rows in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            ensure_topics({"bootstrap_servers": broker.bootstrap_servers}, [TOPIC])
            common = (broker.bootstrap_servers, source_url, store_url)
            results["first read"] = _child("pass", *common)
            results["unchanged second read"] = _child("pass", *common)
            _change(source_url)
            results["read after 3,000 changes"] = _child("pass", *common)
            _fill_store(*common)
            results["reconcile-sources (store filled)"] = _child("reconcile", *common)
        finally:
            broker.stop()
            if not args.keep:
                with server.begin() as conn:
                    for name in names:
                        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    print(
        f"\n{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{args.rows:,} rows\n"
    )
    print("| measurement | time | peak RSS | rows | result |\n|---|---|---|---|---|")
    for what, found in results.items():
        result = found.get("ops") or found.get("drift")
        print(
            f"| {what} | {found['seconds']:.1f} s | {found['maxrss_mb']:.0f} MB | "
            f"{found['rows']:,} | {result} |"
        )


if __name__ == "__main__":
    main()
