"""The on-call page served by the daemon: server-rendered HTML, one stylesheet, no build step.

``install_web(app, ...)`` adds the pages under ``/ui`` and the stylesheet under
``/ui/static``. Course labels, summaries and evidence are data: every template
is autoescaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.staticfiles import StaticFiles

from monitor.clock import Clock
from monitor.http.auth import Authenticator
from monitor.http.web.context import WebContext
from monitor.http.web.login import login_router
from monitor.http.web.pages import alert_pages_router
from monitor.http.web.urls import STATIC_PREFIX

STATIC_DIRECTORY = Path(__file__).parent / "static"


def install_web(
    app: FastAPI, *, settings: Any, engine: Engine, auth: Authenticator, clock: Clock
) -> None:
    """Serve the page from ``app``: login, alert list and detail, action forms, stylesheet."""
    web = WebContext.from_settings(settings, engine=engine, auth=auth, clock=clock)
    app.include_router(login_router(web))
    app.include_router(alert_pages_router(web))
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIRECTORY), name="static")
