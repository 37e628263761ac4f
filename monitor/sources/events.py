"""The poller's differences as Debezium change events, in the real connectors' contract.

The plain JSON-converter form (no ``schema``/``payload`` wrapper), keyed by the
primary key as a JSON struct (``{"COD_ELP": "INF1101"}``) as the connector keys
it, on the table's configured topic; a delete is followed by a tombstone, as
with ``tombstones.on.delete``. ``source.connector`` says who wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from monitor.kafka.events import OutgoingMessage
from monitor.sources.diff import Difference
from monitor.sources.reader import TableSpec

CONNECTOR = "ecampus-monitor-poller"


def change_event(
    spec: TableSpec,
    op: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    ts_ms: int,
    snapshot: bool,
) -> OutgoingMessage:
    """One change event of ``spec``'s table (``op`` c, u, d or r)."""
    row = after if after is not None else before
    assert row is not None
    key = json.dumps(
        {k: row[k] for k in spec.key_columns}, ensure_ascii=False, separators=(",", ":")
    )
    payload = {
        "before": before,
        "after": after,
        "source": {
            "connector": CONNECTOR,
            "name": spec.source,
            "ts_ms": ts_ms,
            "snapshot": "true" if snapshot else "false",
            "db": spec.schema or spec.source,
            "schema": spec.schema,
            "table": spec.name,
        },
        "op": op,
        "ts_ms": ts_ms,
    }
    return OutgoingMessage(spec.topic, key, payload)


def difference_events(
    spec: TableSpec,
    difference: Difference,
    previous: str | None,
    *,
    ts_ms: int,
    first_read: bool,
) -> Iterator[OutgoingMessage]:
    """The events of one difference: ``r`` on the first read, else ``c``/``u``, ``d`` + tombstone."""
    before = json.loads(previous) if previous is not None else None
    after = json.loads(difference.row_json) if difference.row_json is not None else None
    if difference.op == "c":
        op = "r" if first_read else "c"
        yield change_event(spec, op, before=None, after=after, ts_ms=ts_ms, snapshot=first_read)
    elif difference.op == "u":
        yield change_event(spec, "u", before=before, after=after, ts_ms=ts_ms, snapshot=False)
    else:
        if before is None:  # the checkpoint lost its row: the key alone still deletes the fact
            raise ValueError("a deleted row has no previous row in the checkpoint")
        message = change_event(spec, "d", before=before, after=None, ts_ms=ts_ms, snapshot=False)
        yield message
        yield OutgoingMessage(message.topic, message.key, None)
