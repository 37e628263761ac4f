"""What every page handler needs: who the visitor is, their session, and how to answer."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import SecretStr
from sqlalchemy import Engine

from monitor.clock import Clock
from monitor.http.auth import Authenticator, Principal
from monitor.http.web.forms import FormRejected, read_form
from monitor.http.web.rendering import Pages
from monitor.http.web.session import COOKIE_NAME, CSRF_FIELD, Session, SessionCodec
from monitor.http.web.urls import WEB_PREFIX
from monitor.store.web_session import close_session, open_session, session_user

logger = logging.getLogger(__name__)
DEFAULT_SESSION_SECONDS = 8 * 3600  # an on-call shift


@dataclass(frozen=True, slots=True)
class Visitor:
    """One request's visitor: their session (new or from the cookie) and who they are."""

    session: Session
    principal: Principal | None
    session_is_new: bool


@dataclass(frozen=True, slots=True)
class WebContext:
    """The page's dependencies, built once by ``install_web``."""

    engine: Engine
    auth: Authenticator
    codec: SessionCodec
    pages: Pages
    clock: Clock
    secure_cookies: bool

    @classmethod
    def from_settings(
        cls, settings: Any, *, engine: Engine, auth: Authenticator, clock: Clock
    ) -> WebContext:
        http = settings.http
        secret = getattr(http, "session_secret", None)
        if isinstance(secret, SecretStr):
            secret = secret.get_secret_value()
        # Without a configured secret, sessions last until the process restarts; with
        # several API replicas, configure one so a session works on each of them.
        if not secret:
            logger.warning(
                "http.session_secret is not set: the page's logins are signed with a random "
                "key of this process, lost at restart and refused by any other API replica; "
                "set the same secret on every replica (ECAMPUS_MONITOR_HTTP__SESSION_SECRET)"
            )
        key = secret.encode() if secret else secrets.token_bytes(32)
        return cls(
            engine=engine,
            auth=auth,
            codec=SessionCodec(
                secret=key,
                max_age_seconds=getattr(http, "session_max_age_seconds", DEFAULT_SESSION_SECONDS),
                clock=clock,
            ),
            pages=Pages(settings.rules.timezone),
            clock=clock,
            secure_cookies=str(http.public_url).startswith("https://"),
        )

    def visitor(self, request: Request) -> Visitor:
        """The proxy's user if trusted, else the user of a token login still configured."""
        found = self.codec.decode(request.cookies.get(COOKIE_NAME))
        session = found or Session.fresh(user=None, now=self.clock())
        client = request.client.host if request.client else None
        header_user = self.auth.header_user(request.headers, client)
        principal: Principal | None = None
        if header_user is not None:
            principal = Principal(header_user, "header")
        elif (
            session.user is not None
            and session.user in self.auth.tokens.names()
            and self._still_open(session)
        ):
            principal = Principal(session.user, "token")
        return Visitor(session=session, principal=principal, session_is_new=found is None)

    def _still_open(self, session: Session) -> bool:
        """Whether the login's stored session is open: a logout on any replica ends it."""
        if session.sid is None:
            return False
        with self.engine.connect() as conn:
            return session_user(conn, session.sid, self.clock()) == session.user

    def log_in(self, user: str) -> Session:
        """A new session of ``user``, stored so that every replica can end it."""
        with self.engine.begin() as conn:
            sid = open_session(
                conn,
                user=user,
                now=self.clock(),
                max_age=timedelta(seconds=self.codec.max_age_seconds),
            )
        return Session.fresh(user=user, now=self.clock(), sid=sid)

    def log_out(self, session: Session) -> None:
        if session.sid is not None:
            with self.engine.begin() as conn:
                close_session(conn, session.sid)

    def answer(self, visitor: Visitor, response: Response) -> Response:
        """``response``, carrying the session cookie when the session is new."""
        if visitor.session_is_new:
            self.set_session(response, visitor.session)
        return response

    def set_session(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self.codec.encode(session),
            max_age=self.codec.max_age_seconds,
            path=WEB_PREFIX,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
        )

    def to_login(self, request: Request) -> RedirectResponse:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{WEB_PREFIX}/login?next={quote(here, safe='')}", status.HTTP_303_SEE_OTHER
        )

    def error(
        self, visitor: Visitor, status_code: int, message: str, *, title: str = "Erreur"
    ) -> Response:
        page = self.pages.render(
            "error.html",
            status_code,
            title=title,
            message=message,
            user=visitor.principal,
            csrf=visitor.session.csrf,
        )
        return self.answer(visitor, page)

    async def checked_form(
        self, request: Request, visitor: Visitor
    ) -> tuple[dict[str, str], Response | None]:
        """The posted form if its CSRF token is this session's; else the refusal to send."""
        try:
            form = await read_form(request)
        except FormRejected as rejected:
            return {}, self.error(visitor, rejected.status_code, str(rejected))
        if visitor.session_is_new or not visitor.session.csrf_matches(form.get(CSRF_FIELD)):
            refusal = self.error(
                visitor,
                status.HTTP_403_FORBIDDEN,
                "Ce formulaire a expiré ou ne vient pas de cette page. "
                "Rechargez la page et recommencez.",
                title="Formulaire refusé",
            )
            return form, refusal
        return form, None
