"""Who is calling: bearer tokens kept as SHA-256 hashes, and the reverse proxy's user header.

Tokens are configured either as hashes by name (``http.api_token_hashes``, what
``python -m monitor.http.auth`` prints) or, for the demo and old configurations, in
plain (``http.api_tokens``): those are hashed here at start and the plain text
is not kept. A presented token is hashed and compared with every stored hash,
without early exit. Plain SHA-256 is enough because tokens are random (32
bytes from ``secrets``), not passwords: nothing is left to guess from a hash.

The user header (``X-Remote-User``, set by the university's CAS proxy) is off
by default. When on, it is believed only from the configured proxy addresses:
the proxy must set or remove it on every request it forwards.

Example::

    auth = Authenticator.from_http_settings(settings.http)
    auth.tokens.identify("s3cr3t")             # "astreinte-cemu" or None
    auth.header_user(headers, client_host)     # "jdupont" or None
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr

logger = logging.getLogger(__name__)

# A user or token name shows in the audit trail and the page: keep it a plain identifier.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
DEFAULT_USER_HEADER = "X-Remote-User"
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1", "::1")


def hash_token(token: str) -> str:
    """The SHA-256 of ``token`` in hex, as ``http.api_token_hashes`` stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_valid_name(name: str) -> bool:
    """Whether ``name`` can stand for a person or a token in the audit trail."""
    return _NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a token's name or the proxy's user, and how we know it."""

    name: str
    method: Literal["token", "header"]

    def actor(self, on_behalf_of: str | None = None) -> str:
        """The name recorded in the audit trail; a named third party stays tied to the caller."""
        if on_behalf_of is None or on_behalf_of == self.name:
            return self.name
        return f"{on_behalf_of} (via {self.name})"


class TokenBook:
    """The configured API tokens, by name, as SHA-256 digests only."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        self._digests: list[tuple[str, bytes]] = []
        for name, hexdigest in hashes.items():
            if not is_valid_name(name):
                raise ValueError(f"API token name {name!r} must match {_NAME.pattern}")
            normalised = hexdigest.strip().lower()
            if _SHA256_HEX.fullmatch(normalised) is None:
                raise ValueError(f"API token {name!r}: expected 64 hex digits (SHA-256)")
            self._digests.append((name, bytes.fromhex(normalised)))

    @classmethod
    def from_settings(
        cls, plain: Sequence[SecretStr], hashes: Mapping[str, str | SecretStr]
    ) -> TokenBook:
        """Named hashes plus plain tokens, the latter named ``api-token-1``, ``api-token-2``…"""
        named = {name: _reveal(value) for name, value in hashes.items()}
        for index, token in enumerate(plain, start=1):
            name = f"api-token-{index}"
            if name in named:
                raise ValueError(f"API token name {name!r} is reserved for the plain api_tokens")
            named[name] = hash_token(token.get_secret_value())
        return cls(named)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self._digests)

    def identify(self, presented: str) -> str | None:
        """The name of the token ``presented``, or None; the time taken says nothing of which."""
        digest = hashlib.sha256(presented.encode()).digest()
        found: str | None = None
        for name, stored in self._digests:
            if hmac.compare_digest(stored, digest) and found is None:
                found = name
        return found


class TrustedHeader:
    """The user header of the reverse proxy, believed only from the proxy's addresses."""

    def __init__(
        self,
        *,
        enabled: bool = False,
        header_name: str = DEFAULT_USER_HEADER,
        trusted_proxies: Iterable[str] = DEFAULT_TRUSTED_PROXIES,
    ) -> None:
        self.enabled = enabled
        self.header_name = header_name
        self._networks = [ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies]
        if enabled and not self._networks:
            raise ValueError("http.trust_user_header needs at least one http.trusted_proxies")

    def is_trusted_proxy(self, client_host: str | None) -> bool:
        if client_host is None:
            return False
        try:
            address = ipaddress.ip_address(client_host)
        except ValueError:  # a test client's "testclient", a unix socket path
            return False
        return any(address in network for network in self._networks)

    def user(self, headers: Mapping[str, str], client_host: str | None) -> str | None:
        """The proxy's user for this request, or None when off, absent, untrusted or malformed."""
        if not self.enabled:
            return None
        value = headers.get(self.header_name)
        if value is None:
            return None
        if not self.is_trusted_proxy(client_host):
            logger.warning(
                "ignoring %s from %s: not a trusted proxy address", self.header_name, client_host
            )
            return None
        user = value.strip()
        if not is_valid_name(user):
            logger.warning("ignoring %s: %r is not a user name", self.header_name, user[:80])
            return None
        return user


@dataclass(frozen=True, slots=True)
class Authenticator:
    """Everything needed to tell who calls, built once from ``settings.http``."""

    tokens: TokenBook
    header: TrustedHeader

    @classmethod
    def from_http_settings(cls, http: Any) -> Authenticator:
        """From ``settings.http``; settings this version of config.py lacks take their defaults."""
        return cls(
            tokens=TokenBook.from_settings(
                getattr(http, "api_tokens", []), getattr(http, "api_token_hashes", {})
            ),
            header=TrustedHeader(
                enabled=getattr(http, "trust_user_header", False),
                header_name=getattr(http, "user_header_name", DEFAULT_USER_HEADER),
                trusted_proxies=getattr(http, "trusted_proxies", DEFAULT_TRUSTED_PROXIES),
            ),
        )

    @property
    def configured(self) -> bool:
        """Whether anyone at all can authenticate."""
        return bool(self.tokens) or self.header.enabled

    def header_user(self, headers: Mapping[str, str], client_host: str | None) -> str | None:
        return self.header.user(headers, client_host)

    def principal(self, headers: Mapping[str, str], client_host: str | None) -> Principal | None:
        """Who calls: a bearer token (a wrong one is not rescued by the header), else the
        trusted proxy's user; None for nobody."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            name = self.tokens.identify(token.strip())
            return None if name is None else Principal(name, "token")
        user = self.header_user(headers, client_host)
        return None if user is None else Principal(user, "header")


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m monitor.http.auth [--new NAME]``: hash a token read on stdin, or make a new one."""
    parser = argparse.ArgumentParser(
        prog="python -m monitor.http.auth",
        description="Print the SHA-256 of an API token for http.api_token_hashes.",
    )
    parser.add_argument("--new", metavar="NAME", help="generate a random token for NAME")
    arguments = parser.parse_args(argv)
    if arguments.new is not None:
        if not is_valid_name(arguments.new):
            parser.error(f"the name must match {_NAME.pattern}")
        token = secrets.token_urlsafe(32)
        print(f"token (give it to {arguments.new}, store it nowhere else): {token}")
        print("configuration:")
        print("  http:")
        print("    api_token_hashes:")
        print(f"      {arguments.new}: {hash_token(token)}")
        return 0
    token = sys.stdin.readline().strip()
    if not token:
        parser.error("no token on standard input")
    print(hash_token(token))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
