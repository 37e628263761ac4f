"""The French daily digest email: subject, plain text and HTML (Jinja2, autoescaped).

Course labels, summaries and remediations are data: the HTML template is
autoescaped and the subject is one bounded line. The digest's text carries no
evidence and names nobody; the people of each alert it brings as news or as a
reminder travel as that alert's CSV file joined to the digest (issue 11, point
4: the list a scolarité acts on, without a login to the page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts.notify.attachments import Attachment, people_attachment
from alerts.notify.digest_compose import Digest, DigestItem
from alerts.notify.render import (
    ENVIRONMENT,
    SEVERITY_LABEL,
    SUBJECT_PREFIX,
    RenderedEmail,
    french_date,
    one_line,
    people_heading,
)
from detectors.model.describe import plural

MARKER: dict[str, str] = {
    "new": "Nouveau",
    "back": "De nouveau",
    "flapping": "De nouveau, instable",
    "worsened": "Aggravation",
    "snooze_over": "Fin de mise en attente",
    "expectation_over": "Échéance dépassée",
    "reminder": "Rappel",
    "still_open": "Toujours ouverte",
}


def digest_subject(digest: Digest, timezone: str) -> str:
    day = digest.day.strftime("%d/%m/%Y")
    counts = []
    if digest.news:
        counts.append(plural(digest.news, "alerte nouvelle"))
    if digest.reminders:
        counts.append(plural(digest.reminders, "rappel"))
    return one_line(f"{SUBJECT_PREFIX} Récapitulatif du {day} : {', '.join(counts)}")


def render_digest(
    digest: Digest,
    *,
    public_url: str,
    contact: str,
    composante_name: Callable[[str | None], str | None],
    timezone: str = "Europe/Paris",
) -> RenderedEmail:
    """The email of ``digest``; ``composante_name`` names a composante code (or None)."""
    base = public_url.rstrip("/")

    def link(alert_id: int) -> str:
        return f"{base}/alerts/{alert_id}"

    attachments: list[Attachment] = []

    def people_file(entry: DigestItem) -> str | None:
        """The item's CSV, joined when the recipient acts on it (news or reminder)."""
        if entry.kind == "still_open":
            return None
        attachment = people_attachment(entry.alert.id, entry.alert.evidence, timezone)
        if attachment is None:
            return None
        attachments.append(attachment)
        return attachment.filename

    def item(entry: DigestItem) -> dict[str, Any]:
        alert = entry.alert
        note = None
        if entry.kind == "reminder" and alert.opened_at is not None:
            note = f"ouverte depuis le {french_date(alert.opened_at, timezone, with_time=False)}"
        elif entry.emailed_at is not None:
            note = f"signalée par courriel le {french_date(entry.emailed_at, timezone)}"
        if alert.flapping:
            flaps = f"instable : résolue puis revenue {alert.flap_count} fois de suite"
            note = f"{note} ; {flaps}" if note else flaps
        return {
            "marker": MARKER[entry.kind],
            "note": note,
            "title": one_line(alert.title),
            "severity_label": SEVERITY_LABEL[alert.severity],
            "affected_count": alert.affected_count,
            "summary": alert.summary,
            "remediation": alert.remediation,
            "link": link(alert.id),
            "people_file": people_file(entry),
            "people_heading": people_heading(
                sum(e.is_person for e in alert.evidence), alert.affected_count
            ),
        }

    courses = []
    for course in digest.courses:
        where = (
            f"Élément pédagogique {course.cod_elp}"
            if course.cod_elp
            else "Hors élément pédagogique"
        )
        if course.cod_cmp:
            name = composante_name(course.cod_cmp)
            where += f" — composante {course.cod_cmp}" + (f" {name}" if name else "")
        courses.append(
            {
                "heading": where,
                "causes": [
                    {"label": group.label, "entries": [item(entry) for entry in group.items]}
                    for group in course.causes
                ],
            }
        )
    context = {
        "day": digest.day.strftime("%d/%m/%Y"),
        "since": french_date(digest.window_start, timezone),
        "news": digest.news,
        "reminders": digest.reminders,
        "courses": courses,
        "resolved": [
            {"title": one_line(alert.title), "link": link(alert.id)} for alert in digest.resolved
        ],
        "omitted": digest.still_open_omitted,
        "list_link": f"{base}/alerts",
        "contact": contact,
    }
    return RenderedEmail(
        subject=digest_subject(digest, timezone),
        text=ENVIRONMENT.get_template("digest.txt.j2").render(context),
        html=ENVIRONMENT.get_template("digest.html.j2").render(context),
        attachments=tuple(attachments),
    )
