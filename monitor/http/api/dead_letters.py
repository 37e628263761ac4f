"""``/dead-letters``: source rows whose change was refused at ingest, and the alerts held for them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Engine, select

from monitor.dead_letter_alerts import held_alert_ids
from monitor.http.api.alerts import principal_dependency
from monitor.http.auth import Authenticator
from monitor.store.schema import dead_letter_entity


class DeadLetterEntryOut(BaseModel):
    """One source row (topic and message key) whose latest change was dead-lettered."""

    topic: str
    message_key: str
    cod_elp: str | None
    reason: str
    count: int
    first_at: datetime
    last_at: datetime


class DeadLettersOut(BaseModel):
    """The entries, and the active alerts held (not emailed) because they depend on one."""

    entries: list[DeadLetterEntryOut]
    held_alert_ids: list[int]


def dead_letters_router(*, engine: Engine, auth: Authenticator) -> APIRouter:
    # Message keys may be student numbers: for authenticated operators only.
    router = APIRouter(tags=["ingest"], dependencies=[Depends(principal_dependency(auth))])

    @router.get("/dead-letters", response_model=DeadLettersOut, responses={401: {}, 503: {}})
    def dead_letters(limit: int = 500) -> DeadLettersOut:
        """Dead-lettered source rows not superseded yet (codes and keys only, no content)."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(dead_letter_entity)
                .order_by(dead_letter_entity.c.topic, dead_letter_entity.c.message_key)
                .limit(max(1, min(limit, 5000)))
            ).mappings()
            entries = [DeadLetterEntryOut.model_validate(dict(row)) for row in rows]
            return DeadLettersOut(entries=entries, held_alert_ids=held_alert_ids(conn))

    return router
