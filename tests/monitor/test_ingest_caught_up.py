"""When the ingest loop says it is caught up: judged on what the poll saw, not on later fetches."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.config import HttpSettings, StoreSettings, load_settings
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.metrics import Metrics


@dataclass
class FetchedAhead:
    """What the loop reads of its Kafka consumer: assignment, position, high watermark.

    ``highwater`` is what the latest fetch response said; the client fetches ahead in
    the background while a batch is being stored, so it moves on its own.
    """

    position_of: dict[str, int]
    highwater_of: dict[str, int | None]
    assigned: set[str] = field(default_factory=set)

    def assignment(self) -> set[str]:
        return self.assigned or set(self.position_of)

    def position(self, tp: str, timeout_ms: int = 0) -> int:
        return self.position_of[tp]

    def highwater(self, tp: str) -> int | None:
        return self.highwater_of[tp]


def _loop(engine: Engine, consumer: FetchedAhead) -> IngestLoop:
    settings = load_settings(
        store=StoreSettings(url=str(engine.url)), http=HttpSettings(enabled=False)
    )
    loop = IngestLoop(settings, engine, Metrics(CollectorRegistry()))
    loop._consumer = consumer
    return loop


def test_a_batch_read_to_the_end_the_poll_saw_is_caught_up_though_more_arrived_since(
    sqlite_engine: Engine,
) -> None:
    consumer = FetchedAhead({"t-0": 10, "t-1": 4}, {"t-0": 10, "t-1": 4})
    loop = _loop(sqlite_engine, consumer)
    seen_at_poll = loop._highwaters()
    consumer.highwater_of["t-0"] = 12  # steady traffic: fetched ahead while storing
    assert loop._at_end(seen_at_poll)
    assert not loop._at_end()  # the latest watermarks: the next batch is waiting


def test_a_batch_short_of_what_the_poll_saw_is_behind(sqlite_engine: Engine) -> None:
    consumer = FetchedAhead({"t-0": 8, "t-1": 4}, {"t-0": 10, "t-1": 4})
    loop = _loop(sqlite_engine, consumer)
    assert not loop._at_end(loop._highwaters())


def test_a_partition_never_fetched_or_a_rebalance_is_not_caught_up(sqlite_engine: Engine) -> None:
    consumer = FetchedAhead({"t-0": 10, "t-1": 0}, {"t-0": 10, "t-1": None})
    loop = _loop(sqlite_engine, consumer)
    assert not loop._at_end(loop._highwaters())
    consumer.highwater_of["t-1"] = 0
    seen_at_poll = loop._highwaters()
    assert loop._at_end(seen_at_poll)
    consumer.assigned = {"t-0", "t-1", "t-2"}  # assigned a partition while storing
    assert not loop._at_end(seen_at_poll)
    consumer.assigned = set()
    consumer.position_of.clear()
    assert not loop._at_end({})
