"""JSON routes over alerts: list, read, and the operators' actions (authenticated)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from alerts import repository
from alerts.lifecycle import Status, TransitionRefused
from detectors.findings import Severity
from monitor.clock import Clock
from monitor.http.alert_actions import InvalidAction, perform
from monitor.http.api.models import (
    Acknowledgement,
    ActionIn,
    AlertDetail,
    AlertOut,
    CommentIn,
    ResolutionIn,
    SnoozeIn,
)
from monitor.http.auth import Authenticator, Principal
from monitor.http.web.urls import WEB_PREFIX

logger = logging.getLogger(__name__)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="One of the configured API tokens.")
AlertId = Annotated[int, Path(ge=1, description="The alert's id.")]
_ACTION_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or unknown bearer token."},
    404: {"description": "No such alert."},
    409: {"description": "The alert's state refuses this action."},
    415: {"description": "Proxy-authenticated calls must send JSON."},
    422: {"description": "Invalid body, or a date already past."},
    503: {"description": "No authentication configured, or the store is down."},
}


def wants_html(request: Request) -> bool:
    """A browser following an email's link, rather than a program."""
    return "text/html" in request.headers.get("accept", "")


def principal_dependency(auth: Authenticator) -> Callable[..., Principal]:
    """The dependency that authenticates an API call: a bearer token, else the proxy's user."""

    def api_principal(
        request: Request,
        # Declared for the OpenAPI security scheme; ``auth.principal`` reads the same header.
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if not auth.configured:
            # Refuse rather than run an open endpoint when the operator forgot the tokens.
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no API token configured")
        client = request.client.host if request.client else None
        caller = auth.principal(request.headers, client)
        if caller is not None and caller.method == "header":
            # A browser sends the CAS session along on a cross-site form post; it
            # cannot send JSON cross-site without a CORS preflight we never answer.
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if request.method not in _READS and content_type != "application/json":
                raise HTTPException(
                    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"
                )
        if caller is not None:
            return caller
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )

    return api_principal


def alerts_router(*, engine: Engine, auth: Authenticator, clock: Clock) -> APIRouter:
    """``/alerts``: reading is open, acting needs a token or the trusted proxy's user."""
    router = APIRouter(tags=["alerts"])
    # A plain default, not an Annotated alias: annotations are strings here, resolved globally.
    caller_of = Depends(principal_dependency(auth))

    @router.get("/alerts", response_model=list[AlertOut])
    def list_alerts(
        alert_status: Annotated[Status | None, Query(alias="status")] = None,
        detector: str | None = None,
        severity: Severity | None = None,
        cod_cmp: Annotated[str | None, Query(description="Composante code.")] = None,
        cod_elp: Annotated[str | None, Query(description="Course (ELP) code.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[AlertOut]:
        """Alerts matching the filters, as the repository orders them."""
        flt = repository.AlertFilter(
            status=alert_status,
            detector=detector,
            severity=severity,
            cod_cmp=cod_cmp,
            cod_elp=cod_elp,
            limit=limit,
            offset=offset,
        )
        with engine.connect() as conn:
            return [AlertOut.model_validate(r) for r in repository.list_alerts(conn, flt)]

    @router.get("/alerts/{alert_id}", response_model=AlertDetail, responses={303: {}, 404: {}})
    def get_alert(alert_id: AlertId, request: Request) -> AlertDetail | Response:
        """One alert with its audit trail; a browser (the email's link) goes to the page."""
        if wants_html(request):
            return RedirectResponse(f"{WEB_PREFIX}/alerts/{alert_id}", status.HTTP_303_SEE_OTHER)
        with engine.connect() as conn:
            record = repository.get_alert(conn, alert_id)
            if record is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert {alert_id} not found")
            return AlertDetail.of(record, repository.alert_history(conn, alert_id))

    def act(alert_id: int, body: ActionIn, caller: Principal) -> AlertDetail:
        action, actor = body.action(), caller.actor(body.who)
        with engine.begin() as conn:
            try:
                record = perform(conn, alert_id, action, actor=actor, now=clock())
            except repository.AlertNotFound:
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND, f"alert {alert_id} not found"
                ) from None
            except TransitionRefused as refused:
                raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
            except InvalidAction as invalid:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(invalid)) from None
            detail = AlertDetail.of(record, repository.alert_history(conn, alert_id))
        logger.info("alert %d %s by %r", alert_id, action.done, actor)
        return detail

    @router.post("/alerts/{alert_id}/ack", response_model=AlertDetail, responses=_ACTION_ERRORS)
    def acknowledge(
        alert_id: AlertId, body: Acknowledgement, caller: Principal = caller_of
    ) -> AlertDetail:
        """Acknowledge an alert, optionally until a date that keeps its findings quiet."""
        return act(alert_id, body, caller)

    @router.post("/alerts/{alert_id}/comment", response_model=AlertDetail, responses=_ACTION_ERRORS)
    def comment(alert_id: AlertId, body: CommentIn, caller: Principal = caller_of) -> AlertDetail:
        """Add a comment to the alert's audit trail."""
        return act(alert_id, body, caller)

    @router.post("/alerts/{alert_id}/snooze", response_model=AlertDetail, responses=_ACTION_ERRORS)
    def snooze(alert_id: AlertId, body: SnoozeIn, caller: Principal = caller_of) -> AlertDetail:
        """Silence the alert until a date, with a reason."""
        return act(alert_id, body, caller)

    @router.post("/alerts/{alert_id}/resolve", response_model=AlertDetail, responses=_ACTION_ERRORS)
    def resolve(
        alert_id: AlertId, body: ResolutionIn, caller: Principal = caller_of
    ) -> AlertDetail:
        """Declare the alert resolved by hand; it reopens if its detector sees it again."""
        return act(alert_id, body, caller)

    return router
