"""ASGI guards in front of the app: authenticate before reading a body, and cap its size.

FastAPI reads a JSON body before it runs the dependency that checks the token,
and Starlette buffers it whole: without these guards an anonymous client could
make the process hold any body it sends. ``AuthenticateFirst`` answers 401 (or
503 when no authentication is configured) to an unauthenticated write on the
API's protected routes without reading a byte of the body. ``BodyLimit`` answers
413 to any request declaring a ``Content-Length`` over the limit, and counts the
bytes of bodies streamed without one (chunked): past the limit it answers 413,
tells the app the client left, and drops whatever the app answers instead.
Both responses close the connection, so the server reads nothing more of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.http.auth import Authenticator

DEFAULT_MAX_BODY_BYTES = 64 * 1024
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def refuse(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    """A small JSON error that closes the connection (the body left unread is not wanted)."""
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class AuthenticateFirst:
    """Refuse an unauthenticated write to a protected route before its body is read."""

    def __init__(self, app: ASGIApp, *, auth: Authenticator, protected: Callable[[str], bool]):
        self.app = app
        self.auth = auth
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in _READS
            and self.protected(scope["path"])
        ):
            if not self.auth.configured:
                await refuse(send, 503, "no API token configured")
                return
            client = scope.get("client")
            caller = self.auth.principal(Headers(scope=scope), client[0] if client else None)
            if caller is None:
                await refuse(
                    send, 401, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
                )
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a body over ``max_bytes``, declared or streamed; the app never gets more."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await refuse(send, 400, "invalid Content-Length")
                return
            if int(declared) > self.max_bytes:
                await refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
        received = 0
        cut = False
        answered = False

        async def counted() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    cut = True
                    if not answered:
                        await refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                    # The app stops reading as if the client had left.
                    return {"type": "http.disconnect"}
            return message

        async def unless_cut(message: Message) -> None:
            nonlocal answered
            if cut:
                return  # the app's answer to a body cut short: the 413 is already sent
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_cut)
        except Exception:
            if not cut:
                raise
            # Reading a body we cut short raised in the app (ClientDisconnect): answered.
