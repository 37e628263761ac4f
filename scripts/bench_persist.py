"""The worker's in-process work in CPU time, per stage, without Kafka: decode, map, apply, dirty, commit.

The machine is shared and wall-clock ratios move with its load; the CPU time
of the same work in one process does not (much). This replays the simulated
university's messages (the bytes ``bench_ingest.py`` publishes) through
``MessageDecoder.decode`` and then ``persist_batch`` in batches, as the worker
does, into a fresh SQLite file and a fresh MariaDB database of its own (dropped
after), and prints microseconds of CPU per message for each stage.

Decode is ``plain_event`` (the envelope: JSON and its checks) timed alone over
the same messages; map is the rest of ``MessageDecoder.decode``. The split of
persisting (apply vs dirty vs commit) follows the code's own stage timers
(``AppliedBatch.seconds``, as the worker's ``ingest_stage_seconds``); the totals
are ``time.process_time``. On MariaDB the server works in its own process: the
client's CPU and the wall time are both printed, and the CPU the local
``mariadbd`` spent meanwhile (it serves other databases too: an upper bound).

``--baseline <checkout>`` runs the same measurement on another checkout's code
(``git worktree add /tmp/ingest-base <commit>``), alternating with this one,
and prints both side by side (best of ``--rounds`` each)::

    .venv/bin/python scripts/bench_persist.py --stores sqlite,mariadb --baseline /tmp/ingest-base
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MARIADB = "mysql+pymysql://root@127.0.0.1:3306"
NAN = (float("nan"), float("nan"))
PERSIST_STAGES = ("apply", "dirty", "store_commit")

Message = tuple[str, int, int, bytes | None]  # topic, partition, offset, value


def generate(scale: str, seed: int, nights: int, path: Path) -> None:
    """The simulated university's messages, in publishing order, pickled to ``path``."""
    from monitor.kafka.events import encode
    from monitor.simulation.faults import FaultConfig
    from monitor.simulation.timeline import Simulation

    simulation = Simulation(scale, seed=seed, nights=nights, faults=FaultConfig())
    offsets: dict[tuple[str, int], int] = {}
    messages: list[Message] = []
    for message in simulation.events():
        # Six partitions by key, as the bench publishes them (the split only shapes batches).
        key = (message.key or "").encode()
        slot = (message.topic, zlib.crc32(key) % 6)
        offset = offsets[slot] = offsets.get(slot, -1) + 1
        messages.append((*slot, offset, encode(message.value)))
    path.write_bytes(pickle.dumps(messages, protocol=pickle.HIGHEST_PROTOCOL))


# -- the measurement, in the code under test (this checkout or --baseline's) ----------------


def measure(messages: list[Message], stores: list[str], batch: int, repeat: int) -> dict[str, Any]:
    """CPU and wall seconds per stage: decoding (best of ``repeat``), then persisting per store."""
    from monitor.config import load_settings
    from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
    from monitor.kafka.ingest.envelope import plain_event

    sources = load_settings(None).sources
    best: dict[str, Any] | None = None
    outcomes: list[Any] = []  # per message: its change, None (nothing to apply) or INVALID
    envelopes = [value for topic, _p, _o, value in messages if topic in sources.topics and value]
    for _ in range(repeat):
        decoder = MessageDecoder(sources)
        outcomes = []
        keep = outcomes.append
        cpu, wall = time.process_time(), time.perf_counter()
        for topic, _partition, _offset, value in messages:
            try:
                keep(decoder.decode(topic, value))
            except InvalidMessage:
                keep(INVALID)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        # The envelope alone (JSON and its checks), timed apart: the split of the loop's
        # own timers moves with the load (a preempted message counts where it was).
        parsed, parsed_wall = time.process_time(), time.perf_counter()
        for value in envelopes:
            plain_event(value)
        parsed, parsed_wall = time.process_time() - parsed, time.perf_counter() - parsed_wall
        if best is None or cpu < best["cpu"]:
            best = {"cpu": cpu, "wall": wall, "timers": dict(decoder.seconds)}
            best["decode_cpu"], best["decode_wall"] = parsed, parsed_wall
    assert best is not None
    best["invalid"] = sum(1 for o in outcomes if o is INVALID)
    result: dict[str, Any] = {"messages": len(messages), "decode": best, "stores": {}}
    batches = list(_batches(messages, outcomes, batch))
    for store in stores:
        with _store(store) as url:
            result["stores"][store] = _persist(url, batches)
    return result


INVALID = object()


