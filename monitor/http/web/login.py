"""Logging in with a token (then a signed session), and out; the proxy's user needs neither."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from monitor.http.web.context import WebContext
from monitor.http.web.session import Session
from monitor.http.web.urls import WEB_PREFIX, safe_next

logger = logging.getLogger(__name__)


def login_router(web: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def login_form(
        request: Request, next_page: str, error: str | None = None, status_code: int = 200
    ) -> Response:
        visitor = web.visitor(request)
        page = web.pages.render(
            "login.html",
            status_code,
            user=None,
            csrf=visitor.session.csrf,
            next_page=next_page,
            error=error,
            tokens_configured=bool(web.auth.tokens),
            header_enabled=web.auth.header.enabled,
        )
        return web.answer(visitor, page)

    @router.get(f"{WEB_PREFIX}/login")
    def login_page(request: Request, next: str | None = None) -> Response:
        if web.visitor(request).principal is not None:
            return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
        return login_form(request, safe_next(next))

    @router.post(f"{WEB_PREFIX}/login")
    async def login(request: Request) -> Response:
        # The store is read and written off the event loop.
        visitor = await run_in_threadpool(web.visitor, request)
        form, refusal = await web.checked_form(request, visitor)
        if refusal is not None:
            return refusal
        next_page = safe_next(form.get("next"))
        name = web.auth.tokens.identify(form.get("token", "").strip())
        if name is None:
            client = request.client.host if request.client else None
            logger.warning("page login refused: unknown token, from %s", client)
            return login_form(request, next_page, "Jeton inconnu.", status.HTTP_401_UNAUTHORIZED)
        logger.info("page login of %r", name)
        response = RedirectResponse(next_page, status.HTTP_303_SEE_OTHER)
        # A new CSRF token with the login: one planted before it is worth nothing after.
        web.set_session(response, await run_in_threadpool(web.log_in, name))
        return response

    @router.post(f"{WEB_PREFIX}/logout")
    async def logout(request: Request) -> Response:
        visitor = await run_in_threadpool(web.visitor, request)
        _, refusal = await web.checked_form(request, visitor)
        if refusal is not None:
            return refusal
        # From now on the old cookie is refused by every replica.
        await run_in_threadpool(web.log_out, visitor.session)
        response = RedirectResponse(f"{WEB_PREFIX}/login", status.HTTP_303_SEE_OTHER)
        web.set_session(response, Session.fresh(user=None, now=web.clock()))
        return response

    return router
