"""Serve an ASGI app with uvicorn on a background thread of the daemon.

Example::

    server = ApiServer(app, "127.0.0.1", 0)
    server.start()          # returns once the socket accepts connections
    print(server.port)      # the port the system chose
    server.stop()
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)


class ApiServer:
    """uvicorn on its own thread; ``start()`` binds and waits, ``stop()`` drains and joins."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        access_log: bool = False,
        graceful_timeout_seconds: float = 10.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._graceful_timeout = graceful_timeout_seconds
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,  # the daemon configures logging, not uvicorn
                access_log=access_log,
                timeout_graceful_shutdown=max(1, round(graceful_timeout_seconds)),
                # The client address must stay the socket's: the CAS user header is believed
                # only from trusted proxy addresses, which X-Forwarded-For must not fake.
                proxy_headers=False,
            )
        )
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The port listened on: the one the system chose when 0 was asked."""
        if self._socket is None:
            return self._requested_port
        return int(self._socket.getsockname()[1])

    def start(self, timeout_seconds: float = 10.0) -> None:
        """Bind the socket, start serving, and return once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the HTTP server is already started")
        # Binding here, not in uvicorn, makes "address in use" an OSError in the
        # caller (uvicorn would log it and exit the process) and gives the real port.
        self._socket = _bind(self.host, self._requested_port)
        self._thread = threading.Thread(target=self._serve, name="http-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive():
                self._socket.close()
                raise RuntimeError("the HTTP server failed to start") from self._failure
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the HTTP server did not start in {timeout_seconds} s")
            time.sleep(0.01)
        logger.info("HTTP API listening on %s:%d", self.host, self.port)

    def stop(self) -> None:
        """Stop accepting, let running requests finish, and join the thread."""
        thread = self._thread
        if thread is None:
            return
        self._server.should_exit = True
        thread.join(self._graceful_timeout + 5)
        if thread.is_alive():
            logger.warning(
                "HTTP server still draining after %s s; forcing exit", self._graceful_timeout
            )
            self._server.force_exit = True
            thread.join(5)
        if self._socket is not None:
            self._socket.close()
        self._thread = None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # uvicorn exits with SystemExit when startup fails
            self._failure = error
            logger.exception("the HTTP server stopped on an error")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
