"""Alerts pushed to a real Prometheus Alertmanager (API v2), and resolved there when resolved here.

The Alertmanager is Debian's ``prometheus-alertmanager``, started by the test
on a free loopback port. Missing binary: a failure under CI (``CI`` set), a
skip on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from alerts.notify.alertmanager import AlertmanagerPusher, PushOutcome
from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.repository import AlertFilter, list_alerts
from alerts.routing import Composante, Router
from detectors.findings import Evidence, Finding
from monitor.kafka.broker import free_port

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://ecm.univ-test.fr"
CONFIG = """\
route:
  receiver: nobody
receivers:
  - name: nobody
"""


def _binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        reason = (
            "prometheus-alertmanager not installed (apt-get install -y prometheus-alertmanager)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """The base URL of a running Alertmanager with a do-nothing receiver."""
    binary = _binary()
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG, encoding="utf-8")
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    "alertmanager exited: " + (tmp_path / "alertmanager.log").read_text()
                )
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("alertmanager not ready after 30 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _active(url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/v2/alerts", timeout=5)
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return [a for a in alerts if a["status"]["state"] != "resolved"]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _findings() -> list[Finding]:
    common: dict[str, Any] = {
        "severity": "critical",
        "audience": "scolarite",
        "phase": "predicted",
        "remediation": "Rétablissez l'ELP dans APOGÉE avant 22 h.",
        "affected_count": 27,
        # Evidence carries student numbers: it must never reach Alertmanager.
        "evidence": (Evidence("R3", "étudiant 21609846 inscrit à l'ELP"),),
    }
    return [
        Finding(
            detector="course_archived",
            subject="HSS-L2-SOC",
            cause="removed_from_offer",
            title="Cours HSS-L2-SOC « Sociologie urbaine » : sera archivé cette nuit",
            summary="L'ELP HSS-L2-SOC a disparu de l'offre de formation.",
            cod_cmp="12",
            cod_elp="HSS-L2-SOC",
            **common,
        ),
        Finding(
            detector="course_archived",
            subject="DRT-L1-CIV",
            cause="code_changed",
            title="Cours DRT-L1-CIV « Droit civil » : sera archivé cette nuit",
            summary="Le code APOGÉE de DRT-L1-CIV a changé.",
            cod_cmp="13",
            cod_elp="DRT-L1-CIV",
            **common,
        ),
    ]


def test_alerts_fire_and_resolve_in_a_real_alertmanager(
    sqlite_engine: Engine, alertmanager: str
) -> None:
    router = Router(
        cemu="cemu@univ-test.fr", composantes={"12": Composante("12", "HSS", ("s@u.fr",))}
    )
    notifier = Notifier(router, PUBLIC_URL)
    pusher = AlertmanagerPusher(alertmanager, timeout=5, public_url=PUBLIC_URL)
    now = datetime.now(UTC)
    findings = _findings()
    with sqlite_engine.begin() as conn:
        reconcile(
            conn, findings, detectors={"course_archived"}, subjects=None, now=now, notifier=notifier
        )
    with sqlite_engine.connect() as conn:
        assert pusher.push(conn, now) == PushOutcome(firing=2)
        ids = {a.cod_elp: a.id for a in list_alerts(conn, AlertFilter())}

    _wait_for(lambda: len(_active(alertmanager)) == 2, "two active alerts")
    there = {a["labels"]["cod_elp"]: a for a in _active(alertmanager)}
    hss = there["HSS-L2-SOC"]
    assert hss["labels"] == {
        "alertname": "course_archived",
        "severity": "critical",
        "composante": "12",
        "cod_elp": "HSS-L2-SOC",
        "cause": "removed_from_offer",
        "fingerprint": findings[0].fingerprint,
    }
    assert hss["annotations"]["link"] == f"{PUBLIC_URL}/alerts/{ids['HSS-L2-SOC']}"
    assert hss["annotations"]["title"].startswith("Cours HSS-L2-SOC")
    assert hss["annotations"]["remediation"] == "Rétablissez l'ELP dans APOGÉE avant 22 h."
    assert hss["generatorURL"] == hss["annotations"]["link"]
    assert "21609846" not in httpx.get(f"{alertmanager}/api/v2/alerts").text

    # Resolved here (the course is back in the offer): resolved there at the next push.
    later = datetime.now(UTC)
    with sqlite_engine.begin() as conn:
        reconcile(
            conn,
            findings[1:],
            detectors={"course_archived"},
            subjects=None,
            now=later,
            notifier=notifier,
        )
    with sqlite_engine.connect() as conn:
        assert pusher.push(conn, later + timedelta(seconds=1)) == PushOutcome(firing=1, resolved=1)
    _wait_for(
        lambda: [a["labels"]["cod_elp"] for a in _active(alertmanager)] == ["DRT-L1-CIV"],
        "HSS-L2-SOC resolved in Alertmanager",
    )
