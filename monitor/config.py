"""Configuration: pydantic-settings from ``ECAMPUS_MONITOR_*`` variables and an optional YAML file.

Precedence, highest first: explicit overrides, environment variables
(nested with ``__``, e.g. ``ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS``), the
YAML file (``--config`` or ``ECAMPUS_MONITOR_CONFIG``), then the defaults
below. The configuration is frozen once loaded.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from detectors.base import DetectorConfig, RunHealthConfig
from detectors.model.config import ModelConfig, MonthDay, PeriodCalendar, PorteSignal
from monitor.http.auth import TokenBook
from monitor.kafka.mapping_defaults import DEFAULT_TOPICS
from monitor.sources.settings import PollerSettings
from monitor.store.entities import ENTITIES, EntityName
from monitor.store.moodle_settings import MoodleSettings

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
    decimal_scales: dict[str, int] = Field(
        default_factory=dict,
        description="source column -> scale of its Decimal bytes (Debezium precise mode, "
        "when the JSON converter's schemas are off; with schemas on, the message says)",
    )
    flag_columns: list[str] = Field(
        default_factory=list,
        description="source columns of integer fields holding a 0/1 flag (a MySQL TINYINT(1)): "
        "a boolean there, as Debezium's tinyint1 converter sends it, is read as 1/0",
    )
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
        unmapped_flags = set(self.flag_columns) - set(self.columns)
        if unmapped_flags:
            raise ValueError(f"flag_columns {sorted(unmapped_flags)} are not mapped columns")
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
    max_attempts: int | None = Field(
        None, ge=1, description="optional cap on attempts; by default the age decides"
    )
    retry_initial_seconds: float = Field(30.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    retry_max_age_days: float = Field(
        3.0,
        gt=0,
        description="a notification refused temporarily (4xx, relay down) is retried this long",
    )
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
    api_token_hashes: dict[str, str] = Field(
        default_factory=dict,
        description="token name -> SHA-256 hex of the token (python -m monitor.http.auth --new NAME)",
    )
    trust_user_header: bool = False
    user_header_name: str = Field("X-Remote-User", min_length=1)
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    session_secret: SecretStr | None = Field(
        None, description="signs the page's sessions; the same on every API replica"
    )
    session_max_age_seconds: int = Field(8 * 3600, ge=60)
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="larger request bodies get 413")
    public_url: str = "http://127.0.0.1:8080"
    enabled: bool = True

    @field_validator("api_token_hashes")
    @classmethod
    def _token_hashes(cls, hashes: dict[str, str]) -> dict[str, str]:
        TokenBook(hashes)  # a malformed name or hash stops the start, naming the setting
        return hashes

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ipaddress.ip_network(proxy.strip(), strict=False)  # ValueError names the address
        return proxies

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < 16:
            raise ValueError("the session secret must be at least 16 bytes long")
        return secret


class MetricsSettings(_Section):
    """``/metrics`` is always served by the HTTP API; ``port`` adds a separate listener."""

    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=0, le=65535)


# --- The rules' calendar and the detectors' thresholds (DOMAIN.md's assumptions) -------------


def _month_day(value: str) -> str:
    """A "MM-DD" day of any year (29 February allowed)."""
    try:
        date(2000, *(int(part) for part in value.split("-")))
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a day written MM-DD (e.g. 09-30)") from None
    return value


def _clock_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 11:00 as the number 660 (base 60): refuse it
    # rather than take it for 00:11.
    if isinstance(value, int | float):
        raise ValueError('write times as quoted strings, e.g. "11:00" (YAML reads 11:00 as 660)')
    return value


MonthDayStr = Annotated[
    str,
    Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
    AfterValidator(_month_day),
]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]


def _as_month_day(value: str) -> MonthDay:
    month, day = (int(part) for part in value.split("-"))
    return (month, day)


class PeriodSettings(_Section):
    start: MonthDayStr
    end: MonthDayStr


class PeriodsSettings(_Section):
    """ELP periods (APOGÉE ``PERIODE``: S1, S2, AN) in their academic year, "MM-DD"."""

    s1: PeriodSettings = PeriodSettings(start="09-01", end="01-31")
    s2: PeriodSettings = PeriodSettings(start="01-15", end="06-30")
    year: PeriodSettings = PeriodSettings(start="09-01", end="06-30")

    def calendar(self) -> PeriodCalendar:
        return PeriodCalendar(
            start_s1=_as_month_day(self.s1.start),
            start_s2=_as_month_day(self.s2.start),
            start_year=_as_month_day(self.year.start),
            end_s1=_as_month_day(self.s1.end),
            end_s2=_as_month_day(self.s2.end),
            end_year=_as_month_day(self.year.end),
        )


class SilenceHoursSettings(_Section):
    """``source_silent``: working-day hours without any change from each source."""

    refer: float = Field(24.0, gt=0)
    ade: float = Field(24.0, gt=0)
    moodle: float = Field(12.0, gt=0)


class SyncRunThresholds(_Section):
    """``sync_run_health``: run deadline, warning/error spikes, silent sources."""

    deadline: ClockTime = Field(time(7, 0), description="local time the night's run must be done")
    baseline_runs: int = Field(7, ge=3, description="previous runs a spike is compared with")
    spike_factor: float = Field(3.0, gt=0)
    spike_margin: float = Field(50.0, ge=0)
    silence_hours: SilenceHoursSettings = SilenceHoursSettings()
    working_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="Monday=0 … Sunday=6"
    )


class ThresholdSettings(_Section):
    """How much, how old, how far back: each detector's thresholds."""

    critical_affected: int = Field(20, ge=1, description="people losing access: critical from")
    severity_soon_days: int = Field(14, ge=0, description="a course starting within: urgent")
    enrolments_lost_lookback_days: int = Field(7, ge=1)
    cohort_sync_max_age_days: int = Field(180, ge=1)
    cohort_redundant_share: float = Field(
        0.9, gt=0, le=1, description="cohort redundant once this share of members is DB-enrolled"
    )
    course_hidden_grace_days: int = Field(0, ge=0)
    course_deletion_notice_days: int = Field(
        30, ge=0, description="an archived course due for deletion is reported this far ahead"
    )
    sync_run: SyncRunThresholds = SyncRunThresholds()


