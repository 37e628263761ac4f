"""The HTTP API and the on-call page: alerts, operators' actions, diagnosis, probes, ``/metrics``.

A thin adapter: every answer comes from ``alerts.repository`` or, for
``/diagnose``, ``monitor.diagnosis``; this package only speaks HTTP (pydantic
models at the boundary, status codes, authentication). Reading alerts and
diagnosing are open; acting needs a bearer token (``monitor.http.auth``) or the
trusted proxy's user header. The page (``monitor.http.web``) lives under ``/ui``.

Example::

    app = create_app(settings=settings, engine=engine, metrics=Metrics(registry))
    ApiServer(app, settings.http.host, settings.http.port).start()
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock, utc_now
from monitor.config import Settings
from monitor.http.api.alerts import alerts_router, wants_html
from monitor.http.api.dead_letters import dead_letters_router
from monitor.http.api.diagnose import diagnose_router
from monitor.http.api.guards import DEFAULT_MAX_BODY_BYTES, AuthenticateFirst, BodyLimit
from monitor.http.api.health import health_router
from monitor.http.api.outbox import outbox_router
from monitor.http.auth import Authenticator
from monitor.http.web import install_web
from monitor.http.web.rendering import Pages
from monitor.http.web.security import SecurityHeaders
from monitor.http.web.urls import DIAGNOSE_PATH, WEB_PREFIX
from monitor.metrics import Metrics

logger = logging.getLogger(__name__)
# The API's writes all need a caller; the page's forms (/ui) have their session and CSRF.
_PROTECTED_PREFIXES = ("/alerts/", "/outbox")


def is_protected_write(path: str) -> bool:
    return path.startswith(_PROTECTED_PREFIXES)


def create_app(
    *,
    settings: Settings,
    engine: Engine,
    metrics: Metrics,
    readiness: Callable[[], dict[str, bool]] | None = None,
    readiness_reasons: Callable[[], dict[str, str]] | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The FastAPI application over the alert store ``engine``."""
    auth = Authenticator.from_http_settings(settings.http)
    app = FastAPI(
        title="ecampus-monitor",
        summary="Alerts on the data feeding Ecampus from APOGÉE and ADE.",
    )
    # Outermost last: security headers on every answer, then authentication before any
    # body is read, then the body's size.
    app.add_middleware(
        BodyLimit, max_bytes=getattr(settings.http, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    )
    app.add_middleware(AuthenticateFirst, auth=auth, protected=is_protected_write)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(SQLAlchemyError)
    def store_unavailable(request: Request, error: SQLAlchemyError) -> Response:
        logger.error("state store error on %s %s: %s", request.method, request.url.path, error)
        path = request.url.path
        if path.startswith(WEB_PREFIX) or (path == DIAGNOSE_PATH and wants_html(request)):
            return HTMLResponse(
                "<!DOCTYPE html><html lang='fr'><title>Indisponible</title>"
                "<p>La base des alertes ne répond pas ; réessayez dans un instant.</p></html>",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return JSONResponse(
            {"detail": "state store unavailable"}, status.HTTP_503_SERVICE_UNAVAILABLE
        )

    app.include_router(alerts_router(engine=engine, auth=auth, clock=clock))
    app.include_router(outbox_router(engine=engine, auth=auth, clock=clock))
    app.include_router(dead_letters_router(engine=engine, auth=auth))
    app.include_router(
        diagnose_router(
            engine=engine,
            config=settings.rules.detector_config(),
            clock=clock,
            pages=Pages(settings.rules.timezone),
        )
    )
    app.include_router(
        health_router(
            engine=engine, metrics=metrics, readiness=readiness, reasons=readiness_reasons
        )
    )
    install_web(app, settings=settings, engine=engine, auth=auth, clock=clock)
    return app
