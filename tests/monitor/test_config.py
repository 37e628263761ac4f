"""Configuration: defaults, environment, YAML file, clear errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings


def test_defaults_use_a_sqlite_store_and_debezium_topic_names() -> None:
    settings = load_settings()
    assert settings.store.url.startswith("sqlite:///")
    assert "refer.REFER.T_ADE_ACTIVITES" in settings.sources.topics
    assert settings.sources.runs_topic == "lmsjonction.runs"


def test_environment_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS", '["k1:9092","k2:9092"]')
    monkeypatch.setenv("ECAMPUS_MONITOR_KAFKA__GROUP_ID", "ecm-prod")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == ["k1:9092", "k2:9092"]
    assert settings.kafka.group_id == "ecm-prod"


def test_yaml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ecm.yaml"
    config.write_text("store:\n  url: sqlite:///from-file.sqlite\nsmtp:\n  port: 2525\n")
    monkeypatch.setenv("ECAMPUS_MONITOR_SMTP__PORT", "2526")
    settings = load_settings(config)
    assert settings.store.url == "sqlite:///from-file.sqlite"
    assert settings.smtp.port == 2526


def test_wrong_setting_names_the_setting_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECAMPUS_MONITOR_SMTP__PORT", "99999")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "smtp.port" in str(error.value)
    assert "ECAMPUS_MONITOR_SMTP__PORT" in str(error.value)


def test_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ecm.yaml"
    config.write_text("kafka:\n  bootstrap_server: typo:9092\n")
    with pytest.raises(ConfigError, match=r"kafka\.bootstrap_server"):
        load_settings(config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_secrets_are_masked_in_the_shown_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECAMPUS_MONITOR_SMTP__PASSWORD", "hunter2")
    monkeypatch.setenv("ECAMPUS_MONITOR_HTTP__API_TOKENS", '["s3cret-token"]')
    shown = str(load_settings().masked())
    assert "hunter2" not in shown
    assert "s3cret-token" not in shown
    assert "**********" in shown