def _both_porte_signals() -> list[PorteSignal]:
    return ["porteur_column", "disappearance"]


class RulesSettings(_Section):
    """Choices DOMAIN.md marks as assumptions, kept configurable."""

    timezone: str = "Europe/Paris"
    ia_replacement_defect: bool = Field(
        True,
        description="seed « IA annulée et remplacée » (« qu'une hypothèse en cours "
        "d'analyse »): report students who lose their registrations when an IA is replaced",
    )
    ia_replacement_recipient: Literal["cemu", "scolarite"] = Field(
        "cemu", description="who receives that hypothesis' alerts (the CEMU, with the DSI)"
    )
    erasmus_programmes: list[str] = Field(
        default_factory=lambda: ["Eras+", "EraFM"],
        description="outgoing exchange programmes (code prefixes) whose students are not "
        "enrolled (seed « Étudiant Erasmus »); '*' for every outgoing programme",
    )
    course_needs_group: bool = Field(
        True,
        description="R1: no course for an ELP with no group and no teaching load (seed "
        "« Pourquoi mon cours n'existe pas ? »)",
    )
    archived_course_deleted_after_days: int | None = Field(
        365, ge=0, description="days from archiving to deletion (assumption); null: unknown"
    )
    academic_year_start: MonthDayStr = "09-01"
    year_overlap_until: MonthDayStr = "09-30"
    maintenance_weekday: int = Field(6, ge=0, le=6)
    maintenance_start: Annotated[str, BeforeValidator(_clock_time)] = Field(
        "09:00", pattern=r"^\d{2}:\d{2}$"
    )
    maintenance_end: Annotated[str, BeforeValidator(_clock_time)] = Field(
        "11:00", pattern=r"^\d{2}:\d{2}$"
    )
    maintenance_overrun_minutes: int = Field(30, ge=0)
    exchange_semester_excludes_year_elps: bool = False
    suspension_covers_teachers: bool = True
    porte_signals: list[PorteSignal] = Field(
        default_factory=_both_porte_signals,
        min_length=1,
        description="R5: how a porté is recognised (porteur column, disappearance from REFER)",
    )
    periods: PeriodsSettings = PeriodsSettings()
    course_archived_lookback_days: int = Field(7, ge=1)
    thresholds: ThresholdSettings = ThresholdSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (e.g. Europe/Paris)") from None
        return zone

    @model_validator(mode="after")
    def _model_accepts(self) -> RulesSettings:
        self.model_switches()  # ModelConfig's own checks (window order, valid days, ...)
        return self

    def model_switches(self) -> ModelConfig:
        """The sync-rule model's switches and calendar (R3.4-R3.6, R7, R10, periods)."""
        return ModelConfig(
            ia_replacement_defect=self.ia_replacement_defect,
            academic_year_start=_as_month_day(self.academic_year_start),
            year_overlap_until=_as_month_day(self.year_overlap_until),
            timezone=self.timezone,
            maintenance_weekday=self.maintenance_weekday,
            maintenance_start=time.fromisoformat(self.maintenance_start),
            maintenance_end=time.fromisoformat(self.maintenance_end),
            maintenance_overrun=timedelta(minutes=self.maintenance_overrun_minutes),
            exchange_semester_excludes_year_elps=self.exchange_semester_excludes_year_elps,
            porte_signals=frozenset(self.porte_signals),
            suspension_covers_teachers=self.suspension_covers_teachers,
            periods=self.periods.calendar(),
            course_needs_group=self.course_needs_group,
            archived_course_deleted_after_days=self.archived_course_deleted_after_days,
            erasmus_programmes=tuple(self.erasmus_programmes),
        )

    def detector_config(self) -> DetectorConfig:
        """Everything the detectors are told (the daemon's passes, the API's diagnosis)."""
        limits = self.thresholds
        runs = limits.sync_run
        return DetectorConfig(
            model=self.model_switches(),
            critical_affected=limits.critical_affected,
            severity_soon_days=limits.severity_soon_days,
            course_archived_lookback_days=self.course_archived_lookback_days,
            enrolments_lost_lookback_days=limits.enrolments_lost_lookback_days,
            cohort_sync_max_age_days=limits.cohort_sync_max_age_days,
            cohort_redundant_share=limits.cohort_redundant_share,
            course_hidden_grace_days=limits.course_hidden_grace_days,
            course_deletion_notice_days=limits.course_deletion_notice_days,
            ia_replacement_audience=self.ia_replacement_recipient,
            run_health=RunHealthConfig(
                deadline=runs.deadline,
                baseline_runs=runs.baseline_runs,
                spike_factor=runs.spike_factor,
                spike_margin=runs.spike_margin,
                silence_hours_refer=runs.silence_hours.refer,
                silence_hours_ade=runs.silence_hours.ade,
                silence_hours_moodle=runs.silence_hours.moodle,
                working_days=frozenset(runs.working_days),
            ),
        )


class ScheduleSettings(_Section):
    """When the detectors run besides "ahead of the night" and "after each run"."""

    daily_time: ClockTime = Field(time(6, 30), description="local time of the daily pass")
    continuous_interval_seconds: int = Field(60, ge=5, description="run-health pass period")


class NotificationSettings(_Section):
    """Who is emailed at once and who waits for the daily digest (``alerts.policy``)."""

    digest_time: ClockTime = Field(time(7, 30), description="local time of the daily digests")
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


class CoordinationSettings(_Section):
    """Several workers on one store (issue 14): the lease that elects who runs the passes."""

    lease_ttl_seconds: float = Field(
        15.0,
        ge=1,
        description="a dead worker's lease (and its dirty-ELP claims) is taken over after this; "
        "the holder renews every third of it",
    )


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
    coordination: CoordinationSettings = CoordinationSettings()
    source: PollerSettings = PollerSettings()
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
