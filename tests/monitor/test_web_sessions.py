"""Server-side sessions: a logout ends the cookie everywhere, expired ones are cleaned up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from monitor.store.web_session import close_session, open_session, session_user, web_session
from tests.monitor.web_support import NOW, csrf_of, log_in, make_client, settings

SHARED = {"session_secret": "one secret for every replica and restart"}


def test_a_cookie_replayed_after_logout_is_refused(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    log_in(client)
    cookie = client.cookies.get("ecm_session")
    assert cookie is not None
    csrf = csrf_of(client.get("/ui/alerts").text)

    assert client.post("/ui/logout", data={"csrf_token": csrf}).status_code == 303

    replay = make_client(sqlite_engine)
    replay.cookies.set("ecm_session", cookie, path="/ui")
    assert replay.get("/ui/alerts").status_code == 303


def test_a_logout_on_one_replica_ends_the_session_on_the_other(sqlite_engine: Engine) -> None:
    first = make_client(sqlite_engine, settings(**SHARED))
    second = make_client(sqlite_engine, settings(**SHARED))
    log_in(first)
    second.cookies = first.cookies
    assert second.get("/ui/alerts").status_code == 200
    csrf = csrf_of(second.get("/ui/alerts").text)

    second.post("/ui/logout", data={"csrf_token": csrf})
    first_again = make_client(sqlite_engine, settings(**SHARED))
    first_again.cookies = first.cookies

    assert first_again.get("/ui/alerts").status_code == 303


def test_the_store_keeps_no_session_id_in_clear(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        sid = open_session(conn, user="astreinte", now=NOW, max_age=timedelta(hours=8))
        [stored] = conn.execute(select(web_session.c.id_hash)).scalars()

    assert sid not in stored and len(stored) == 64


def test_sessions_expire_and_expired_ones_are_deleted(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        old = open_session(conn, user="a", now=NOW, max_age=timedelta(hours=1))
        assert session_user(conn, old, NOW + timedelta(minutes=59)) == "a"
        assert session_user(conn, old, NOW + timedelta(hours=1)) is None
        new = open_session(conn, user="b", now=NOW + timedelta(hours=2), max_age=timedelta(hours=1))
        count = conn.execute(select(func.count()).select_from(web_session)).scalar_one()

    assert count == 1
    with sqlite_engine.begin() as conn:
        assert close_session(conn, new) is True
        assert close_session(conn, new) is False
