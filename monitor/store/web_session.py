"""The page's logged-in sessions, kept in the state store so every API replica sees a logout.

The cookie stays signed (``monitor.http.web.session``) and now names a session id;
only its SHA-256 is stored, so a copy of the table opens no session. A session
is valid while its row exists and has not expired: logging out deletes the
row, and every replica reads the same table. Expired rows are deleted when
someone logs in (cheap, and nothing else needs them).

Example::

    sid = open_session(conn, user="astreinte-cemu", now=now, max_age=timedelta(hours=8))
    session_user(conn, sid, now)     # "astreinte-cemu", None once closed or expired
    close_session(conn, sid)
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, DateTime, String, Table, delete, insert, select

from alerts.store_values import to_db_time
from alerts.tables import metadata

web_session = Table(
    "web_session",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)


def _hashed(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def open_session(conn: Connection, *, user: str, now: datetime, max_age: timedelta) -> str:
    """Store a new session of ``user``; its id (for the signed cookie only)."""
    conn.execute(delete(web_session).where(web_session.c.expires_at <= to_db_time(now)))
    sid = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_session).values(
            id_hash=_hashed(sid),
            user_name=user,
            created_at=to_db_time(now),
            expires_at=to_db_time(now + max_age),
        )
    )
    return sid


def session_user(conn: Connection, sid: str, now: datetime) -> str | None:
    """The user of the session ``sid`` if it is open and not expired, else None."""
    user = conn.execute(
        select(web_session.c.user_name).where(
            web_session.c.id_hash == _hashed(sid), web_session.c.expires_at > to_db_time(now)
        )
    ).scalar_one_or_none()
    return None if user is None else str(user)


def close_session(conn: Connection, sid: str) -> bool:
    """End the session ``sid`` on every replica; whether it was open."""
    return bool(
        conn.execute(delete(web_session).where(web_session.c.id_hash == _hashed(sid))).rowcount
    )
