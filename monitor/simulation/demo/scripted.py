"""The short scripted scenario: one day of edits, then the night that archives three courses."""

from __future__ import annotations

from datetime import datetime

from kafka import KafkaProducer, TopicPartition
from rich.console import Console
from rich.progress import Progress

from monitor.clock import Clock, utc_now
from monitor.daemon import Daemon
from monitor.kafka.events import OutgoingMessage, publish
from monitor.pipeline import AFTER_RUN_CURSOR, read_cursor
from monitor.simulation.demo.scenario import build_scenario
from monitor.simulation.demo.show import show


def publish_with_progress(
    producer: KafkaProducer,
    messages: list[OutgoingMessage],
    label: str,
    console: Console,
    ends: dict[TopicPartition, int],
) -> None:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=len(messages))
        for _ in publish(producer, messages, ends):
            progress.advance(task)
    console.print(f"published {len(messages)} messages: {label}")


class ScriptedPlay:
    """Plays ``monitor.simulation.demo.scenario`` on the real clock."""

    def __init__(self, now: datetime) -> None:
        self.scenario = build_scenario(now)
        self.clock: Clock = utc_now

    def routing_yaml(self) -> str:
        return self.scenario.routing_yaml

    def run(self, daemon: Daemon, console: Console) -> None:
        from monitor.simulation.demo.runner import wait_until

        producer = KafkaProducer(bootstrap_servers=daemon.settings.kafka.bootstrap_servers)
        ends: dict[TopicPartition, int] = {}
        try:
            publish_with_progress(
                producer, self.scenario.today, "today's APOGÉE edits", console, ends
            )
            wait_until(
                "the daemon ingests today's changes and predicts tonight…",
                lambda: daemon.progress(ends).idle,
                console,
            )
            show(daemon, "Ahead of the night (predictions)", console)
            publish_with_progress(
                producer, self.scenario.tonight, "tonight's lmsjonction run", console, ends
            )
            wait_until(
                "the daemon ingests the night's run…",
                lambda: (
                    daemon.progress(ends).idle
                    and read_cursor(daemon.engine, AFTER_RUN_CURSOR) == "run-tonight"
                ),
                console,
            )
        finally:
            producer.close()
        show(daemon, "After the night's run", console)
