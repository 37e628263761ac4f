"""A worker's ingest is settled on its partitions, never in the middle of a rebalance."""

from __future__ import annotations

from monitor.coordination.ingest_watch import IngestWatch


class Consumer:
    def __init__(self) -> None:
        self.partitions = 0
        self.caught_up = True
        self.now = 0.0


def _watch(consumer: Consumer) -> IngestWatch:
    return IngestWatch(
        lambda: consumer.caught_up,
        lambda: consumer.partitions,
        standby_after=16,
        monotonic=lambda: consumer.now,
    )


def test_settled_when_its_partitions_are_read_to_the_end() -> None:
    consumer = Consumer()
    consumer.partitions = 6
    watch = _watch(consumer)
    assert watch.settled()
    consumer.caught_up = False
    assert not watch.settled()


def test_not_settled_while_a_rebalance_took_its_partitions_away() -> None:
    consumer = Consumer()
    consumer.partitions = 6
    watch = _watch(consumer)
    consumer.partitions = 0  # a worker died or joined: the group rebalances
    assert not watch.settled()
    consumer.now = 5
    assert not watch.settled()
    consumer.partitions = 4  # back, with partitions not read yet
    consumer.caught_up = False
    assert not watch.settled()


def test_a_standby_without_partitions_is_settled_after_a_rebalance_time() -> None:
    consumer = Consumer()
    watch = _watch(consumer)
    assert not watch.settled()
    consumer.now = 16
    assert watch.settled()


def test_a_closed_consumer_is_not_settled() -> None:
    def closed() -> int:
        raise RuntimeError("the ingest loop is not open")

    assert not IngestWatch(lambda: True, closed, standby_after=0).settled()
