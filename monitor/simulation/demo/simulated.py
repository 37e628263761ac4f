"""The synthetic university played to the daemon, day by day, on a simulated clock.

Snapshot, then each day's APOGÉE/ADE edits (faults of every known kind among
them) and each night's lmsjonction run. At the simulation's checkpoints (the
evening after the edits, the morning after the run) the demo waits until the
daemon has ingested everything, moves the daemon's clock there, lets one
detection cycle run, and shows the alerts: predictions in the evening,
what the night did in the morning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from kafka import KafkaProducer, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.daemon import Daemon
from monitor.kafka.events import OutgoingMessage, publish
from monitor.simulation.command import parse_start
from monitor.simulation.demo.runner import MovableClock, wait_until
from monitor.simulation.demo.show import show
from monitor.simulation.timeline import Simulation

CHUNK = 5000


class SimulatedPlay:
    """``nights`` simulated days ending this morning, so the dates look like today's."""

    def __init__(self, scale: str, *, nights: int, seed: int) -> None:
        self.sim = Simulation(scale, seed=seed, nights=nights, start=parse_start("now", nights))
        # The first night's run (right after the snapshot) is over by 07:45.
        self.clock = MovableClock(self.sim.snapshot_at + timedelta(hours=7, minutes=45))
        self._checkpoints: list[tuple[datetime, frozenset[str]]] = []
        self.sim.checkpoint = lambda moment, moments: self._checkpoints.append((moment, moments))

    def routing_yaml(self) -> str:
        return self.sim.uni.routing_yaml(cemu="cemu.assistance@univ-demo.fr")

    def _phases(
        self,
    ) -> Iterator[tuple[list[OutgoingMessage], tuple[datetime, frozenset[str]] | None]]:
        """The messages up to each checkpoint, then the checkpoint (None after the last)."""
        batch: list[OutgoingMessage] = []
        for message in self.sim.events():
            while self._checkpoints:
                yield batch, self._checkpoints.pop(0)
                batch = []
            batch.append(message)
        yield batch, None
        while self._checkpoints:
            yield [], self._checkpoints.pop(0)

    def run(self, daemon: Daemon, console: Console) -> None:
        producer = KafkaProducer(
            bootstrap_servers=daemon.settings.kafka.bootstrap_servers, linger_ms=20
        )
        ends: dict[TopicPartition, int] = {}
        console.print(
            f"{self.sim.scale.name} university: {len(self.sim.uni.composantes)} composantes, "
            f"{self.sim.snapshot_size():,} rows in the snapshot, {self.sim.schedule.nights} days"
        )
        # The simulated clock only moves at checkpoints: detection runs there, on a
        # store that has everything published before (not on a half-read snapshot).
        daemon.detection_held.set()
        try:
            for messages, checkpoint in self._phases():
                self._publish(producer, messages, ends, console)
                if checkpoint is not None:
                    self._checkpoint(daemon, checkpoint, ends, console)
        finally:
            daemon.detection_held.clear()
            producer.close()

    def _publish(
        self,
        producer: KafkaProducer,
        messages: list[OutgoingMessage],
        ends: dict[TopicPartition, int],
        console: Console,
    ) -> None:
        if not messages:
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("publishing", total=len(messages))
            for start in range(0, len(messages), CHUNK):
                for _ in publish(producer, messages[start : start + CHUNK], ends):
                    pass
                progress.advance(task, min(CHUNK, len(messages) - start))
        console.print(f"published {len(messages):,} messages")

    def _checkpoint(
        self,
        daemon: Daemon,
        checkpoint: tuple[datetime, frozenset[str]],
        ends: dict[TopicPartition, int],
        console: Console,
    ) -> None:
        moment, moments = checkpoint
        wait_until("the daemon ingests them…", lambda: daemon.progress(ends).lag == 0, console)
        self.clock.set(moment)
        daemon.detection_held.clear()
        daemon.settle()
        wait_until("detection and delivery…", lambda: daemon.progress(ends).idle, console)
        daemon.detection_held.set()
        local = moment.astimezone(self.sim.zone)
        when = "evening, ahead of the night" if "ahead" in moments else "morning, after the night"
        show(daemon, f"{local:%A %d/%m %H:%M} ({when})", console)
