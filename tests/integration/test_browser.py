"""The on-call page in a real headless Chromium (Debian's), driven by Playwright.

The app is served for real by ``ApiServer`` on loopback; the test logs in,
filters, acknowledges and reads the history as an operator would. Chromium
comes from the Debian package (``apt-get install chromium``), never from
``playwright install``. Without it the tests skip on a developer's machine and
fail under CI (``CI`` set).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.http.api import create_app
from monitor.http.server import ApiServer
from monitor.metrics import Metrics
from tests.monitor.web_support import (
    HOSTILE_LABEL,
    NOW,
    OPERATOR,
    OPERATOR_TOKEN,
    open_alert,
    settings,
)

pytestmark = pytest.mark.integration

CHROMIUM = Path(os.environ.get("ECAMPUS_MONITOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/ecampus-monitor-alert-page.png")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (dev extras)")
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def base_url(sqlite_engine: Engine) -> Iterator[str]:
    app = create_app(
        settings=settings(),
        engine=sqlite_engine,
        metrics=Metrics(CollectorRegistry()),
        clock=lambda: NOW,
    )
    with ApiServer(app, "127.0.0.1", 0) as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.fixture
def problems() -> list[str]:
    """Dialogs opened and CSP violations logged by the page: there must be none."""
    return []


@pytest.fixture
def page(browser: Any, base_url: str, problems: list[str]) -> Iterator[Any]:
    context = browser.new_context(
        base_url=base_url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()
    # A script run by a data label, or a style blocked by the CSP, shows up here.
    opened.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    opened.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield opened
    context.close()


def log_in(page: Any) -> None:
    page.goto("/")
    assert "/ui/login" in page.url
    page.get_by_label("Jeton d'accès").fill(OPERATOR_TOKEN)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/ui/alerts$"))


def rows(page: Any) -> Any:
    return page.locator("table.alerts tbody tr")


def test_log_in_filter_acknowledge_and_read_the_history(
    page: Any, sqlite_engine: Engine, problems: list[str]
) -> None:
    open_alert(sqlite_engine)
    open_alert(sqlite_engine, subject="DRT101", cod_elp="DRT101", title="Cours DRT101 : archivé")
    urgent = open_alert(
        sqlite_engine,
        detector="teacher_missing",
        subject="SOC201",
        cod_elp="SOC201",
        cod_cmp="34",
        severity="critical",
        title="Cours SOC201 sans enseignant",
        remediation="Affectez un porteur au cours SOC201 dans APOGÉE.",
    )

    log_in(page)
    assert page.get_by_role("heading", name="Alertes").is_visible()
    assert page.locator(".who").inner_text().startswith(f"Connecté : {OPERATOR}")
    assert rows(page).count() == 3

    page.get_by_label("Priorité").select_option(label="Urgent")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"severity=critical"))
    assert rows(page).count() == 1
    assert "Cours SOC201 sans enseignant" in rows(page).first.inner_text()

    page.get_by_role("link", name="Effacer les filtres").click()
    page.get_by_label("Cours (code ELP)").fill("DRT101")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"cod_elp=DRT101"))
    assert rows(page).count() == 1
    assert "DRT101" in rows(page).first.inner_text()

    page.goto("/ui/alerts?severity=critical")
    page.get_by_role("link", name="Cours SOC201 sans enseignant").click()
    page.wait_for_url(re.compile(rf"/ui/alerts/{urgent}$"))
    assert page.get_by_text("Affectez un porteur au cours SOC201 dans APOGÉE.").is_visible()
    assert page.get_by_role("link", name="Diagnostiquer ce cours").get_attribute("href") == (
        "/diagnose?course=SOC201"
    )

    page.get_by_label("Commentaire (facultatif)").first.fill("Je préviens la scolarité SOC")
    page.get_by_label("Attendu jusqu'au (facultatif)").fill("2027-06-30")
    page.get_by_role("button", name="Prendre en charge").click()
    page.wait_for_url(re.compile(r"done=acknowledged"))

    assert page.get_by_role("status").inner_text() == "L'alerte est prise en charge à votre nom."
    assert page.locator(".badges .status-acknowledged").inner_text() == "Prise en charge"
    assert "30/06/2027 23:59" in page.locator("dl.facts").inner_text()
    history = page.locator("table.history tbody tr")
    assert history.count() == 2
    first_cells = history.nth(0).locator("td").all_inner_texts()
    last_cells = history.nth(1).locator("td").all_inner_texts()
    assert first_cells[1:4] == ["ecampus-monitor", "Détection", "Ouverte"]
    assert last_cells[0] == "01/12/2026 09:30"
    assert last_cells[1:4] == [OPERATOR, "Prise en charge", "Ouverte → Prise en charge"]
    assert "Je préviens la scolarité SOC" in last_cells[5]
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="← Toutes les alertes").click()
    page.get_by_label("État", exact=True).select_option(label="Prise en charge")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"status=acknowledged"))
    assert rows(page).count() == 1
    assert rows(page).first.locator("td").last.inner_text() == OPERATOR
    assert problems == []


def test_a_hostile_course_label_is_shown_as_text_and_never_run(
    page: Any, sqlite_engine: Engine, problems: list[str]
) -> None:
    alert_id = open_alert(sqlite_engine, title=HOSTILE_LABEL, summary=HOSTILE_LABEL)

    log_in(page)
    page.goto(f"/ui/alerts/{alert_id}")

    assert page.get_by_role("heading", level=1).inner_text() == HOSTILE_LABEL
    assert page.locator("main script, main b").count() == 0
    assert problems == []


def test_a_form_replayed_without_its_csrf_token_is_refused(
    page: Any, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)
    log_in(page)
    page.goto(f"/ui/alerts/{alert_id}")

    page.locator("form[action$='/resolve'] input[name=csrf_token]").evaluate(
        "field => field.value = 'forged'"
    )
    page.get_by_role("button", name="Déclarer résolue").click()

    assert page.get_by_role("heading", name="Formulaire refusé").is_visible()
    page.goto(f"/ui/alerts/{alert_id}")
    assert page.locator(".badges .status-open").inner_text() == "Ouverte"
