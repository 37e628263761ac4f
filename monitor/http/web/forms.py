"""The page's forms: urlencoded bodies, and the dates a person types in local time.

Parsed here rather than with python-multipart: the page only ever posts small
``application/x-www-form-urlencoded`` forms, and a bounded parser is all it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from starlette.requests import Request

from monitor.http.alert_actions import (
    AcknowledgeAction,
    CommentAction,
    InvalidAction,
    OperatorAction,
    ResolveAction,
    SnoozeAction,
)

MAX_FORM_BYTES = 64 * 1024
MAX_NOTE_CHARS = 4000


class FormRejected(Exception):
    """The body is not a form this page sent: too large, wrong type or undecodable."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


async def read_form(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form; a field given twice keeps its first value."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        raise FormRejected(415, "formulaire attendu (application/x-www-form-urlencoded)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRejected(413, "formulaire trop volumineux")
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError):
        raise FormRejected(400, "formulaire illisible") from None
    return {name: values[0] for name, values in fields.items()}


def _note(form: Mapping[str, str], field: str, *, required: bool, what: str) -> str | None:
    value = form.get(field, "").strip()
    if not value:
        if required:
            raise InvalidAction(f"{what} est obligatoire.")
        return None
    if len(value) > MAX_NOTE_CHARS:
        raise InvalidAction(f"{what} dépasse {MAX_NOTE_CHARS} caractères.")
    return value


def local_datetime(value: str, zone: ZoneInfo, what: str) -> datetime:
    """A ``datetime-local`` input (``2026-12-24T08:00``), read in the page's time zone."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidAction(f"{what} : date et heure illisibles.") from None
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def end_of_local_day(value: str, zone: ZoneInfo, what: str) -> datetime:
    """A ``date`` input, as the last minute of that day in the page's time zone."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidAction(f"{what} : date illisible.") from None
    return datetime.combine(day + timedelta(days=1), time(0, 0), zone) - timedelta(minutes=1)


def action_from_form(name: str, form: Mapping[str, str], zone: ZoneInfo) -> OperatorAction:
    """The action a form of the detail page asks for; ``InvalidAction`` in French if wrong."""
    if name == "acknowledge":
        expected = form.get("expected_until", "").strip()
        return AcknowledgeAction(
            comment=_note(form, "comment", required=False, what="Le commentaire"),
            expected_until=(
                end_of_local_day(expected, zone, "« Attendu jusqu'au »") if expected else None
            ),
        )
    if name == "comment":
        text = _note(form, "text", required=True, what="Le commentaire")
        assert text is not None
        return CommentAction(text=text)
    if name == "snooze":
        until = form.get("until", "").strip()
        if not until:
            raise InvalidAction("La date de fin de mise en attente est obligatoire.")
        reason = _note(form, "reason", required=True, what="La raison")
        assert reason is not None
        return SnoozeAction(until=local_datetime(until, zone, "Fin de l'attente"), reason=reason)
    if name == "resolve":
        return ResolveAction(comment=_note(form, "comment", required=False, what="Le commentaire"))
    raise LookupError(name)
