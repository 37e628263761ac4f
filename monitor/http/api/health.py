"""Probes and Prometheus exposition: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fastapi import APIRouter, Request, Response, status
from prometheus_client.exposition import choose_encoder
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from alerts import repository
from monitor.http.api.models import Readiness
from monitor.metrics import Metrics

logger = logging.getLogger(__name__)


def health_router(
    *,
    engine: Engine,
    metrics: Metrics,
    readiness: Callable[[], dict[str, bool]] | None,
    reasons: Callable[[], dict[str, str]] | None = None,
) -> APIRouter:
    router = APIRouter(tags=["health"])
    metrics_lock = threading.Lock()

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=Readiness, responses={503: {}})
    def readyz(response: Response) -> Readiness:
        """Readiness: the state store answers and every readiness check passes."""
        answer = _database_answers(engine)
        checks = {"database": answer is None}
        why = {"database": answer} if answer else {}
        if reasons is not None:
            why |= reasons()
        if readiness is not None:
            try:
                checks |= readiness()
            except Exception:
                logger.exception("readiness check raised")
                checks["readiness"] = False
        failing = sorted(name for name, ok in checks.items() if not ok)
        if failing:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(
            status="not ready" if failing else "ready",
            checks=checks,
            failing=failing,
            reasons={name: why[name] for name in failing if name in why},
        )

    @router.get("/metrics", response_class=Response)
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus exposition of the process's metrics, alert counts refreshed."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        with metrics_lock:  # a concurrent scrape must not see the gauge half refilled
            _refresh_alert_gauge(engine, metrics)
            body = encoder(metrics.registry)
        return Response(body, media_type=content_type)

    return router


def _database_answers(engine: Engine) -> str | None:
    """None when the state store answers, else why not (the error's type and first line)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        logger.warning("readiness: state store does not answer: %s", error)
        first_line = (str(error.orig if hasattr(error, "orig") else error).splitlines() or [""])[0]
        return f"state store does not answer: {type(error).__name__}: {first_line}"
    return None


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
