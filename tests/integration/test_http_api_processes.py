"""The HTTP settings as a university writes them, through real ``ecampus-monitor`` processes.

A YAML file and ``ECAMPUS_MONITOR_HTTP__*`` variables, read by ``config show``
and ``run --role api``; two API replicas on one store sharing logins and
logouts; and bodies of hundreds of MB that the process never holds (its peak
RSS, read from /proc, is the measure).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor.http.auth import hash_token
from monitor.kafka.broker import free_port
from tests.integration.api_processes import (
    ApiProcess,
    clean_env,
    cli,
    raw_post,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPERATOR, TOKEN = "astreinte-cemu", "jeton-astreinte-4f1c9a"
SECRET = "le secret partagé des deux répliques"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MB = 1024 * 1024


def university_config(tmp_path: Path, store_url: str, port: int, **http: Any) -> Path:
    """What a university writes: the documented settings, the hash from monitor.http.auth."""
    config = {
        "store": {"url": store_url},
        "smtp": {"enabled": False},
        "http": {"port": port, "api_token_hashes": {OPERATOR: hash_token(TOKEN)}, **http},
    }
    return write_config(tmp_path / f"ecm-{port}.yaml", config)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    upgraded = cli("db", "upgrade", env=clean_env(ECAMPUS_MONITOR_STORE__URL=url))
    assert upgraded.returncode == 0, upgraded.stderr
    return url


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, page
    return found.group(1)


def test_config_show_reads_the_documented_http_settings(tmp_path: Path) -> None:
    config = university_config(
        tmp_path,
        "sqlite:///state.sqlite",
        8080,
        trust_user_header=True,
        user_header_name="X-CAS-User",
        trusted_proxies=["10.1.2.3", "192.0.2.0/24"],
        max_body_bytes=32768,
    )
    env = clean_env(
        ECAMPUS_MONITOR_HTTP__SESSION_SECRET=SECRET,
        ECAMPUS_MONITOR_SMTP__RETRY_MAX_AGE_DAYS="2",
    )

    shown = cli("config", "show", "--config", str(config), env=env)

    assert shown.returncode == 0, shown.stderr
    http = yaml.safe_load(shown.stdout)["http"]
    assert http["api_token_hashes"] == {OPERATOR: hash_token(TOKEN)}
    assert http["trust_user_header"] is True
    assert http["user_header_name"] == "X-CAS-User"
    assert http["trusted_proxies"] == ["10.1.2.3", "192.0.2.0/24"]
    assert http["max_body_bytes"] == 32768
    assert http["session_secret"] == "**********"
    assert SECRET not in shown.stdout
    assert yaml.safe_load(shown.stdout)["smtp"]["retry_max_age_days"] == 2.0


def test_environment_variables_set_the_http_settings_over_the_file(tmp_path: Path) -> None:
    config = university_config(tmp_path, "sqlite:///state.sqlite", 8080)
    env = clean_env(
        ECAMPUS_MONITOR_HTTP__API_TOKEN_HASHES=f'{{"cas-bot": "{hash_token("autre")}"}}',
        ECAMPUS_MONITOR_HTTP__TRUST_USER_HEADER="true",
        ECAMPUS_MONITOR_HTTP__USER_HEADER_NAME="X-CAS-User",
        ECAMPUS_MONITOR_HTTP__TRUSTED_PROXIES='["10.0.0.0/8"]',
        ECAMPUS_MONITOR_HTTP__MAX_BODY_BYTES="16384",
    )

    shown = cli("config", "show", "--config", str(config), env=env)

    assert shown.returncode == 0, shown.stderr
    http = yaml.safe_load(shown.stdout)["http"]
    # A mapping from the environment adds to the file's (pydantic-settings merges them).
    assert http["api_token_hashes"] == {
        OPERATOR: hash_token(TOKEN),
        "cas-bot": hash_token("autre"),
    }
    assert (http["trust_user_header"], http["user_header_name"]) == (True, "X-CAS-User")
    assert http["trusted_proxies"] == ["10.0.0.0/8"]
    assert http["max_body_bytes"] == 16384
    assert http["session_secret"] is None


@pytest.mark.parametrize(
    ("http", "named"),
    [
        ({"api_token_hashes": {OPERATOR: "not-a-sha256"}}, "http.api_token_hashes"),
        ({"trusted_proxies": ["proxy.univ.fr"]}, "http.trusted_proxies"),
        ({"session_secret": "short"}, "http.session_secret"),
    ],
)
def test_a_wrong_http_setting_stops_the_start_naming_it(
    tmp_path: Path, http: dict[str, Any], named: str
) -> None:
    config = write_config(tmp_path / "ecm.yaml", {"http": http})

    shown = cli("config", "show", "--config", str(config), env=clean_env())

    assert shown.returncode == 2
    assert named in shown.stderr


def test_the_api_process_honours_the_token_hashes_and_the_proxy_header(
    tmp_path: Path, store_url: str
) -> None:
    port = free_port()
    config = university_config(
        tmp_path,
        store_url,
        port,
        trust_user_header=True,
        user_header_name="X-CAS-User",
        trusted_proxies=["127.0.0.1/32"],
    )
    env = clean_env(ECAMPUS_MONITOR_HTTP__SESSION_SECRET=SECRET)
    with ApiProcess(config, port, env, tmp_path / "api.log") as api:
        by_token = httpx.post(
            f"{api.url}/alerts/1/ack", json={}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        by_hash = httpx.post(
            f"{api.url}/alerts/1/ack",
            json={},
            headers={"Authorization": f"Bearer {hash_token(TOKEN)}"},
        )
        by_proxy = httpx.post(f"{api.url}/alerts/1/ack", json={}, headers={"X-CAS-User": "jdupont"})
        default_name = httpx.post(
            f"{api.url}/alerts/1/ack", json={}, headers={"X-Remote-User": "jdupont"}
        )
        outbox = httpx.get(f"{api.url}/outbox", headers={"X-CAS-User": "jdupont"})
        log = api.stderr()

    assert by_token.status_code == 404  # authenticated: the alert does not exist
    assert by_hash.status_code == 401
    assert by_proxy.status_code == 404
    assert default_name.status_code == 401
    assert outbox.status_code == 200
    assert "session_secret is not set" not in log


def test_without_a_session_secret_the_api_says_so_at_start(tmp_path: Path, store_url: str) -> None:
    port = free_port()
    config = university_config(tmp_path, store_url, port)
    with ApiProcess(config, port, clean_env(), tmp_path / "api.log") as api:
        log = api.stderr()

    assert "http.session_secret is not set" in log
    assert "WARNING" in log


@pytest.fixture(params=["sqlite", "mariadb"])
def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The replicas' one store: a SQLite file, or a MariaDB database (the chart's case)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        url = request.getfixturevalue("mariadb_url")
    upgraded = cli("db", "upgrade", env=clean_env(ECAMPUS_MONITOR_STORE__URL=url))
    assert upgraded.returncode == 0, upgraded.stderr
    return url


@pytest.fixture
def two_replicas(tmp_path: Path, shared_store_url: str) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    env = clean_env(ECAMPUS_MONITOR_HTTP__SESSION_SECRET=SECRET)
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        config = university_config(tmp_path, shared_store_url, port)
        replicas.append(ApiProcess(config, port, env, tmp_path / f"api-{name}.log"))
    with replicas[0] as first, replicas[1] as second:
        yield first, second


def log_in(api: ApiProcess) -> str:
    """Log in as the page does: the form's CSRF token and its session cookie, then the token."""
    with httpx.Client(base_url=api.url, follow_redirects=False) as browser:
        form = browser.get("/ui/login")
        response = browser.post(
            "/ui/login",
            data={"csrf_token": csrf_of(form.text), "token": TOKEN, "next": "/ui/alerts"},
        )
    assert response.status_code == 303, response.text
    return response.cookies["ecm_session"]


