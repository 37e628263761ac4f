"""Decode throughput on generated Debezium messages: ``python scripts/bench_decode.py [N]``.

Always the same messages (a fixed seed): IPs, ELPs, IAs and Moodle
enrolments, half wrapped with a schema, as the simulator publishes them.
Prints messages per second for ``MessageDecoder.decode`` and, for scale,
for ``json.loads`` alone on the same bytes. Run it before and after a change
of the decoder; a figure, not a test.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from monitor.config import SourceSettings
from monitor.kafka.events import debezium_change, encode
from monitor.kafka.ingest.decode import MessageDecoder

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def messages(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """``count`` (topic, value) pairs, deterministic for ``seed``."""
    rng = random.Random(seed)
    found: list[tuple[str, bytes]] = []
    for n in range(count):
        at = AT + timedelta(seconds=n)
        wrapped = n % 2 == 0
        kind = n % 4
        elp = f"INF{rng.randint(1000, 9999)}"
        student = str(21_900_000 + rng.randint(0, 99_999))
        if kind == 0:
            topic, keys = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS", ("COD_ETU", "COD_ELP")
            row: dict[str, object] = {
                "COD_ETU": student,
                "COD_ELP": elp,
                "IDGROUPE": f"G{rng.randint(1, 9)}",
                "DISTANT": rng.choice("NO"),
                "ANNEE": 2026,
            }
        elif kind == 1:
            topic, keys = "refer.REFER.T_ADE_ACTIVITES", ("COD_ELP",)
            row = {
                "COD_ELP": elp,
                "LIB_ELP": "Algorithmique et programmation",
                "COD_CMP": str(rng.randint(10, 40)),
                "A_DISTANCE": "N",
                "ETA_ELP": "O",
                "COD_ELP_PORTEUR": None,
                "TEM_CHARGES_ENS": "O",
                "PERIODE": "S1",
                "ANNEE": 2026,
            }
        elif kind == 2:
            topic, keys = "refer.REFER.T_ADE_IA", ("ID_IA",)
            row = {
                "ID_IA": str(n),
                "COD_ETU": student,
                "COD_ETP": "L1INF",
                "ANNEE": 2026,
                "TELE_ENS": "N",
                "ETA_IA": "E",
                "DAT_ANNUL": None,
                "ID_IA_REMPLACEE": None,
                "COD_PROG_ECH": None,
                "SENS_ECH": None,
                "PERIODE_ECH": None,
            }
        else:
            topic, keys = "moodle.moodle.mdl_user_enrolments", ("id",)
            row = {
                "id": n,
                "enrolid": rng.randint(1, 50_000),
                "userid": rng.randint(1, 30_000),
                "timestart": 1_756_684_800,
                "timeend": 0,
                "status": 0,
            }
        message = debezium_change(topic, "c", row, at=at, key_columns=keys, wrapped=wrapped)
        value = encode(message.value)
        assert value is not None
        found.append((topic, value))
    return found


def rate(function: object, batch: list[tuple[str, bytes]], repeat: int = 5) -> float:
    """Best messages per CPU second over ``repeat`` passes (CPU time: the machine may be shared)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for topic, value in batch:
            function(topic, value)  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return len(batch) / best


def main(count: int) -> None:
    batch = messages(count)
    decoder = MessageDecoder(SourceSettings())
    decoded = rate(decoder.decode, batch)
    raw = rate(lambda _topic, value: json.loads(value), batch)
    print(f"{count} messages, {sum(len(v) for _, v in batch) / count:.0f} bytes on average")
    print(f"json.loads alone:      {raw:>10,.0f} msg/s")
    print(f"MessageDecoder.decode: {decoded:>10,.0f} msg/s ({decoded / raw:.0%} of json.loads)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
