"""Jinja2 for the page: autoescaped everywhere, strict about missing names, dates in French."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.http.web import labels
from monitor.http.web.session import CSRF_FIELD
from monitor.http.web.urls import DIAGNOSE_PATH, STATIC_PREFIX, WEB_PREFIX


class Pages:
    """Renders the page's templates; every value from the data is escaped by Jinja."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._environment = Environment(
            loader=PackageLoader("monitor.http.web", "templates"),
            # Every template is HTML: escape unconditionally, whatever the file name.
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters["moment"] = self.moment
        self._environment.filters["day"] = self.day
        self._environment.globals.update(
            labels=labels,
            csrf_field=CSRF_FIELD,
            web=WEB_PREFIX,
            static=STATIC_PREFIX,
            diagnose=DIAGNOSE_PATH,
            timezone=timezone,
        )

    def moment(self, value: datetime | None) -> str:
        """``30/11/2026 23:00`` in the page's time zone; empty for None."""
        if value is None:
            return ""
        return value.astimezone(self.zone).strftime("%d/%m/%Y %H:%M")

    def day(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.zone).strftime("%d/%m/%Y")

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        body = self._environment.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status_code)