def alert_page(api: ApiProcess, cookie: str) -> httpx.Response:
    return httpx.get(f"{api.url}/ui/alerts", cookies={"ecm_session": cookie})


def test_two_api_replicas_share_the_login_and_the_logout(
    two_replicas: tuple[ApiProcess, ApiProcess],
) -> None:
    first, second = two_replicas
    cookie = log_in(first)

    on_second = alert_page(second, cookie)
    assert on_second.status_code == 200
    assert f"<strong>{OPERATOR}</strong>" in on_second.text
    assert alert_page(first, cookie).status_code == 200

    logout = httpx.post(
        f"{second.url}/ui/logout",
        data={"csrf_token": csrf_of(on_second.text)},
        cookies={"ecm_session": cookie},
    )
    assert logout.status_code == 303

    for replica in (first, second):
        refused = alert_page(replica, cookie)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/ui/login")


def _body(total: int) -> Iterator[bytes]:
    piece = b"x" * (64 * 1024)
    return itertools.repeat(piece, total // len(piece))


def test_huge_bodies_never_make_the_api_process_grow(tmp_path: Path, store_url: str) -> None:
    port = free_port()
    config = university_config(tmp_path, store_url, port)
    env = clean_env(ECAMPUS_MONITOR_HTTP__SESSION_SECRET=SECRET)
    token = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    anonymous = {"Content-Type": "application/json"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    declared = 500 * MB
    with ApiProcess(config, port, env, tmp_path / "api.log") as api:
        # The same paths once with small bodies, so that the baseline has run every code path.
        for headers, chunked in itertools.product((token, anonymous), (False, True)):
            size = {"Content-Length": str(128 * 1024)} if not chunked else {}
            raw_post(port, "/alerts/1/ack", headers | size, _body(128 * 1024), chunked=chunked)
        raw_post(port, "/ui/login", form, _body(128 * 1024), chunked=True)
        before = api.peak_rss_kib()

        answers = {
            "declared, anonymous": raw_post(
                port,
                "/alerts/1/ack",
                anonymous | {"Content-Length": str(declared)},
                _body(declared),
                chunked=False,
            ),
            "declared, token": raw_post(
                port,
                "/alerts/1/ack",
                token | {"Content-Length": str(declared)},
                _body(declared),
                chunked=False,
            ),
            "chunked, anonymous": raw_post(
                port, "/outbox/retry", anonymous, _body(declared), chunked=True
            ),
            "chunked, token": raw_post(port, "/alerts/1/ack", token, _body(declared), chunked=True),
            "chunked, page form": raw_post(port, "/ui/login", form, _body(declared), chunked=True),
        }
        after = api.peak_rss_kib()
        still_up = httpx.get(f"{api.url}/healthz").status_code

    growth_kib = after - before
    print(f"peak RSS {before} KiB -> {after} KiB; sent {[s for _, s in answers.values()]} bytes")
    statuses = {name: status for name, (status, _) in answers.items()}
    assert statuses == {
        "declared, anonymous": 401,
        "declared, token": 413,
        "chunked, anonymous": 401,
        "chunked, token": 413,
        "chunked, page form": 413,
    }
    assert still_up == 200
    assert growth_kib < 4 * 1024, f"the API's peak RSS grew by {growth_kib} KiB"
