"""Measure the simulator: generating ``unicaen``, writing its events, publishing to the embedded broker.

Each measurement runs in a fresh child process, so its peak memory (maxrss) is
its own. Prints a Markdown table for BENCHMARKS.md (section "Simulator").

    python scripts/bench_simulate.py                       # everything, about 3 minutes
    python scripts/bench_simulate.py --only generate       # one measurement
    python scripts/bench_simulate.py --publish-sample 500000 --score

Measurements:
- ``generate``: ``generate_university(scale)`` (REFER, ADE, Moodle in memory).
- ``events``: the whole ``simulate --out DIR`` path for ``--nights`` (generation,
  days and nights with the rule model, JSON lines written to a temporary dir).
- ``publish``: the first N events of the simulation sent to the embedded broker
  (events made beforehand; the time covers send and flush only).
- ``score`` (with ``--score``): ``small`` with every fault kind over 8 nights, the
  detectors replayed in-process; precision and recall per detector.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure_generate(scale: str, seed: int) -> dict[str, Any]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from monitor.simulation import generate_university

    started = time.perf_counter()
    uni = generate_university(scale, seed, datetime(2026, 10, 5, tzinfo=ZoneInfo("Europe/Paris")))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "maxrss_mb": _maxrss_mb(), "rows": uni.counts()}


def measure_events(scale: str, seed: int, nights: int) -> dict[str, Any]:
    from monitor.simulation import JsonLinesWriter, Simulation

    started = time.perf_counter()
    simulation = Simulation(scale, seed=seed, nights=nights)
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory, JsonLinesWriter(Path(directory)) as writer:
        for message in simulation.events():
            writer.write(message)
        writer.close()
        size = sum(p.stat().st_size for p in Path(directory).iterdir())
    seconds = time.perf_counter() - started
    events = sum(writer.counts.values())
    return {
        "seconds": seconds,
        "generation_seconds": generated,
        "events": events,
        "events_per_second": events / (seconds - generated),
        "megabytes": size / 1e6,
        "maxrss_mb": _maxrss_mb(),
        "faults": sum(r.primary for r in simulation.truth),
    }


def measure_publish(scale: str, seed: int, sample: int) -> dict[str, Any]:
    from itertools import islice

    from monitor.kafka.broker import EmbeddedBroker
    from monitor.kafka.events import encode
    from monitor.simulation import Simulation, publish_to_kafka

    simulation = Simulation(scale, seed=seed, nights=1)
    messages = list(islice(simulation.events(), sample))
    payload = sum(len(encode(m.value) or b"") for m in messages)
    with EmbeddedBroker() as broker:
        broker.create_topics(simulation.topics(), partitions=6)
        started = time.perf_counter()
        counts = publish_to_kafka(broker.bootstrap_servers, messages, simulation.topics())
        seconds = time.perf_counter() - started
    sent = sum(counts.values())
    return {
        "events": sent,
        "seconds": seconds,
        "events_per_second": sent / seconds,
        "megabytes_per_second": payload / 1e6 / seconds,
        "maxrss_mb": _maxrss_mb(),
    }


def measure_score(seed: int) -> dict[str, Any]:
    from monitor.simulation import FaultConfig, Simulation
    from monitor.simulation.scoring import DetectorReplay, score, truth_keys

    simulation = Simulation("small", seed=seed, nights=8, faults=FaultConfig.every_kind(1))
    replay = DetectorReplay(simulation.uni)
    simulation.checkpoint = replay
    for _ in simulation.events():
        pass
    scores = score(replay.raised, truth_keys(simulation.truth))
    return {
        "detectors": {
            name: {
                "expected": s.expected,
                "raised": s.raised,
                "matched": s.matched,
                "precision": s.precision,
                "recall": s.recall,
                "unexpected": [list(k) for k in s.unexpected[:5]],
            }
            for name, s in scores.items()
        },
        "errors": replay.errors,
    }


def _child(args: argparse.Namespace) -> None:
    if args.child == "generate":
        result = measure_generate(args.scale, args.seed)
    elif args.child == "events":
        result = measure_events(args.scale, args.seed, args.nights)
    elif args.child == "publish":
        result = measure_publish(args.publish_scale, args.seed, args.publish_sample)
    else:
        result = measure_score(args.seed)
    print(json.dumps(result, default=str))


def _run(child: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", child, "--scale", args.scale,
               "--seed", str(args.seed), "--nights", str(args.nights),
               "--publish-sample", str(args.publish_sample), "--publish-scale", args.publish_scale]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scale", default="unicaen", choices=["tiny", "small", "unicaen"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=2)
    parser.add_argument("--publish-sample", type=int, default=200_000)
    parser.add_argument("--publish-scale", default="unicaen", choices=["tiny", "small", "unicaen"])
    parser.add_argument("--only", choices=["generate", "events", "publish", "score"])
    parser.add_argument("--score", action="store_true", help="also score the detectors")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    wanted = [args.only] if args.only else ["generate", "events", "publish"]
    if args.score and "score" not in wanted:
        wanted.append("score")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    print("| measurement | result |\n|---|---|")
    for name in wanted:
        result = _run(name, args)
        if name == "generate":
            rows = Counter(result["rows"])
            print(f"| generate `{args.scale}` | {result['seconds']:.1f} s, peak {result['maxrss_mb']:.0f} MB "
                  f"({rows['elp']:,} ELPs, {rows['ip']:,} IPs, {rows['ade_session']:,} sessions, "
                  f"{rows['moodle_enrolment']:,} enrolments) |")  # fmt: skip
        elif name == "events":
            print(f"| `simulate --scale {args.scale} --nights {args.nights} --out DIR` | "
                  f"{result['seconds']:.1f} s ({result['generation_seconds']:.1f} s generation), "
                  f"{result['events']:,} events, {result['events_per_second']:,.0f} events/s after "
                  f"generation, {result['megabytes']:.0f} MB written, peak {result['maxrss_mb']:.0f} MB |")  # fmt: skip
        elif name == "publish":
            print(f"| publish {result['events']:,} `{args.publish_scale}` events to the embedded broker | "
                  f"{result['events_per_second']:,.0f} msg/s ({result['megabytes_per_second']:.1f} MB/s), "
                  f"{result['seconds']:.1f} s |")  # fmt: skip
        else:
            print(
                "\n| detector | expected | raised | matched | precision | recall |\n|---|---|---|---|---|---|"
            )
            for detector, s in result["detectors"].items():
                p = "-" if s["precision"] is None else f"{s['precision']:.2f}"
                r = "-" if s["recall"] is None else f"{s['recall']:.2f}"
                print(
                    f"| {detector} | {s['expected']} | {s['raised']} | {s['matched']} | {p} | {r} |"
                )
            if result["errors"]:
                print(f"\ndetector errors: {result['errors']}")


if __name__ == "__main__":
    main()
