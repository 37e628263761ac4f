"""The French email of an alert: subject, plain text and HTML (Jinja2).

Course labels, summaries and evidence are data from APOGÉE and Moodle: the
HTML template is autoescaped, and the subject is flattened to one line so a
label can never inject a header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from alerts.lifecycle import NOTIFYING_RULES
from alerts.notify.attachments import Attachment, people_attachment, people_filename
from alerts.repository import AlertRecord
from detectors.model.describe import capitalised, number, plural
from detectors.model.describe import date as french_moment

SUBJECT_PREFIX = "[Ecampus]"
SUBJECT_MAX_CHARS = 200

_SUBJECT_MARK: dict[str, str] = {
    "new-open": "",
    "pending-became-fault": "",
    "reopened": "De nouveau : ",
    "reopened-flapping": "De nouveau : ",
    "acknowledged-worsened": "Aggravation : ",
    "snooze-expired": "Rappel : ",
    "expectation-over": "Échéance dépassée : ",
}

_INTRO: dict[str, str] = {
    "new-open": "Le suivi de l'Ecampus a repéré un problème qui demande votre intervention.",
    "pending-became-fault": (
        "Une différence repérée avant la synchronisation de la nuit n'a pas été corrigée"
        " par celle-ci : elle demande votre intervention."
    ),
    "reopened": "Ce problème avait été résolu ; il est de nouveau constaté.",
    "reopened-flapping": (
        "Ce problème, résolu il y a peu, est de nouveau constaté : il apparaît et disparaît"
        " (alerte instable)."
    ),
    "acknowledged-worsened": "Ce problème, déjà pris en charge, s'est aggravé depuis.",
    "snooze-expired": (
        "La mise en attente de cette alerte est terminée et le problème est toujours constaté."
    ),
    "expectation-over": (
        "Cette alerte avait été prise en charge comme attendue jusqu'à une date aujourd'hui"
        " dépassée, et le problème est toujours constaté."
    ),
}

_WHAT_HEADING = {"predicted": "Ce qui va se passer", "occurred": "Ce qui s'est passé"}
SEVERITY_LABEL = {"info": "information", "warning": "à traiter", "critical": "urgent"}


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    # The people's CSV when the alert lists people (issue 11, point 4).
    attachments: tuple[Attachment, ...] = ()


ENVIRONMENT = Environment(
    loader=PackageLoader("alerts", "templates"),
    autoescape=lambda name: name is not None and name.endswith(".html.j2"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENVIRONMENT.filters["plural"] = plural
ENVIRONMENT.filters["number"] = number


def one_line(text: str) -> str:
    """``text`` on one bounded line: a label from the data can never inject a header."""
    line = " ".join(text.split())
    if len(line) > SUBJECT_MAX_CHARS:
        line = line[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"
    return line


def subject_line(alert: AlertRecord, rule: str) -> str:
    """One line, prefixed, bounded; the title never carries a student's number or name."""
    return one_line(f"{SUBJECT_PREFIX} {_SUBJECT_MARK[rule]}{alert.title}")


def french_date(moment: datetime, timezone: str, *, with_time: bool = True) -> str:
    """``30/11/2026 à 08:30`` in ``timezone`` (the model's describer formats it)."""
    return french_moment(moment, ZoneInfo(timezone), with_time=with_time)


# An email names this many people and this many facts; the page has them all.
PEOPLE_SHOWN = 5
FACTS_SHOWN = 10


def people_heading(listed: int, affected: int) -> str:
    """``24 personnes concernées``; ``2 personnes nommées sur 128 concernées`` when the table
    lists only some of them (the teachers of an archived course, not its students)."""
    if affected > listed:
        return f"{plural(listed, 'personne nommée')} sur {number(affected)} concernées"
    return plural(listed, "personne concernée")


def people_context(alert: AlertRecord, date_fr: Callable[[datetime], str]) -> dict[str, Any]:
    """Facts as a short list, people as the first rows of a table (the page has every row)."""
    facts = [e for e in alert.evidence if not e.is_person]
    people = [e for e in alert.evidence if e.is_person]
    return {
        "evidence": [
            {"fact": capitalised(item.fact), "as_of": item.as_of and date_fr(item.as_of)}
            for item in facts[:FACTS_SHOWN]
        ],
        "more_facts": max(0, len(facts) - FACTS_SHOWN),
        "people": [
            {
                "who": item.who,
                "name": item.name or "",
                "group": item.group or "",
                "since": item.as_of and date_fr(item.as_of),
            }
            for item in people[:PEOPLE_SHOWN]
        ],
        "people_total": len(people),
        "people_heading": people_heading(len(people), alert.affected_count),
        "people_more": max(0, len(people) - PEOPLE_SHOWN),
        "people_file": people_filename(alert.id),
    }


def render_alert(
    alert: AlertRecord,
    *,
    rule: str,
    public_url: str,
    contact: str,
    composante_name: str | None = None,
    timezone: str = "Europe/Paris",
) -> RenderedEmail:
    """The email for ``alert`` after the transition ``rule`` (one of ``NOTIFYING_RULES``)."""
    if rule not in NOTIFYING_RULES:
        raise ValueError(f"rule {rule!r} does not notify: nothing to render")

    def date_fr(moment: datetime) -> str:
        return french_date(moment, timezone)

    context = {
        "alert": alert,
        "intro": _INTRO[rule],
        "what_heading": _WHAT_HEADING[alert.phase],
        "severity_label": SEVERITY_LABEL[alert.severity],
        "composante_name": composante_name,
        **people_context(alert, date_fr),
        "link": f"{public_url.rstrip('/')}/alerts/{alert.id}",
        "contact": contact,
    }
    attachment = people_attachment(alert.id, alert.evidence, timezone)
    return RenderedEmail(
        subject=subject_line(alert, rule),
        text=ENVIRONMENT.get_template("alert.txt.j2").render(context),
        html=ENVIRONMENT.get_template("alert.html.j2").render(context),
        attachments=(attachment,) if attachment is not None else (),
    )
