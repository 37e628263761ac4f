"""The HTTP API: list and read alerts, acknowledge them, health probes and ``/metrics``.

A thin adapter: every answer comes from ``alerts.repository``; this module only
speaks HTTP (pydantic models at the boundary, status codes, bearer tokens).

Example::

    app = create_app(settings=settings, engine=engine, metrics=Metrics(registry))
    ApiServer(app, settings.http.host, settings.http.port).start()
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client.exposition import choose_encoder
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from alerts import repository
from alerts.lifecycle import Status, TransitionRefused
from detectors.findings import Audience, Phase, Severity
from monitor.clock import Clock, utc_now
from monitor.config import Settings
from monitor.metrics import Metrics

logger = logging.getLogger(__name__)


def _as_utc(value: datetime) -> datetime:
    # The store keeps DateTime columns naive, in UTC; say so on the wire.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class EvidenceOut(_Out):
    """One fact that shows the alert, with its source date and the rule it bears on."""

    rule: str
    fact: str
    as_of: UtcDatetime | None


class AlertOut(_Out):
    """One alert as the API shows it."""

    id: int
    fingerprint: str
    detector: str
    subject: str
    cause: str
    status: Status
    severity: Severity
    audience: Audience
    phase: Phase
    cod_cmp: str | None
    cod_elp: str | None
    course_id: int | None
    title: str
    summary: str
    remediation: str
    affected_count: int
    evidence: list[EvidenceOut]
    episode: int
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    opened_at: UtcDatetime | None
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    resolved_at: UtcDatetime | None
    snoozed_until: UtcDatetime | None
    updated_at: UtcDatetime


class AlertEventOut(_Out):
    """One entry of an alert's audit trail: who did what, when, under which rule."""

    id: int
    at: UtcDatetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status
    rule: str
    comment: str | None


class AlertDetail(AlertOut):
    """An alert with its audit trail, oldest event first."""

    history: list[AlertEventOut]


class Acknowledgement(BaseModel):
    """Body of ``POST /alerts/{id}/ack``: who takes the alert, and why."""

    model_config = ConfigDict(extra="forbid")

    who: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = None


class Readiness(BaseModel):
    """Answer of ``/readyz``: every check by name, and the names of those failing."""

    status: Literal["ready", "not ready"]
    checks: dict[str, bool]
    failing: list[str] = Field(default_factory=list)


_bearer = HTTPBearer(auto_error=False, description="One of the configured API tokens.")
AlertId = Annotated[int, Path(ge=1, description="The alert's id.")]


def _detail(
    record: repository.AlertRecord, history: list[repository.AlertEventRecord]
) -> AlertDetail:
    shown = AlertOut.model_validate(record)
    return AlertDetail(**dict(shown), history=[AlertEventOut.model_validate(e) for e in history])


def create_app(
    *,
    settings: Settings,
    engine: Engine,
    metrics: Metrics,
    readiness: Callable[[], dict[str, bool]] | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The FastAPI application over the alert store ``engine``."""
    tokens = [token.get_secret_value().encode() for token in settings.http.api_tokens]
    metrics_lock = threading.Lock()
    app = FastAPI(
        title="ecampus-monitor",
        summary="Alerts on the data feeding Ecampus from APOGÉE and ADE.",
    )

    def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if not tokens:
            # Refuse rather than run an open endpoint when the operator forgot the tokens.
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no API token configured")
        presented = credentials.credentials.encode() if credentials else b""
        matched = False
        for token in tokens:  # no early exit: the time taken says nothing about which matched
            matched |= hmac.compare_digest(token, presented)
        if not matched:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.exception_handler(SQLAlchemyError)
    def store_unavailable(request: Request, error: SQLAlchemyError) -> JSONResponse:
        logger.error("state store error on %s %s: %s", request.method, request.url.path, error)
        return JSONResponse(
            {"detail": "state store unavailable"}, status.HTTP_503_SERVICE_UNAVAILABLE
        )

    @app.get("/alerts", response_model=list[AlertOut], tags=["alerts"])
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

    @app.get("/alerts/{alert_id}", response_model=AlertDetail, tags=["alerts"])
    def get_alert(alert_id: AlertId) -> AlertDetail:
        """One alert with its audit trail."""
        with engine.connect() as conn:
            record = repository.get_alert(conn, alert_id)
            if record is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert {alert_id} not found")
            return _detail(record, repository.alert_history(conn, alert_id))

    @app.post(
        "/alerts/{alert_id}/ack",
        response_model=AlertDetail,
        tags=["alerts"],
        dependencies=[Depends(require_token)],
        responses={401: {}, 404: {}, 409: {}, 503: {}},
    )
    def acknowledge(alert_id: AlertId, body: Acknowledgement) -> AlertDetail:
        """Acknowledge an alert in the name of ``who`` (bearer token required)."""
        with engine.begin() as conn:
            try:
                record = repository.acknowledge(
                    conn, alert_id, actor=body.who, comment=body.comment, now=clock()
                )
            except repository.AlertNotFound:
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND, f"alert {alert_id} not found"
                ) from None
            except TransitionRefused as refused:
                raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
            history = repository.alert_history(conn, alert_id)
        logger.info("alert %d acknowledged by %r", alert_id, body.who)
        return _detail(record, history)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=Readiness, tags=["health"], responses={503: {}})
    def readyz(response: Response) -> Readiness:
        """Readiness: the state store answers and every readiness check passes."""
        checks = {"database": _database_answers(engine)}
        if readiness is not None:
            try:
                checks |= readiness()
            except Exception:
                logger.exception("readiness check raised")
                checks["readiness"] = False
        failing = sorted(name for name, ok in checks.items() if not ok)
        if failing:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="not ready" if failing else "ready", checks=checks, failing=failing)

    @app.get("/metrics", tags=["health"], response_class=Response)
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus exposition of the process's metrics, alert counts refreshed."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        with metrics_lock:  # a concurrent scrape must not see the gauge half refilled
            _refresh_alert_gauge(engine, metrics)
            body = encoder(metrics.registry)
        return Response(body, media_type=content_type)

    return app


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        logger.warning("readiness: state store does not answer: %s", error)
        return False
    return True


def _refresh_alert_gauge(engine: Engine, metrics: Metrics) -> None:
    try:
        with engine.connect() as conn:
            counts = repository.count_by_status(conn)
    except SQLAlchemyError as error:
        # Keep the last known counts: an empty gauge would read as "no alert at all".
        logger.warning("metrics: cannot count alerts, serving the previous counts: %s", error)
        return
    metrics.alerts.clear()
    for alert_status, detector, severity, count in counts:
        metrics.alerts.labels(status=alert_status, detector=detector, severity=severity).set(count)
