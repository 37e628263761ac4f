"""``/outbox``: what the mail sender does, what it gave up, and re-queuing (authenticated).

Errors quote the mail server, which names recipients: not for anonymous readers.
A re-queue is recorded in the outbox's audit trail with the caller's name.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import Engine

from alerts import repository
from alerts.notify import given_up
from monitor.clock import Clock, utc_now
from monitor.http.api.alerts import principal_dependency
from monitor.http.api.models import OutboxOut, RequeueIn, RequeueOut
from monitor.http.auth import Authenticator, Principal

logger = logging.getLogger(__name__)


def outbox_router(*, engine: Engine, auth: Authenticator, clock: Clock = utc_now) -> APIRouter:
    authenticated = Depends(principal_dependency(auth))
    router = APIRouter(tags=["notifications"], dependencies=[authenticated])

    @router.get("/outbox", response_model=OutboxOut, responses={401: {}, 503: {}})
    def outbox_status(errors: Annotated[int, Query(ge=0, le=200)] = 20) -> OutboxOut:
        """Notifications queued, being sent, sent and given up; the latest ``errors`` failures,
        the given-up notifications and the latest re-queues."""
        with engine.connect() as conn:
            return OutboxOut.of(
                repository.outbox_status(conn, errors=errors),
                given_up.given_up(conn),
                given_up.outbox_history(conn),
            )

    @router.post(
        "/outbox/retry",
        response_model=RequeueOut,
        responses={401: {}, 409: {"description": "An id is not a given-up notification."}},
    )
    def retry(body: RequeueIn, caller: Principal = authenticated) -> RequeueOut:
        """Queue the given-up notifications again (``ids``, or ``all_failed``); only the
        recipients given up receive them, and the retry age starts again."""
        actor = caller.actor(body.who)
        with engine.begin() as conn:
            try:
                ids = given_up.requeue(
                    conn, None if body.all_failed else body.ids, actor=actor, now=clock()
                )
            except given_up.RequeueRefused as refused:
                raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
        return RequeueOut(requeued=ids)

    return router
