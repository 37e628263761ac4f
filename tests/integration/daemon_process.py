"""The daemon as an operator runs it (``python -m monitor run``), for outage and restart tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from monitor.kafka.broker import free_port

CLI = [sys.executable, "-m", "monitor"]


def daemon_env(store_url: str, bootstrap: str, **extra: str) -> dict[str, str]:
    """Environment of a daemon process: fast group joins, quick store retries, a free HTTP port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    return (
        env
        | {
            "ECAMPUS_MONITOR_STORE__URL": store_url,
            "ECAMPUS_MONITOR_STORE__RETRY_INITIAL_SECONDS": "0.5",
            "ECAMPUS_MONITOR_STORE__RETRY_MAX_SECONDS": "2",
            "ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": json.dumps([bootstrap]),
            "ECAMPUS_MONITOR_KAFKA__GROUP_ID": f"proc-{uuid.uuid4().hex[:8]}",
            "ECAMPUS_MONITOR_KAFKA__SESSION_TIMEOUT_MS": "6000",
            "ECAMPUS_MONITOR_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            "ECAMPUS_MONITOR_KAFKA__MAX_POLL_INTERVAL_MS": "10000",
            "ECAMPUS_MONITOR_HTTP__PORT": str(free_port()),
            "ECAMPUS_MONITOR_SMTP__ENABLED": "false",
        }
        | extra
    )


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


class DaemonProcess:
    """One ``ecampus-monitor run`` child process, its log in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.base = f"http://127.0.0.1:{env['ECAMPUS_MONITOR_HTTP__PORT']}"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "run"], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def readyz(self) -> dict[str, Any] | None:
        """The ``/readyz`` answer, or None when the API does not answer."""
        try:
            answer: dict[str, Any] = httpx.get(f"{self.base}/readyz", timeout=5).json()
        except (httpx.TransportError, ValueError):
            return None
        return answer

    def wait_ready(self, timeout: float = 90) -> None:
        wait_for(lambda: (self.readyz() or {}).get("status") == "ready", "ready", timeout, self)

    def stop(self) -> int:
        """SIGTERM, as an operator stops it; the exit status."""
        if not self.alive:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def kill(self) -> None:
        """kill -9: no batch finished, no commit, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=30)


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 90,
    daemon: DaemonProcess | None = None,
    every: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if daemon is not None and not daemon.alive:
            raise AssertionError(f"the daemon exited waiting for {what}:\n{daemon.log()[-3000:]}")
        if time.monotonic() > deadline:
            tail = daemon.log()[-3000:] if daemon is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(every)
