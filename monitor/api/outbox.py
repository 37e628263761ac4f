"""``/outbox``: what the mail sender is doing and why it fails, for operators (authenticated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from alerts import repository
from monitor.api.alerts import principal_dependency
from monitor.api.models import OutboxOut
from monitor.auth import Authenticator


def outbox_router(*, engine: Engine, auth: Authenticator) -> APIRouter:
    # Errors quote the mail server, which names recipients: not for anonymous readers.
    router = APIRouter(tags=["notifications"], dependencies=[Depends(principal_dependency(auth))])

    @router.get("/outbox", response_model=OutboxOut, responses={401: {}, 503: {}})
    def outbox_status(errors: Annotated[int, Query(ge=0, le=200)] = 20) -> OutboxOut:
        """Notifications queued, being sent, sent and given up; the latest ``errors`` failures."""
        with engine.connect() as conn:
            return OutboxOut.model_validate(repository.outbox_status(conn, errors=errors))

    return router
