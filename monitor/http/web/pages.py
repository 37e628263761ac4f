"""The on-call page: the alert list with filters, an alert's detail, and the action forms."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from alerts import repository
from alerts.lifecycle import STATUSES, TransitionRefused
from alerts.notify.attachments import people_filename
from alerts.notify.causes import cause_label
from detectors.findings import SEVERITY_ORDER, Severity
from monitor.http.alert_actions import ACTION_NAMES, InvalidAction, perform, possible_actions
from monitor.http.web import labels
from monitor.http.web.context import Visitor, WebContext
from monitor.http.web.forms import action_from_form
from monitor.http.web.people import (
    SORT_LABELS,
    SORTS,
    common_reason,
    facts_of,
    people_csv,
    people_of,
)
from monitor.http.web.urls import WEB_PREFIX

logger = logging.getLogger(__name__)
PAGE_SIZE = 50
_SEVERITIES: tuple[Severity, ...] = get_args(Severity)


class BadFilter(ValueError):
    """A filter of the list has a value the page never offers."""


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The list's filters as the query string gives them; empty means any."""

    status: str = ""
    detector: str = ""
    severity: str = ""
    cod_cmp: str = ""
    cod_elp: str = ""
    offset: int = 0

    @classmethod
    def from_query(cls, query: QueryParams) -> ListFilters:
        values = {name: query.get(name, "").strip()[:64] for name in _TEXT_FILTERS}
        if values["status"] and values["status"] not in STATUSES:
            raise BadFilter(f"État inconnu : {values['status']}")
        if values["severity"] and values["severity"] not in SEVERITY_ORDER:
            raise BadFilter(f"Priorité inconnue : {values['severity']}")
        try:
            offset = int(query.get("offset", "0") or 0)
        except ValueError:
            raise BadFilter("Position de page illisible.") from None
        return cls(offset=max(0, offset), **values)

    def repository_filter(self) -> repository.AlertFilter:
        return repository.AlertFilter(
            status=self.status or None,  # type: ignore[arg-type]  # checked in from_query
            detector=self.detector or None,
            severity=self.severity or None,  # type: ignore[arg-type]
            cod_cmp=self.cod_cmp or None,
            cod_elp=self.cod_elp or None,
            limit=PAGE_SIZE + 1,  # one more tells whether a next page exists
            offset=self.offset,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes``, empty values left out."""
        values = asdict(self) | changes
        return urlencode({k: v for k, v in values.items() if v not in ("", 0, None)})

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in _TEXT_FILTERS)


_TEXT_FILTERS = ("status", "detector", "severity", "cod_cmp", "cod_elp")


def alert_pages_router(web: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    @router.get(WEB_PREFIX)
    def home() -> Response:
        return RedirectResponse(f"{WEB_PREFIX}/alerts", status.HTTP_303_SEE_OTHER)

    @router.get(f"{WEB_PREFIX}/alerts")
    def alert_list(request: Request) -> Response:
        visitor = web.visitor(request)
        if visitor.principal is None:
            return web.to_login(request)
        try:
            filters = ListFilters.from_query(request.query_params)
        except BadFilter as bad:
            return web.error(visitor, status.HTTP_422_UNPROCESSABLE_CONTENT, str(bad))
        with web.engine.connect() as conn:
            found = repository.list_alerts(conn, filters.repository_filter())
            counts = repository.count_by_status(conn)
        by_status = Counter[str]()
        for alert_status, _, _, count in counts:
            by_status[alert_status] += count
        page = web.pages.render(
            "alerts.html",
            user=visitor.principal,
            csrf=visitor.session.csrf,
            alerts=found[:PAGE_SIZE],
            has_next=len(found) > PAGE_SIZE,
            filters=filters,
            page_size=PAGE_SIZE,
            statuses=STATUSES,
            severities=_SEVERITIES,
            detectors=sorted({detector for _, detector, _, _ in counts}),
            by_status=by_status,
        )
        return web.answer(visitor, page)

    def detail(
        conn: Connection,
        visitor: Visitor,
        alert_id: int,
        *,
        done: str | None = None,
        error: str | None = None,
        status_code: int = 200,
        sort: str | None = None,
    ) -> Response:
        record = repository.get_alert(conn, alert_id)
        if record is None:
            return web.error(
                visitor, status.HTTP_404_NOT_FOUND, f"L'alerte n° {alert_id} n'existe pas."
            )
        page = web.pages.render(
            "alert.html",
            status_code,
            user=visitor.principal,
            csrf=visitor.session.csrf,
            alert=record,
            cause_label=cause_label(record),
            facts=facts_of(record.evidence),
            people=people_of(record.evidence, sort),
            common_reason=common_reason(people_of(record.evidence)),
            sort=sort if sort in SORTS else "who",
            sort_labels=SORT_LABELS,
            history=repository.alert_history(conn, alert_id),
            possible=possible_actions(record.status, web.clock()),
            done=labels.DONE_MESSAGES.get(done or ""),
            error=error,
        )
        return web.answer(visitor, page)

    @router.get(f"{WEB_PREFIX}/alerts/{{alert_id:int}}")
    def alert_page(request: Request, alert_id: int) -> Response:
        visitor = web.visitor(request)
        if visitor.principal is None:
            return web.to_login(request)
        with web.engine.connect() as conn:
            query = request.query_params
            return detail(conn, visitor, alert_id, done=query.get("done"), sort=query.get("sort"))

    @router.get(f"{WEB_PREFIX}/alerts/{{alert_id:int}}/people.csv")
    def alert_people_csv(request: Request, alert_id: int) -> Response:
        visitor = web.visitor(request)
        if visitor.principal is None:
            return web.to_login(request)
        with web.engine.connect() as conn:
            record = repository.get_alert(conn, alert_id)
        if record is None:
            return web.error(
                visitor, status.HTTP_404_NOT_FOUND, f"L'alerte n° {alert_id} n'existe pas."
            )
        return Response(
            people_csv(record.evidence, web.pages.zone.key),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{people_filename(alert_id)}"',
                "Cache-Control": "no-store",
            },
        )

    @router.post(f"{WEB_PREFIX}/alerts/{{alert_id:int}}/{{action_name}}")
    async def act(request: Request, alert_id: int, action_name: str) -> Response:
        visitor = await run_in_threadpool(web.visitor, request)  # reads the stored session
        if action_name not in ACTION_NAMES:
            return web.error(visitor, status.HTTP_404_NOT_FOUND, "Action inconnue.")
        if visitor.principal is None:
            return web.error(
                visitor,
                status.HTTP_401_UNAUTHORIZED,
                "Votre session a expiré : reconnectez-vous puis recommencez.",
                title="Connexion nécessaire",
            )
        form, refusal = await web.checked_form(request, visitor)
        if refusal is not None:
            return refusal
        actor = visitor.principal.name
        return await run_in_threadpool(apply, visitor, alert_id, action_name, form, actor)

    def apply(
        visitor: Visitor, alert_id: int, action_name: str, form: dict[str, str], actor: str
    ) -> Response:
        try:
            action = action_from_form(action_name, form, web.pages.zone)
            with web.engine.begin() as conn:
                perform(conn, alert_id, action, actor=actor, now=web.clock())
        except repository.AlertNotFound:
            return web.error(
                visitor, status.HTTP_404_NOT_FOUND, f"L'alerte n° {alert_id} n'existe pas."
            )
        except TransitionRefused:
            message = "Cette action n'est pas possible dans l'état actuel de l'alerte."
            return refused(visitor, alert_id, message, status.HTTP_409_CONFLICT)
        except InvalidAction as invalid:
            message = labels.INVALID_MESSAGES.get(invalid.code, str(invalid))
            return refused(visitor, alert_id, message, status.HTTP_422_UNPROCESSABLE_CONTENT)
        logger.info("alert %d %s by %r from the page", alert_id, action.done, actor)
        return RedirectResponse(
            f"{WEB_PREFIX}/alerts/{alert_id}?done={action.done}", status.HTTP_303_SEE_OTHER
        )

    def refused(visitor: Visitor, alert_id: int, message: str, status_code: int) -> Response:
        with web.engine.connect() as conn:
            return detail(conn, visitor, alert_id, error=message, status_code=status_code)

    return router
