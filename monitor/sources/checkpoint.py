"""The poller's checkpoint: the keys, row hashes and rows of the previous read, in the store.

Read back in key order through a server-side cursor (``stream``) while the
differences are written through another connection (``write``), a chunk at
a time, only after Kafka acknowledged that chunk's events: a crash between
the two republishes them, which the store applies idempotently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, bindparam, delete, exists, select, update

from monitor.sources.diff import Difference
from monitor.store.schema import source_checkpoint as checkpoint

# Keep IN lists well under SQLite's bound-parameter limit.
_CHUNK = 500


def has_checkpoint(conn: Connection, topic: str) -> bool:
    """Whether ``topic``'s table was read before (else the next pass is a snapshot, op ``r``)."""
    return bool(conn.execute(select(exists().where(checkpoint.c.topic == topic))).scalar())


def stream(conn: Connection, topic: str, batch_size: int) -> Iterator[tuple[bytes, str]]:
    """``(key, row_hash)`` of the previous read, in binary key order, streamed."""
    statement = (
        select(checkpoint.c.key, checkpoint.c.row_hash)
        .where(checkpoint.c.topic == topic)
        .order_by(checkpoint.c.key)
    )
    streamed = conn.execution_options(stream_results=True, yield_per=batch_size)
    for key, row_hash in streamed.execute(statement):
        yield bytes(key), row_hash


def previous_rows(conn: Connection, topic: str, keys: Sequence[bytes]) -> dict[bytes, str]:
    """The rows as last read, for the "before" of updates and deletes."""
    found: dict[bytes, str] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        statement = select(checkpoint.c.key, checkpoint.c.row_json).where(
            and_(checkpoint.c.topic == topic, checkpoint.c.key.in_(chunk))
        )
        found.update((bytes(key), row) for key, row in conn.execute(statement))
    return found


def write(conn: Connection, topic: str, differences: Sequence[Difference], now: datetime) -> None:
    """Record ``differences`` as the new previous read, in the caller's transaction."""
    read_at = now.astimezone(UTC).replace(tzinfo=None)
    created = [
        {
            "topic": topic,
            "key": d.key,
            "row_hash": d.row_hash,
            "row_json": d.row_json,
            "read_at": read_at,
        }
        for d in differences
        if d.op == "c"
    ]
    if created:
        conn.execute(checkpoint.insert(), created)
    updated = [
        {"b_key": d.key, "v_hash": d.row_hash, "v_row": d.row_json}
        for d in differences
        if d.op == "u"
    ]
    if updated:
        conn.execute(
            update(checkpoint)
            .where(and_(checkpoint.c.topic == topic, checkpoint.c.key == bindparam("b_key")))
            .values(row_hash=bindparam("v_hash"), row_json=bindparam("v_row"), read_at=read_at),
            updated,
        )
    deleted = [d.key for d in differences if d.op == "d"]
    for start in range(0, len(deleted), _CHUNK):
        conn.execute(
            delete(checkpoint).where(
                and_(
                    checkpoint.c.topic == topic,
                    checkpoint.c.key.in_(deleted[start : start + _CHUNK]),
                )
            )
        )


def forget(conn: Connection, topic: str) -> None:
    """Drop ``topic``'s checkpoint: the next pass reads the table as a new snapshot."""
    conn.execute(delete(checkpoint).where(checkpoint.c.topic == topic))
