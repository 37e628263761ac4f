"""The coordination table: one row per lease (which worker runs the scheduled passes)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, String, Table

from alerts.tables import metadata

# Times are epoch milliseconds of the workers' wall clocks: exact on every backend (MariaDB's
# DATETIME drops fractions), and compared as written for the compare-and-set updates.
coordination_lease = Table(
    "coordination_lease",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    # Incremented at each takeover: a pass commits only under the term it started with.
    Column("term", BigInteger, nullable=False),
    Column("acquired_at_ms", BigInteger, nullable=False),
    Column("renewed_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
)

# Each worker's word on its ingest, renewed with the lease rounds: the holder compares sources
# only once every live worker has read its partitions to their end (not only its own).
coordination_worker = Table(
    "coordination_worker",
    metadata,
    Column("holder", String(128), primary_key=True),
    Column("caught_up", Boolean, nullable=False),
    Column("seen_at_ms", BigInteger, nullable=False),
)
