"""The demo's own SMTP server: every message received becomes an ``.eml`` file.

Runs aiosmtpd in a thread on loopback. Files are named by the UTC time of
receipt and a counter (``20261130T021500-1.eml``) and written atomically, so a
reader never sees half a message. The envelope is kept in two leading headers
(``X-Envelope-From``, ``X-Envelope-To``), as a real mailbox keeps Return-Path.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


class _EmlWriter:
    """aiosmtpd handler: write the message, then answer 250."""

    def __init__(self, directory: Path, clock: Callable[[], datetime]) -> None:
        self.directory = directory
        self.clock = clock
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        envelope_lines = (
            f"X-Envelope-From: <{envelope.mail_from}>\r\n"
            f"X-Envelope-To: {', '.join(f'<{rcpt}>' for rcpt in envelope.rcpt_tos)}\r\n"
        ).encode()
        stamp = f"{self.clock().astimezone(UTC):%Y%m%dT%H%M%S}"
        name = f"{stamp}-{next(self._numbers)}.eml"
        while (self.directory / name).exists():  # a previous process, the same second
            name = f"{stamp}-{next(self._numbers)}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(envelope_lines + content)
        os.replace(temporary, self.directory / name)
        logger.info("mail sink: stored %s", name)
        return "250 Message accepted for delivery"


class _LoopbackController(Controller):
    """A Controller that can bind port 0 and then knows the port it got."""

    def _create_server(self) -> Awaitable[Any]:
        return self._bind()

    async def _bind(self) -> Any:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class MailSink:
    """A local SMTP server storing messages as ``.eml`` files in ``directory``.

    Use as a context manager (``with MailSink(Path("mails")) as sink:``) or with
    ``start()``/``stop()``; ``port=0`` picks a free port, then ``sink.port`` tells it.
    """

    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.host = host
        self._port = port
        self._handler = _EmlWriter(directory, clock)
        self._controller: _LoopbackController | None = None

    @property
    def port(self) -> int:
        """The listening port; after a first start on port 0, the one chosen, kept on restart."""
        return self._port

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the mail sink is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        controller = _LoopbackController(self._handler, hostname=self.host, port=self._port)
        controller.start()
        self._controller = controller
        self._port = int(controller.port)
        logger.info(
            "mail sink listening on %s:%d, writing to %s", self.host, self._port, self.directory
        )

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def message_files(self) -> list[Path]:
        """The stored messages, oldest first."""
        return sorted(self.directory.glob("*.eml"), key=_receipt_order)

    def messages(self) -> list[EmailMessage]:
        """The stored messages, oldest first, parsed with the modern ``email`` policy."""
        parsed = []
        for path in self.message_files():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)  # what policy.default builds
            parsed.append(message)
        return parsed

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _receipt_order(path: Path) -> tuple[str, int]:
    stamp, _, number = path.stem.rpartition("-")
    return (stamp, int(number) if number.isdigit() else 0)