def _persist(url: str, batches: list[tuple[list[Any], list[Any]]]) -> dict[str, Any]:
    """``persist_batch`` of each batch (its changes, its partitions' progress) into ``url``."""
    from monitor.kafka.ingest.persist import persist_batch
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    split: dict[str, float] = dict.fromkeys(PERSIST_STAGES, 0.0)
    server = _server_seconds() if not url.startswith("sqlite") else None
    cpu, wall = time.process_time(), time.perf_counter()
    for changes, progress in batches:
        applied = persist_batch(engine, changes, progress, now)
        for stage in PERSIST_STAGES:
            split[stage] += applied.seconds.get(stage, 0.0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if server is not None:
        after = _server_seconds()
        server = after - server if after is not None else None
    engine.dispose()
    return {"cpu": cpu, "wall": wall, "split": split, "batches": len(batches), "server": server}


def _server_seconds() -> float | None:
    """CPU seconds of the local ``mariadbd`` so far (it serves others too: an upper bound)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if (stat.parent / "comm").read_text().strip() == "mariadbd":
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return None


def _batches(
    messages: list[Message], outcomes: list[Any], size: int
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Batches of ``size`` messages: their changes and their partitions' progress, as the worker's."""
    from monitor.kafka.ingest.persist import PartitionProgress

    for start in range(0, len(messages), size):
        changes: list[Any] = []
        progress: dict[tuple[str, int], Any] = {}
        for (topic, partition, offset, _value), outcome in zip(
            messages[start : start + size], outcomes[start : start + size], strict=True
        ):
            part = progress.get((topic, partition))
            if part is None:
                part = progress[topic, partition] = PartitionProgress(topic, partition)
            if outcome is INVALID:
                part.dead_lettered(offset)
            elif outcome is None:
                part.consumed(offset)
            else:
                changes.append(outcome)
                part.consumed(offset, outcome.source_ts)
        yield changes, list(progress.values())


@contextlib.contextmanager
def _store(store: str) -> Iterator[str]:
    """A fresh store of its own: a SQLite file, or a MariaDB database dropped after."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-persist-") as directory:
            yield f"sqlite:///{directory}/state.sqlite"
        return
    from sqlalchemy import create_engine, text

    name = f"bench_ingest_{uuid.uuid4().hex[:10]}"
    server = create_engine(f"{MARIADB}/test")
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield f"{MARIADB}/{name}?charset=utf8mb4"
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


# -- the report ------------------------------------------------------------------------------


def stage_rows(result: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Stage -> (CPU µs a message, wall µs a message), the split following the stage timers."""
    count = result["messages"]
    rows: dict[str, tuple[float, float]] = {}

    def spread(prefix: str, part: dict[str, Any], stages: tuple[str, ...]) -> None:
        timed = sum(part["split"].get(s, 0.0) for s in stages) or 1.0
        for stage in stages:
            share = part["split"].get(stage, 0.0) / timed
            rows[f"{prefix}{stage}"] = (
                part["cpu"] * share / count * 1e6,
                part["wall"] * share / count * 1e6,
            )

    decoding = result["decode"]
    rows["decode"] = (decoding["decode_cpu"] / count * 1e6, decoding["decode_wall"] / count * 1e6)
    rows["map"] = (
        (decoding["cpu"] - decoding["decode_cpu"]) / count * 1e6,
        (decoding["wall"] - decoding["decode_wall"]) / count * 1e6,
    )
    for store, part in result["stores"].items():
        spread(f"{store}: ", part, PERSIST_STAGES)
        if part.get("server") is not None:
            rows[f"{store}: server CPU"] = (part["server"] / count * 1e6, 0.0)
    return rows


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    """Best of the rounds, per code and stage, as a table (µs a message) and totals."""
    best: dict[str, dict[str, tuple[float, float]]] = {}
    for code, rounds in results.items():
        merged: dict[str, tuple[float, float]] = {}
        for result in rounds:
            for stage, (cpu, wall) in stage_rows(result).items():
                seen = merged.get(stage)
                merged[stage] = (min(cpu, seen[0]), min(wall, seen[1])) if seen else (cpu, wall)
        best[code] = merged
    codes = list(best)
    stages = list(best[codes[0]])
    count = results[codes[0]][0]["messages"]
    print(f"{count:,} messages; µs a message, best of {len(results[codes[0]])} round(s)")
    header = f"{'stage':<22}" + "".join(f"{code + ' CPU':>16}{'wall':>9}" for code in codes)
    print(header)
    print("-" * len(header))
    for stage in stages:
        cells = "".join(
            f"{best[c].get(stage, NAN)[0]:>16.2f}{best[c].get(stage, NAN)[1]:>9.2f}" for c in codes
        )
        print(f"{stage:<22}{cells}")
    for store in results[codes[0]][0]["stores"]:
        names = ["decode", "map", *(f"{store}: {s}" for s in PERSIST_STAGES)]
        cells = "".join(
            f"{sum(best[c][n][0] for n in names):>16.2f}{sum(best[c][n][1] for n in names):>9.2f}"
            for c in codes
        )
        print(f"{'total, ' + store:<22}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small", "unicaen"], default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,mariadb", help="comma list: sqlite, mariadb")
    parser.add_argument("--batch", type=int, default=2000, help="messages a persist_batch")
    parser.add_argument("--repeat", type=int, default=3, help="decoding passes (best kept)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per code (best kept)")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately")
    parser.add_argument("--messages", type=Path, help="the pickled messages (made if missing)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # write JSON, measure once
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    path = args.messages or Path(tempfile.gettempdir()) / (
        f"bench-persist-{args.scale}-{args.seed}-{args.nights}.pickle"
    )
    if args.child is not None:
        messages = pickle.loads(path.read_bytes())
        result = measure(messages, stores, args.batch, args.repeat)
        args.child.write_text(json.dumps(result))
        return
    if not path.exists():
        print(f"generating {args.scale} (seed {args.seed}) into {path}…", flush=True)
        generate(args.scale, args.seed, args.nights, path)
    codes: dict[str, Path | None] = {"this": None}
    if args.baseline is not None:
        codes["base"] = args.baseline.resolve()
    results: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
    for round_number in range(args.rounds):
        for code, checkout in codes.items():
            print(f"round {round_number + 1}: {code}…", flush=True)
            results[code].append(_child(args, path, stores, checkout))
    report(results)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _child(
    args: argparse.Namespace, path: Path, stores: list[str], checkout: Path | None
) -> dict[str, Any]:
    """One measurement in a fresh process, on ``checkout``'s code (this one's when ``None``)."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(out),
        "--messages",
        str(path),
        "--stores",
        ",".join(stores),
        "--batch",
        str(args.batch),
        "--repeat",
        str(args.repeat),
    ]
    try:
        subprocess.run(command, env=env, cwd=checkout, check=True)
        result: dict[str, Any] = json.loads(out.read_text())
        return result
    finally:
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
