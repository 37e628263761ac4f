"""The French email of an alert: subject, text and HTML bodies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from alerts.lifecycle import NOTIFYING_RULES
from alerts.notify.render import render_alert, subject_line
from alerts.repository import AlertRecord
from detectors.findings import Evidence

URL = "https://ecampus-monitor.example.org/"


def render(alert: AlertRecord, rule: str = "new-open") -> tuple[str, str, str]:
    email = render_alert(
        alert,
        rule=rule,
        public_url=URL,
        contact="cemu.assistance@example.org",
        composante_name="UFR HSS",
    )
    return email.subject, email.text, email.html


def test_subject_is_the_title_with_the_ecampus_prefix(
    make_alert: Callable[..., AlertRecord],
) -> None:
    subject, _, _ = render(make_alert())
    assert subject == "[Ecampus] Cours RCAED334 « Droit civil » : sera archivé cette nuit"


def test_text_body_says_what_why_and_what_to_do(make_alert: Callable[..., AlertRecord]) -> None:
    _, text, _ = render(make_alert())
    assert text.startswith("Bonjour,\n\n")
    assert "Composante : 12 UFR HSS\n" in text
    assert "Élément pédagogique : RCAED334\n" in text
    assert "Personnes concernées : 37\n" in text
    assert "Ce qui va se passer\nL'ELP RCAED334 a disparu de l'offre" in text
    # Evidence dates are shown in Paris time: 16:40 UTC is 17:40 in winter.
    assert "- RCAED334 absent de T_ADE_ACTIVITES (constaté le 29/11/2026 à 17:40)\n" in text
    assert "- Le cours 4242 a l'idnumber RCAED334\n" in text
    assert "Que faire\nSi le cours doit continuer, rétablissez l'ELP RCAED334" in text
    assert "Suivre cette alerte : https://ecampus-monitor.example.org/alerts/7\n" in text
    assert "\n\n\n" not in text


def test_occurred_alert_says_what_happened(make_alert: Callable[..., AlertRecord]) -> None:
    _, text, html = render(make_alert(phase="occurred"))
    assert "Ce qui s'est passé\n" in text
    assert "Ce qui s&#39;est passé" in html


def test_html_escapes_data_from_apogee(make_alert: Callable[..., AlertRecord]) -> None:
    alert = make_alert(
        title="Cours RCAED334 « <script>alert(1)</script> » : archivé",
        summary="Libellé : <b>Droit & société</b>",
        evidence=(Evidence("R2", "<img src=x onerror=alert(1)>", None),),
    )
    _, text, html = render(alert)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Droit &amp; société&lt;/b&gt;" in html
    assert "<img" not in html
    assert '<a href="https://ecampus-monitor.example.org/alerts/7">' in html
    # The plain-text part is not HTML: it shows the label as it is.
    assert "Libellé : <b>Droit & société</b>" in text


def test_subject_is_one_bounded_line(make_alert: Callable[..., AlertRecord]) -> None:
    alert = make_alert(title="Cours X\r\nBcc: someone@example.org " + "long " * 80)
    subject = subject_line(alert, "new-open")
    assert "\n" not in subject
    assert "\r" not in subject
    assert len(subject) <= 200
    assert subject.endswith("…")


@pytest.mark.parametrize(
    ("rule", "prefix", "intro"),
    [
        ("reopened", "[Ecampus] De nouveau : Cours", "il est de nouveau constaté"),
        ("acknowledged-worsened", "[Ecampus] Aggravation : Cours", "s'est aggravé"),
        ("snooze-expired", "[Ecampus] Rappel : Cours", "mise en attente"),
        ("pending-became-fault", "[Ecampus] Cours", "n'a pas été corrigée"),
    ],
)
def test_each_notifying_rule_has_its_wording(
    make_alert: Callable[..., AlertRecord], rule: str, prefix: str, intro: str
) -> None:
    subject, text, _ = render(make_alert(), rule)
    assert subject.startswith(prefix)
    assert intro in text


def test_every_notifying_rule_renders(make_alert: Callable[..., AlertRecord]) -> None:
    for rule in NOTIFYING_RULES:
        subject, text, html = render(make_alert(), rule)
        assert subject and text and html


def test_silent_rule_has_nothing_to_render(make_alert: Callable[..., AlertRecord]) -> None:
    with pytest.raises(ValueError, match="does not notify"):
        render(make_alert(), "condition-gone")


def test_alert_without_people_or_composante_omits_those_lines(
    make_alert: Callable[..., AlertRecord],
) -> None:
    alert = make_alert(
        audience="oncall",
        cod_cmp=None,
        cod_elp=None,
        affected_count=0,
        evidence=(Evidence("R9", "pas de run depuis 30 h", datetime(2026, 11, 29, tzinfo=UTC)),),
    )
    _, text, _ = render(alert)
    assert "Composante" not in text
    assert "Personnes concernées" not in text
    assert "Élément pédagogique" not in text
