"""``GET /diagnose``: a support ticket answered from the state store, as JSON or as a page.

Open like the other reads: it shows what ``GET /alerts`` and the facts already
tell anyone who can reach the API. A browser (the page's "Diagnostiquer ce
cours" link) gets the answer in French, server-rendered and escaped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from detectors.base import DetectorConfig
from detectors.diagnose import Diagnosis, render_text
from detectors.diagnose.text import when
from monitor.clock import Clock
from monitor.diagnosis import NothingToDiagnose, PersonNotFound, SeveralPeople, diagnose_ticket
from monitor.http.api.alerts import wants_html
from monitor.http.web.rendering import Pages
from monitor.http.web.urls import DIAGNOSE_PATH
from monitor.store.offer import ElpOffer

# Codes and ids are short; a longer value is a mistake (or a probe), not a ticket.
_Code = Query(max_length=64)
_Person = Query(max_length=120)
_NOTHING_FR = (
    "Indiquez un cours (code APOGÉE), un numéro d'étudiant ou un identifiant d'enseignant."
)


def _given(value: str | None) -> str | None:
    """A query value as the ticket gives it: blank (an empty form field) is absent."""
    stripped = (value or "").strip()
    return stripped or None


def diagnose_router(
    *, engine: Engine, config: DetectorConfig, clock: Clock, pages: Pages
) -> APIRouter:
    """``/diagnose``: by course, student, teacher and/or person (name, email, login); 422 when
    none is given."""
    router = APIRouter(tags=["diagnosis"])
    offer = ElpOffer()  # the whole offer, read again only when it changed

    @router.get(
        DIAGNOSE_PATH,
        responses={
            200: {"description": "The diagnosis (``Diagnosis.to_dict``), or a page for browsers."},
            404: {"description": "Nobody matches ``person``."},
            409: {"description": "Several people match ``person``: the choices."},
            422: {"description": "Neither a course, nor a student, nor a teacher."},
        },
    )
    def get_diagnosis(
        request: Request,
        course: Annotated[str | None, _Code] = None,
        student: Annotated[str | None, _Code] = None,
        teacher: Annotated[str | None, _Code] = None,
        person: Annotated[str | None, _Person] = None,
    ) -> Response:
        """Which rules apply to the course, student or teacher, the dated facts, who fixes what."""
        asked: dict[str, Any] = {
            "cod_elp": _given(course),
            "cod_etu": _given(student),
            "teacher": _given(teacher),
            "person": _given(person),
        }
        html = wants_html(request)
        try:
            with engine.connect() as conn:
                diagnosis = diagnose_ticket(conn, now=clock(), config=config, offer=offer, **asked)
        except NothingToDiagnose as nothing:
            if html:
                return _page(pages, None, asked, status.HTTP_422_UNPROCESSABLE_CONTENT)
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(nothing)) from None
        except PersonNotFound as nobody:
            if html:
                return _page(
                    pages, None, asked, status.HTTP_404_NOT_FOUND, f"Aucun résultat : {nobody}."
                )
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(nobody)) from None
        except SeveralPeople as several:
            if html:
                return _page(pages, None, asked, status.HTTP_409_CONFLICT, several.text())
            choices = [{"key": m.key, "how": m.how, "who": m.describe()} for m in several.matches]
            detail = {"choose_one_of": choices, "text": several.text()}
            return JSONResponse(detail, status_code=status.HTTP_409_CONFLICT)
        if html:
            return _page(pages, diagnosis, asked, status.HTTP_200_OK)
        return JSONResponse(diagnosis.to_dict())

    return router


def _page(
    pages: Pages,
    diagnosis: Diagnosis | None,
    asked: dict[str, str | None],
    status_code: int,
    error: str = _NOTHING_FR,
) -> Response:
    def local(moment: datetime | None) -> str:
        return when(moment, pages.zone)

    return pages.render(
        "diagnosis.html",
        status_code,
        user=None,  # the page's session cookie is scoped to /ui: nobody is shown as logged in
        diagnosis=diagnosis,
        asked=asked,
        text=render_text(diagnosis) if diagnosis is not None else "",
        local=local,
        error=None if diagnosis is not None else error,
    )
