"""Which source rows have a dead-lettered change, in the store, for detection to hold (issue 10).

A change sent to the dead-letter topic is missing from the store: detectors
then see an ELP as gone, or changed, and raise alerts about a problem that is
in the message, not in APOGÉE. The ingest loop notes the message key of every
dead-lettered change (``dead_lettered``) and of every valid one
(``valid``); ``write`` keeps one ``dead_letter_entity`` row per topic and key,
deleted when a valid change of the same key arrives later (superseded).

The ELP a row is about (``cod_elp``) is read, best effort, from the message key
or value with the topic's column mapping: the message was refused, so it may
not say it. Only keys and codes are stored, never the message itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, tuple_, update

from alerts.store_values import to_db_time
from monitor.config import Settings
from monitor.kafka.ingest.dead_letter import KafkaMessage
from monitor.kafka.ingest.persist import StoreUnavailable, is_store_outage
from monitor.store.schema import dead_letter_entity

COD_ELP = "cod_elp"
_MAX_KEY = 255


@dataclass
class DeadLetterEntities:
    """The dead-lettered and the valid keys of one batch, written in its store transaction.

    Nearly every batch has no dead letter and the table holds nothing of its topics:
    the messages are only noted in order, and their keys are read (a JSON parse
    each) only for the topics that have a dead letter, in the batch or in the table.
    """

    settings: Settings
    _dead: dict[tuple[str, str], tuple[str | None, str, int]] = field(default_factory=dict)
    _valid: set[tuple[str, str]] = field(default_factory=set)
    _noted: list[tuple[KafkaMessage, str | None]] = field(default_factory=list)

    def dead_lettered(self, message: KafkaMessage, reason: str) -> None:
        self._noted.append((message, reason))

    def valid(self, message: KafkaMessage) -> None:
        self._noted.append((message, None))

    def _fold(self, topics: set[str]) -> None:
        """The last word on each key of ``topics``, in the order the messages were noted."""
        for message, reason in self._noted:
            if message.topic not in topics:
                continue
            slot = (message.topic, message_key(message))
            if reason is None:
                self._dead.pop(slot, None)
                self._valid.add(slot)
                continue
            self._valid.discard(slot)
            _, _, count = self._dead.get(slot, (None, reason, 0))
            self._dead[slot] = (self._cod_elp(message), reason, count + 1)
        self._noted.clear()

    def record(self, engine: Engine, now: datetime) -> None:
        """``write`` in its own transaction (``StoreUnavailable`` on outage), then forget the batch.

        Called after the batch's changes are stored and before its offsets are
        committed: a crash in between delivers the batch again.
        """
        if not self._noted and not self._dead and not self._valid:
            return
        try:
            with engine.begin() as conn:
                topics = {m.topic for m, reason in self._noted if reason is not None}
                topics |= set(conn.execute(select(dead_letter_entity.c.topic).distinct()).scalars())
                self._fold(topics)
                if self._dead or self._valid:
                    self.write(conn, now)
        except Exception as error:
            if is_store_outage(error):
                raise StoreUnavailable(f"{type(error).__name__} recording dead letters") from error
            raise
        self._dead.clear()
        self._valid.clear()

    def write(self, conn: Connection, now: datetime) -> None:
        """Record the dead letters noted, delete the keys a valid change superseded."""
        self._fold({message.topic for message, _ in self._noted})
        at = to_db_time(now)
        superseded = sorted(self._valid)
        for start in range(0, len(superseded), 500):
            chunk = superseded[start : start + 500]
            conn.execute(
                delete(dead_letter_entity).where(
                    tuple_(dead_letter_entity.c.topic, dead_letter_entity.c.message_key).in_(chunk)
                )
            )
        for (topic, key), (cod_elp, reason, count) in self._dead.items():
            where = and_(
                dead_letter_entity.c.topic == topic, dead_letter_entity.c.message_key == key
            )
            stored = conn.execute(select(dead_letter_entity.c.count).where(where)).first()
            if stored is None:
                conn.execute(
                    insert(dead_letter_entity).values(
                        topic=topic,
                        message_key=key,
                        cod_elp=cod_elp,
                        reason=reason,
                        count=count,
                        first_at=at,
                        last_at=at,
                    )
                )
            else:
                conn.execute(
                    update(dead_letter_entity)
                    .where(where)
                    .values(reason=reason, count=stored[0] + count, last_at=at)
                )

    def _cod_elp(self, message: KafkaMessage) -> str | None:
        mapping = self.settings.sources.topics.get(message.topic)
        if mapping is None:
            return None
        columns = [source for source, canonical in mapping.columns.items() if canonical == COD_ELP]
        for row in (*_rows(message.key), *_rows(message.value)):
            for column in columns:
                value = row.get(column)
                if value not in (None, ""):
                    return str(value).strip()[:64]
        if mapping.entity == "elp" and message.key is not None and not _rows(message.key):
            return message_key(message)[:64]  # a plain key is the ELP's code
        return None


def message_key(message: KafkaMessage) -> str:
    """The message key as text: the row's key columns joined when it is a Debezium key."""
    rows = _rows(message.key)
    if rows:
        return "/".join(f"{k}={v}" for k, v in sorted(rows[0].items()))[:_MAX_KEY]
    if message.key is None:
        return f"@{message.partition}:{message.offset}"  # no key: one entry per message
    return message.key.decode("utf-8", "replace")[:_MAX_KEY]


def _rows(raw: bytes | None) -> list[dict[str, Any]]:
    """The column dictionaries of a Debezium key or value (wrapped or not), if it parses."""
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(parsed, dict) and isinstance(parsed.get("payload"), dict):
        parsed = parsed["payload"]
    if not isinstance(parsed, dict):
        return []
    rows = [parsed[side] for side in ("after", "before") if isinstance(parsed.get(side), dict)]
    if rows:
        return rows
    return [parsed] if "op" not in parsed else []
