"""The on-call page: list and filters, detail with evidence and history, escaping, headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from starlette.testclient import TestClient

from monitor.http.web.security import CONTENT_SECURITY_POLICY
from tests.monitor.web_support import (
    HOSTILE_LABEL,
    OPERATOR_TOKEN,
    csrf_of,
    log_in,
    make_client,
    open_alert,
)


@pytest.fixture
def client(sqlite_engine: Engine) -> TestClient:
    client = make_client(sqlite_engine)
    log_in(client)
    return client


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/ui/alerts/(\d+)">', page)]


@pytest.fixture
def three_alerts(sqlite_engine: Engine) -> dict[str, int]:
    return {
        "archived": open_alert(sqlite_engine),
        "teacher": open_alert(
            sqlite_engine,
            detector="teacher_missing",
            subject="SOC201",
            cod_elp="SOC201",
            cod_cmp="34",
            severity="critical",
            title="Cours SOC201 sans enseignant",
        ),
        "law": open_alert(sqlite_engine, subject="DRT101", cod_elp="DRT101", cod_cmp="12"),
    }


def test_the_list_shows_every_alert_with_french_labels(
    client: TestClient, three_alerts: dict[str, int]
) -> None:
    page = client.get("/ui/alerts")

    assert page.status_code == 200
    assert sorted(listed_ids(page.text)) == sorted(three_alerts.values())
    assert "Cours SOC201 sans enseignant" in page.text
    for label in ("Urgent", "À traiter", "Ouverte", "Priorité", "État", "Composante", "Filtrer"):
        assert label in page.text
    assert '<html lang="fr">' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("severity=critical", {"teacher"}),
        ("detector=teacher_missing", {"teacher"}),
        ("cod_cmp=12", {"archived", "law"}),
        ("cod_elp=DRT101", {"law"}),
        ("status=open&cod_cmp=34", {"teacher"}),
        ("status=acknowledged", set()),
        ("cod_elp=", {"archived", "teacher", "law"}),
    ],
)
def test_the_list_filters(
    client: TestClient, three_alerts: dict[str, int], query: str, expected: set[str]
) -> None:
    page = client.get(f"/ui/alerts?{query}")

    assert page.status_code == 200
    assert set(listed_ids(page.text)) == {three_alerts[name] for name in expected}


def test_the_filter_form_keeps_the_chosen_values(
    client: TestClient, three_alerts: dict[str, int]
) -> None:
    page = client.get("/ui/alerts?severity=critical&cod_cmp=34").text

    assert '<option value="critical" selected>' in page
    assert 'name="cod_cmp" value="34"' in page
    assert '<option value="teacher_missing">' in page  # detectors come from the store
    assert "Effacer les filtres" in page


def test_an_empty_result_says_so(client: TestClient, three_alerts: dict[str, int]) -> None:
    page = client.get("/ui/alerts?cod_elp=NOPE")

    assert "Aucune alerte ne correspond à ces filtres." in page.text


@pytest.mark.parametrize("query", ["status=closed", "severity=fatal", "offset=abc"])
def test_a_filter_value_the_page_never_offers_is_422(client: TestClient, query: str) -> None:
    page = client.get(f"/ui/alerts?{query}")

    assert page.status_code == 422
    assert "Revenir à la liste des alertes" in page.text


def test_the_list_pages_by_fifty(client: TestClient, sqlite_engine: Engine) -> None:
    for n in range(52):
        open_alert(sqlite_engine, subject=f"ELP{n:03}", cod_elp=f"ELP{n:03}")

    first = client.get("/ui/alerts?cod_cmp=12")
    second = client.get("/ui/alerts?cod_cmp=12&offset=50")

    assert len(listed_ids(first.text)) == 50
    assert "offset=50" in first.text and "Suivantes" in first.text
    assert len(listed_ids(second.text)) == 2
    assert "Précédentes" in second.text and "Suivantes" not in second.text


def test_the_detail_shows_evidence_remediation_and_history(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    page = client.get(f"/ui/alerts/{alert_id}").text

    assert "Cours RCAED334 « Droit civil » : sera archivé cette nuit" in page
    assert "RCAED334 absent de T_ADE_ACTIVITES" in page
    assert "29/11/2026 17:40" in page  # evidence date, Paris time
    assert (
        "Si le cours doit continuer, rétablissez l&#39;ELP RCAED334 dans APOGÉE avant 22 h." in page
    )
    assert "Historique" in page and "new-open" in page and "ecampus-monitor" in page
    assert "Personnes concernées</dt><dd>37" in page
    for title in ("Prendre en charge", "Mettre en attente", "Déclarer résolue", "Commenter"):
        assert title in page


def test_the_detail_links_to_the_course_diagnosis(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine, cod_elp="HSS L2&SOC")

    page = client.get(f"/ui/alerts/{alert_id}").text

    assert 'href="/diagnose?course=HSS%20L2%26SOC"' in page


def test_an_unknown_alert_is_a_404_page(client: TestClient) -> None:
    page = client.get("/ui/alerts/999")

    assert page.status_code == 404
    assert "L&#39;alerte n° 999 n&#39;existe pas." in page.text


def test_data_is_escaped_everywhere(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(
        sqlite_engine,
        title=HOSTILE_LABEL,
        summary=HOSTILE_LABEL,
        remediation=HOSTILE_LABEL,
        cod_cmp='"><script>x()</script>',
        cod_elp="<img src=x onerror=alert(1)>",
    )
    client.post(
        f"/alerts/{alert_id}/comment",
        json={"text": "<script>alert('commentaire')</script>"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )

    for url in ("/ui/alerts", f"/ui/alerts/{alert_id}"):
        page = client.get(url).text
        assert "<script>" not in page
        assert "<img src=x" not in page
        assert "<b>civil</b>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Droit &amp; &lt;b&gt;civil" in page
    detail = client.get(f"/ui/alerts/{alert_id}").text
    assert "&lt;script&gt;alert(&#39;commentaire&#39;)&lt;/script&gt;" in detail


def test_a_hostile_filter_value_is_escaped(client: TestClient) -> None:
    page = client.get('/ui/alerts?cod_cmp="><script>x()</script>')

    assert page.status_code == 200
    assert "<script>" not in page.text
    assert 'value="&#34;&gt;&lt;script&gt;x()&lt;/script&gt;"' in page.text


def test_pages_carry_the_security_headers(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    for url in ("/ui/alerts", f"/ui/alerts/{alert_id}", "/ui/login"):
        headers = client.get(url).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_pages_need_no_inline_script_or_style(
    client: TestClient, sqlite_engine: Engine
) -> None:
    page = client.get(f"/ui/alerts/{open_alert(sqlite_engine)}").text

    assert "<script" not in page
    assert "style=" not in page
    assert "<style" not in page


def test_the_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/ui/static/style.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_root_leads_to_the_alert_list(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/ui/alerts"
    assert client.get("/ui").headers["location"] == "/ui/alerts"


def test_the_store_being_down_is_a_503_page(tmp_path: Path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path}")  # a directory: SQLite cannot open it
    client = make_client(broken)
    form = client.get("/ui/login")

    # Logging in stores the session: the store's outage shows already.
    page = client.post(
        "/ui/login", data={"csrf_token": csrf_of(form.text), "token": OPERATOR_TOKEN, "next": ""}
    )

    assert page.status_code == 503
    assert "ne répond pas" in page.text
    broken.dispose()
