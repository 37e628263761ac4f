"""Real ``ecampus-monitor run --role api`` processes for the HTTP tests, and raw HTTP clients.

``ApiProcess`` starts the command as a university runs it (a YAML file and
``ECAMPUS_MONITOR_*`` variables), waits for ``/healthz`` and stops it with
SIGTERM. ``raw_post`` speaks HTTP/1.1 on a socket, so a test can send a body of
any size (declared or chunked) without holding it in memory, and stop sending
as soon as the server answers.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

CLI = [sys.executable, "-m", "monitor"]


def clean_env(**variables: str) -> dict[str, str]:
    """The environment without any ECAMPUS_MONITOR_* of the caller, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    return env | variables


def cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=dict(env), capture_output=True, text=True, timeout=120, check=False
    )


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path


class ApiProcess:
    """``ecampus-monitor run --role api --config FILE`` on ``port``, its stderr in a file."""

    def __init__(self, config: Path, port: int, env: Mapping[str, str], log: Path) -> None:
        self.config, self.port, self.env, self.log = config, port, dict(env), log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [*CLI, "run", "--role", "api", "--config", str(self.config)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API process exited: {self.stderr()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"the API process did not answer: {self.stderr()}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def peak_rss_kib(self) -> int:
        """The process's peak resident set (VmHWM), from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")

    def __enter__(self) -> ApiProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def raw_post(
    port: int,
    path: str,
    headers: Mapping[str, str],
    body: Iterable[bytes],
    *,
    chunked: bool,
) -> tuple[int, int]:
    """POST ``body`` piece by piece; stop sending once the server answers.

    Returns the status code and how many body bytes were handed to the socket.
    """
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        sock.settimeout(1.0)
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered: no need to send the rest
            data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            try:
                sock.sendall(data)
            except (TimeoutError, OSError):
                break  # the server stopped reading (it answered, or closes)
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while b"\r\n" not in answer:
            received = sock.recv(4096)
            if not received:
                break
            answer += received
    status_line = answer.split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1]), sent
