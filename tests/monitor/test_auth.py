"""Hashed tokens, the proxy's user header, and the page's signed session, as pure units."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from monitor.http.auth import Principal, TokenBook, TrustedHeader, hash_token, main
from monitor.http.web.session import Session, SessionCodec

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
SECRET = b"a session secret of more than sixteen bytes"


def test_hash_token_is_the_hex_sha256_of_the_token() -> None:
    assert hash_token("s3cr3t") == hashlib.sha256(b"s3cr3t").hexdigest()


def test_a_hashed_token_identifies_its_name() -> None:
    book = TokenBook({"astreinte-cemu": hash_token("s3cr3t"), "grafana": hash_token("other")})

    assert book.identify("s3cr3t") == "astreinte-cemu"
    assert book.identify("other") == "grafana"
    assert book.identify("S3CR3T") is None
    assert book.identify("") is None


def test_upper_case_hashes_are_accepted() -> None:
    assert TokenBook({"cemu": hash_token("t").upper()}).identify("t") == "cemu"


def test_plain_tokens_are_hashed_and_named_by_position() -> None:
    book = TokenBook.from_settings(
        [SecretStr("first"), SecretStr("second")], {"cemu": hash_token("named")}
    )

    assert book.identify("first") == "api-token-1"
    assert book.identify("second") == "api-token-2"
    assert book.identify("named") == "cemu"
    assert book.names() == {"api-token-1", "api-token-2", "cemu"}


def test_the_book_keeps_no_plain_token() -> None:
    book = TokenBook.from_settings([SecretStr("plain-secret-value")], {})

    assert "plain-secret-value" not in repr(vars(book))


@pytest.mark.parametrize(
    "hashes",
    [
        {"cemu": "not-a-hash"},
        {"cemu": hash_token("t")[:-1]},
        {"bad name!": hash_token("t")},
        {"": hash_token("t")},
    ],
    ids=["not-hex", "too-short", "bad-name", "empty-name"],
)
def test_a_malformed_hash_or_name_is_refused_at_start(hashes: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="API token"):
        TokenBook(hashes)


def test_a_name_of_the_plain_tokens_cannot_be_taken_by_a_hash() -> None:
    with pytest.raises(ValueError, match="reserved"):
        TokenBook.from_settings([SecretStr("x")], {"api-token-1": hash_token("y")})


def test_an_empty_book_is_false() -> None:
    assert not TokenBook({})
    assert TokenBook({"cemu": hash_token("t")})


def test_the_header_is_ignored_when_trust_is_off() -> None:
    header = TrustedHeader(enabled=False)

    assert header.user({"X-Remote-User": "jdupont"}, "127.0.0.1") is None


def test_the_header_is_believed_from_a_trusted_proxy() -> None:
    header = TrustedHeader(enabled=True, trusted_proxies=["127.0.0.1", "10.1.0.0/16"])

    assert header.user({"X-Remote-User": "jdupont"}, "127.0.0.1") == "jdupont"
    assert header.user({"X-Remote-User": " m.martin@unicaen.fr "}, "10.1.4.2") == (
        "m.martin@unicaen.fr"
    )


@pytest.mark.parametrize("client", ["192.0.2.7", "10.2.0.1", "testclient", None])
def test_the_header_is_ignored_from_any_other_address(client: str | None) -> None:
    header = TrustedHeader(enabled=True, trusted_proxies=["127.0.0.1", "10.1.0.0/16"])

    assert header.user({"X-Remote-User": "jdupont"}, client) is None


@pytest.mark.parametrize("value", ["", "   ", "jean dupont", "x" * 65, "a\nb", "<script>"])
def test_a_malformed_user_is_ignored(value: str) -> None:
    header = TrustedHeader(enabled=True)

    assert header.user({"X-Remote-User": value}, "127.0.0.1") is None


def test_the_header_name_is_configurable() -> None:
    header = TrustedHeader(enabled=True, header_name="X-CAS-User")

    assert header.user({"X-CAS-User": "jdupont"}, "::1") == "jdupont"
    assert header.user({"X-Remote-User": "jdupont"}, "::1") is None


def test_trusting_the_header_without_any_proxy_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        TrustedHeader(enabled=True, trusted_proxies=[])


def test_an_action_for_a_named_person_stays_tied_to_the_caller() -> None:
    caller = Principal("api-token-1", "token")

    assert caller.actor() == "api-token-1"
    assert caller.actor("api-token-1") == "api-token-1"
    assert caller.actor("m.dupont") == "m.dupont (via api-token-1)"


def test_the_cli_hashes_a_token_read_on_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("s3cr3t\n"))

    assert main([]) == 0

    assert capsys.readouterr().out.strip() == hash_token("s3cr3t")


def test_the_cli_makes_a_new_token_and_its_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--new", "astreinte-cemu"]) == 0

    printed = capsys.readouterr().out
    token = printed.split("store it nowhere else): ")[1].split()[0]
    assert f"astreinte-cemu: {hash_token(token)}" in printed
    assert len(token) >= 40


def codec(now: datetime = NOW, max_age: int = 3600) -> SessionCodec:
    return SessionCodec(secret=SECRET, max_age_seconds=max_age, clock=lambda: now)


def test_a_session_round_trips_through_its_cookie() -> None:
    session = Session.fresh(user="astreinte-cemu", now=NOW)

    assert codec().decode(codec().encode(session)) == session


def test_a_session_signed_with_another_secret_is_refused() -> None:
    other = SessionCodec(secret=b"x" * 32, max_age_seconds=3600, clock=lambda: NOW)
    cookie = other.encode(Session.fresh(user="astreinte-cemu", now=NOW))

    assert codec().decode(cookie) is None


def test_a_tampered_session_is_refused() -> None:
    visitor = codec().encode(Session.fresh(user=None, now=NOW))
    operator = codec().encode(Session.fresh(user="astreinte-cemu", now=NOW))
    payload, signature = visitor.split(".")
    flipped = ("A" if payload[0] != "A" else "B") + payload[1:]

    assert codec().decode(f"{operator.split('.')[0]}.{signature}") is None
    assert codec().decode(f"{flipped}.{signature}") is None


@pytest.mark.parametrize("cookie", [None, "", "nodot", "a.b.c", "!!.??", "e30.AAAA"])
def test_a_malformed_cookie_is_no_session(cookie: str | None) -> None:
    assert codec().decode(cookie) is None


def test_an_expired_session_is_refused() -> None:
    cookie = codec().encode(Session.fresh(user="astreinte-cemu", now=NOW))

    assert codec(NOW + timedelta(seconds=3600)).decode(cookie) is not None
    assert codec(NOW + timedelta(seconds=3601)).decode(cookie) is None


def test_a_session_from_the_future_is_refused() -> None:
    cookie = codec().encode(Session.fresh(user="astreinte-cemu", now=NOW + timedelta(hours=1)))

    assert codec().decode(cookie) is None


def test_each_fresh_session_has_its_own_csrf_token() -> None:
    first, second = (Session.fresh(user=None, now=NOW) for _ in range(2))

    assert first.csrf != second.csrf
    assert first.csrf_matches(first.csrf)
    assert not first.csrf_matches(second.csrf)
    assert not first.csrf_matches(None)
    assert not first.csrf_matches("")


def test_a_short_session_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SessionCodec(secret=b"short", max_age_seconds=60, clock=lambda: NOW)
