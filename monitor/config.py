"""Configuration: pydantic-settings from ``ECAMPUS_MONITOR_*`` variables and an optional YAML file.

Precedence, highest first: explicit overrides, environment variables
(nested with ``__``, e.g. ``ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS``), the
YAML file (``--config`` or ``ECAMPUS_MONITOR_CONFIG``), then the defaults
below. The configuration is frozen once loaded.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from detectors.base import DetectorConfig
from monitor.entities import ENTITIES, EntityName
from monitor.mapping_defaults import DEFAULT_TOPICS
from monitor.moodle_settings import MoodleSettings

ENV_PREFIX = "ECAMPUS_MONITOR_"
CONFIG_FILE_ENV = "ECAMPUS_MONITOR_CONFIG"

TimeUnit = Literal["ms", "s", "us", "days"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MembershipRule(_Section):
    """A boolean canonical field true when a source column's value is in a list."""

    column: str
    values: list[str]


class TopicMapping(_Section):
    """How one source table (one Debezium topic) maps to a canonical entity of DOMAIN.md."""

    entity: EntityName
    columns: dict[str, str] = Field(description="source column -> canonical field")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="canonical field -> {source value: canonical value}"
    )
    time_units: dict[str, TimeUnit] = Field(
        default_factory=dict,
        description="unit of integer date columns, by canonical field (default: ms, Debezium's)",
    )
    membership: dict[str, MembershipRule] = Field(default_factory=dict)
    true_values: list[str] = ["O", "Y", "1", "true", "True", "TRUE", "T", "t"]
    list_separator: str = ","

    @field_validator("columns")
    @classmethod
    def _columns_not_empty(cls, columns: dict[str, str]) -> dict[str, str]:
        if not columns:
            raise ValueError("a topic mapping needs at least one column")
        return columns

    def model_post_init(self, __context: Any) -> None:
        spec = ENTITIES[self.entity]
        known = set(spec.fields())
        mapped = set(self.columns.values()) | set(self.membership)
        unknown = mapped - known
        if unknown:
            raise ValueError(
                f"entity {self.entity!r} has no field(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        if not spec.stored:
            raise ValueError(f"entity {self.entity!r} is derived by the store: map its sources")
        missing_keys = set(spec.key_fields) - mapped
        if missing_keys:
            raise ValueError(
                f"entity {self.entity!r} needs its key field(s) {sorted(missing_keys)}"
            )


class KafkaSettings(_Section):
    bootstrap_servers: list[str] = ["127.0.0.1:9092"]
    group_id: str = "ecampus-monitor"
    client_id: str = "ecampus-monitor"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    max_poll_records: int = Field(2000, ge=1)
    poll_timeout_ms: int = Field(500, ge=1)
    session_timeout_ms: int = Field(10_000, ge=1000)
    heartbeat_interval_ms: int = Field(3000, ge=100)
    max_poll_interval_ms: int = Field(300_000, ge=1000)
    dead_letter_suffix: str = ".dlq"


class SourceSettings(_Section):
    topics: dict[str, TopicMapping] = Field(
        default_factory=lambda: {
            k: TopicMapping.model_validate(v) for k, v in DEFAULT_TOPICS.items()
        }
    )
    runs_topic: str = "lmsjonction.runs"


class StoreSettings(_Section):
    url: str = "sqlite:///ecampus-monitor.sqlite"
    retry_initial_seconds: float = Field(1.0, gt=0)
    retry_max_seconds: float = Field(60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _known_dialect(cls, url: str) -> str:
        if not url.startswith(("sqlite", "mysql+pymysql", "mariadb+pymysql")):
            raise ValueError("use sqlite:///PATH or mysql+pymysql://USER:PASSWORD@HOST/DB")
        return url


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "ecampus-monitor@localhost"
    timeout_seconds: float = Field(10.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    retry_initial_seconds: float = Field(30.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    enabled: bool = True


class RoutingSettings(_Section):
    file: Path | None = None
    cemu_address: str = "cemu.assistance@example.org"

    @field_validator("file")
    @classmethod
    def _file_exists(cls, file: Path | None) -> Path | None:
        if file is not None and not file.is_file():
            raise ValueError(f"routing file {file} does not exist")
        return file


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    api_tokens: list[SecretStr] = Field(default_factory=list)
    public_url: str = "http://127.0.0.1:8080"
    enabled: bool = True


class MetricsSettings(_Section):
    """``/metrics`` is always served by the HTTP API; ``port`` adds a separate listener."""

    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=0, le=65535)


class RulesSettings(_Section):
    """Choices DOMAIN.md marks as assumptions, kept configurable."""

    timezone: str = "Europe/Paris"
    ia_replacement_defect: bool = True
    year_overlap_until: str = Field("09-30", pattern=r"^\d{2}-\d{2}$")
    maintenance_weekday: int = Field(6, ge=0, le=6)
    maintenance_start: str = Field("09:00", pattern=r"^\d{2}:\d{2}$")
    maintenance_end: str = Field("11:00", pattern=r"^\d{2}:\d{2}$")
    course_archived_lookback_days: int = Field(7, ge=1)

    def detector_config(self) -> DetectorConfig:
        """The detectors' knobs these rules set (the daemon's passes, the API's diagnosis)."""
        return DetectorConfig(
            course_archived_lookback_days=self.course_archived_lookback_days,
            ia_replacement_defect=self.ia_replacement_defect,
            timezone=self.timezone,
        )


class ScheduleSettings(_Section):
    """When the detectors run besides "ahead of the night" and "after each run"."""

    daily_time: time = Field(time(6, 30), description="local time of the daily pass")
    continuous_interval_seconds: int = Field(60, ge=5, description="run-health pass period")


class NotificationSettings(_Section):
    """Who is emailed at once and who waits for the daily digest (``alerts.policy``)."""

    digest_time: time = Field(time(7, 30), description="local time of the daily digests")
    digests_enabled: bool = True
    immediate_severities: list[Literal["info", "warning", "critical"]] = ["critical"]
    immediate_predictions: dict[str, int] = Field(
        default_factory=lambda: {"course_archived": 1},
        description="detector -> minimum people affected for a prediction to be emailed at once",
    )
    reminder_after_days: float = Field(3.0, gt=0)
    reminder_every_days: float = Field(7.0, gt=0)
    flap_window_hours: float = Field(24.0, ge=0)
    flap_email_every_hours: float = Field(2.0, ge=0)
    digest_max_delay_hours: float = Field(10.0, ge=0)
    digest_max_still_open: int = Field(100, ge=0)


class AlertmanagerSettings(_Section):
    """Optional push of the alerts to a Prometheus Alertmanager (API v2); off without ``url``."""

    url: str | None = None
    timeout_seconds: float = Field(5.0, gt=0)
    push_interval_seconds: float = Field(60.0, ge=5)


class Settings(BaseSettings):
    """The whole configuration of one ecampus-monitor process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )
    # Set by load_settings before instantiation; pydantic-settings reads it in the sources hook.
    _yaml_file: ClassVar[Path | None] = None

    kafka: KafkaSettings = KafkaSettings()
    sources: SourceSettings = SourceSettings()
    store: StoreSettings = StoreSettings()
    smtp: SmtpSettings = SmtpSettings()
    routing: RoutingSettings = RoutingSettings()
    http: HttpSettings = HttpSettings()
    metrics: MetricsSettings = MetricsSettings()
    rules: RulesSettings = RulesSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    notifications: NotificationSettings = NotificationSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    moodle: MoodleSettings = MoodleSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=cls._yaml_file))
        return tuple(sources)

    def masked(self) -> dict[str, Any]:
        """The effective configuration as plain data, secrets shown as ``**********``."""
        return self.model_dump(mode="json")


class ConfigError(ValueError):
    """A setting is wrong; the message names it and says how it was set."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load the configuration, or raise ConfigError naming every wrong setting."""
    path = config_file or (Path(p) if (p := os.environ.get(CONFIG_FILE_ENV)) else None)
    if path is not None and not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")

    class _FromFile(Settings):
        _yaml_file: ClassVar[Path | None] = path

    try:
        loaded = _FromFile(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, path)) from None
    return Settings.model_construct(**dict(loaded))


def describe_validation_error(error: ValidationError, path: Path | None) -> str:
    lines = ["invalid configuration:"]
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        env_name = ENV_PREFIX + "__".join(
            str(part).upper() for part in problem["loc"] if isinstance(part, str)
        )
        origin = f"(env {env_name}" + (f" or {path}" if path else "") + ")"
        lines.append(f"  {location}: {problem['msg']} {origin}")
    return "\n".join(lines)
