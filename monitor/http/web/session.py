"""The page's session: a signed cookie holding the CSRF token and, after a token login, the user.

The cookie is ``base64url(json) "." base64url(HMAC-SHA256)``; it is HttpOnly,
SameSite=Strict, Secure when the public URL is https, and expires after
``max_age_seconds``. Nothing secret is in it: the HMAC only makes it
unforgeable. A login also names a session id (``sid``) kept in the state store
(``monitor.store.web_session``): logging out deletes it, so the cookie is refused
by every API replica at once, before it expires. A user logged in through a
token stays logged in only while a token of that name is configured, so
removing a token ends its sessions.

Example::

    codec = SessionCodec(secret=b"...", max_age_seconds=8 * 3600, clock=utc_now)
    cookie = codec.encode(Session.fresh(user="astreinte-cemu", now=utc_now()))
    codec.decode(cookie)    # the Session, or None if forged, malformed or too old
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import Clock

COOKIE_NAME = "ecm_session"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session: its CSRF token, its user and stored session id after a login."""

    csrf: str
    user: str | None
    issued_at: int
    sid: str | None = None

    @classmethod
    def fresh(cls, *, user: str | None, now: datetime, sid: str | None = None) -> Session:
        """A new session with a new CSRF token (never reuse one across a login)."""
        return cls(
            csrf=secrets.token_urlsafe(32), user=user, issued_at=int(now.timestamp()), sid=sid
        )

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf.encode(), presented.encode())


class SessionCodec:
    """Signs and checks session cookies with a key derived from the configured secret."""

    def __init__(self, *, secret: bytes, max_age_seconds: int, clock: Clock) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes long")
        # Derived, so the configured secret is used for this purpose only.
        self._key = hmac.new(secret, b"ecampus-monitor session v1", hashlib.sha256).digest()
        self.max_age_seconds = max_age_seconds
        self._clock = clock

    def encode(self, session: Session) -> str:
        payload = json.dumps(
            {"c": session.csrf, "u": session.user, "t": session.issued_at, "s": session.sid},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``, or None when absent, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        encoded_payload, encoded_signature = cookie.split(".")
        try:
            payload = _unb64(encoded_payload)
            signature = _unb64(encoded_signature)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            fields = json.loads(payload)
            session = Session(
                csrf=str(fields["c"]),
                user=fields["u"],
                issued_at=int(fields["t"]),
                sid=fields.get("s"),
            )
        except (ValueError, KeyError, TypeError):
            return None
        age = self._clock().timestamp() - session.issued_at
        if not 0 <= age <= self.max_age_seconds or not session.csrf:
            return None
        if session.user is not None and not isinstance(session.user, str):
            return None
        if session.sid is not None and not isinstance(session.sid, str):
            return None
        return session

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
