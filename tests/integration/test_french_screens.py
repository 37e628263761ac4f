"""Look at what people read: the on-call page and the HTML email in headless Chromium at 1,000 px.

A suspended element with 24 students (the seed's M.1.MS03): the page shows
the people as a sortable table with a CSV export, the email names the first
five in a table and says the whole list is joined (a CSV); nothing overflows the
1,000 px window, and every cell of the people tables shows its whole text, at
a readable size, a number or a name on one line. Screenshots are left
in /tmp for a person to look at (``ecampus-monitor-french-*.png``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from alerts.notify.render import render_alert
from alerts.repository import get_alert
from detectors.findings import Evidence
from tests.integration import test_browser as real_browser
from tests.monitor.web_support import open_alert

# The browser test's fixtures, shared: Debian's Chromium, the served app, a French page.
browser = real_browser.browser
base_url = real_browser.base_url
page = real_browser.page
problems = real_browser.problems
pytestmark = real_browser.pytestmark

WIDTH = 1000
PAGE_SHOT = Path("/tmp/ecampus-monitor-french-page.png")
EMAIL_SHOT = Path("/tmp/ecampus-monitor-french-email.png")
SINCE = datetime(2026, 12, 4, 12, 21, tzinfo=UTC)
FIRST_NAMES = ["Louise", "Noé", "Zoé", "Clément", "Thomas", "Jade"]
LAST_NAMES = ["Roussel", "Girard", "Hamel", "François", "Leclerc", "Morin"]


def _people() -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            "R3.4",
            "l'élément M.1.MS03 est suspendu dans APOGÉE : les inscriptions par base de données "
            "du cours M.1.MS03 sont suspendues",
            SINCE,
            who=f"22{300027 + n * 7}",
            name=f"{FIRST_NAMES[n % 6]} {LAST_NAMES[(n * 5) % 6].upper()}",
            group=f"M.1.MS03TD{1 + n % 2}",
        )
        for n in range(24)
    )


def _suspended(engine: Engine) -> int:
    return open_alert(
        engine,
        detector="students_not_enrolled",
        subject="M.1.MS03",
        cause="elp_suspended",
        cod_elp="M.1.MS03",
        title="M.1.MS03 « Théories chang. social » : 24 étudiants non inscrits — "
        "Élément suspendu dans APOGÉE",
        summary="24 étudiants inscrits pédagogiquement à M.1.MS03 ne sont pas inscrits dans "
        "l'espace de cours M.1.MS03 (élément suspendu dans APOGÉE).",
        remediation="Si la suspension n'est pas voulue, rétablissez l'élément dans APOGÉE.",
        affected_count=24,
        phase="occurred",
        evidence=(
            Evidence("R3.4", "24 étudiants concernés : 22300027, 22300034 et 22 autres"),
            Evidence(
                "R3.4",
                "élément M.1.MS03 « Théories chang. social » (12) : suspendu, période S1, "
                "enseignement à distance : non, charges d'enseignement : oui",
                SINCE,
            ),
            *_people(),
        ),
    )


def _fits(shown: Any) -> None:
    width = shown.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width} px wide in a {WIDTH} px window"


# Per cell of the people table: its text overflowing the cell (clipped), its font size, and
# whether the cell is wider than the window.
_CELLS = """table => Array.from(table.querySelectorAll('th, td')).map(cell => {
    const text = document.createRange();
    text.selectNodeContents(cell);
    const tops = new Set(Array.from(text.getClientRects()).map(box => Math.round(box.top)));
    return {
        text: cell.innerText,
        clipped: cell.scrollWidth > cell.clientWidth + 1,
        font: parseFloat(getComputedStyle(cell).fontSize),
        right: cell.getBoundingClientRect().right,
        lines: tops.size,
    };
})"""


def _readable(table: Any) -> None:
    """Every cell of the people table shows its whole text, at 12 px or more, inside the
    window, a number or a name on one line (not broken letter by letter in a narrow column)."""
    cells = table.evaluate(_CELLS)
    assert cells, "no people table"
    for cell in cells:
        assert not cell["clipped"], f"cell {cell['text']!r} is clipped"
        assert cell["font"] >= 12, f"cell {cell['text']!r} is {cell['font']} px"
        assert cell["right"] <= WIDTH, f"cell {cell['text']!r} ends at {cell['right']} px"
        if re.fullmatch(r"\d{8}|[A-ZÀ-Ýa-zà-ÿ]+ [A-ZÀ-Ý-]+", cell["text"].strip()):
            assert cell["lines"] <= 1, f"cell {cell['text']!r} wraps on {cell['lines']} lines"


def test_the_page_shows_the_people_as_a_sortable_table_that_fits(
    page: Any, base_url: str, sqlite_engine: Engine, problems: list[str]
) -> None:
    alert_id = _suspended(sqlite_engine)
    page.set_viewport_size({"width": WIDTH, "height": 900})
    real_browser.log_in(page)
    page.goto(f"/ui/alerts/{alert_id}")

    assert page.locator("dl.facts").get_by_text("Élément suspendu dans APOGÉE").is_visible()
    table = page.locator("table.people")
    assert table.locator("tbody tr").count() == 24
    assert table.locator("thead th").all_inner_texts()[:4] == [
        "Numéro ▲",
        "Nom",
        "Groupe",
        "Depuis",
    ]
    _fits(page)
    _readable(table)
    page.screenshot(path=str(PAGE_SHOT), full_page=True)

    page.get_by_role("link", name="Nom").click()
    page.wait_for_url(re.compile(r"sort=name"))
    names = page.locator("table.people tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, key=str.casefold)

    csv = page.request.get(f"{base_url}/ui/alerts/{alert_id}/people.csv")
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text().lstrip("\ufeff").splitlines()
    assert lines[0] == "numéro;nom;groupe;depuis;motif" and len(lines) == 25
    assert problems == []


def test_the_html_email_names_five_people_in_a_table_that_fits(
    page: Any, sqlite_engine: Engine
) -> None:
    alert_id = _suspended(sqlite_engine)
    with sqlite_engine.connect() as conn:
        record = get_alert(conn, alert_id)
    assert record is not None
    email = render_alert(
        record, rule="new-open", public_url="https://ecm.example.org", contact="cemu@example.org"
    )
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.set_content(email.html)

    rows = page.locator("table:has(thead) tbody tr")
    assert rows.count() == 5
    assert rows.first.locator("td").all_inner_texts()[:3] == [
        "22300027",
        "Louise ROUSSEL",
        "M.1.MS03TD1",
    ]
    text = page.locator("body").inner_text()
    assert "24 personnes concernées" in text and "… et 19 autres" in text
    assert f"jointe à ce message (alerte-{alert_id}-personnes.csv" in text
    assert "(s)" not in text and "elp_suspended" not in text
    [attachment] = email.attachments
    assert attachment.content.count("\r\n") == 25  # the header and the 24 students
    _fits(page)
    _readable(page.locator("table:has(thead)"))
    page.screenshot(path=str(EMAIL_SHOT), full_page=True)
