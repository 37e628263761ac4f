"""Helpers shared by the simulator's tests (fixtures live in this folder's conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.kafka.events import OutgoingMessage
from monitor.simulation import Simulation

SNAPSHOT = datetime(2026, 10, 5, tzinfo=ZoneInfo("Europe/Paris"))


class PlayedSimulation:
    """A simulation whose events were all produced (kept in memory: tiny or small scale only)."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        self.messages: list[OutgoingMessage] = list(simulation.events())


def by_topic(messages: list[OutgoingMessage]) -> Iterator[tuple[str, list[OutgoingMessage]]]:
    topics: dict[str, list[OutgoingMessage]] = {}
    for message in messages:
        topics.setdefault(message.topic, []).append(message)
    yield from sorted(topics.items())
