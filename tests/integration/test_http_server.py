"""ApiServer serves the real API over a real loopback socket, then shuts down."""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.config import Settings
from monitor.http.api import create_app
from monitor.http.server import ApiServer
from monitor.metrics import Metrics

pytestmark = pytest.mark.integration


@pytest.fixture
def api_server(sqlite_engine: Engine) -> ApiServer:
    app = create_app(
        settings=Settings(), engine=sqlite_engine, metrics=Metrics(CollectorRegistry())
    )
    return ApiServer(app, "127.0.0.1", 0)


def test_server_on_port_zero_answers_healthz_on_the_chosen_port(api_server: ApiServer) -> None:
    api_server.start()
    try:
        assert api_server.port != 0
        response = httpx.get(f"http://127.0.0.1:{api_server.port}/healthz", timeout=5)
        ready = httpx.get(f"http://127.0.0.1:{api_server.port}/readyz", timeout=5)
    finally:
        api_server.stop()

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert ready.json()["checks"] == {"database": True}


def test_stopped_server_no_longer_accepts_connections(api_server: ApiServer) -> None:
    with api_server:
        port = api_server.port
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_port_already_in_use_fails_in_the_caller(sqlite_engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = create_app(
            settings=Settings(), engine=sqlite_engine, metrics=Metrics(CollectorRegistry())
        )
        server = ApiServer(app, "127.0.0.1", taken.getsockname()[1])

        with pytest.raises(OSError):
            server.start()
