"""Kafka client options derived from the settings, shared by the consumer, producer and admin."""

from __future__ import annotations

from typing import Any

from monitor.config import KafkaSettings, Settings

# A topic created after start (by Debezium, or by us when creation was refused)
# is noticed at the next metadata refresh; kafka-python's default is 5 minutes.
METADATA_MAX_AGE_MS = 30_000


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection and security options every client of the process uses."""
    options: dict[str, Any] = {
        "bootstrap_servers": list(kafka.bootstrap_servers),
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = (
            kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        )
    return options


def consumer_options(kafka: KafkaSettings) -> dict[str, Any]:
    """The ingest consumer: manual commits only, batches of ``max_poll_records``."""
    return client_options(kafka) | {
        "group_id": kafka.group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": kafka.auto_offset_reset,
        "max_poll_records": kafka.max_poll_records,
        "session_timeout_ms": kafka.session_timeout_ms,
        "heartbeat_interval_ms": kafka.heartbeat_interval_ms,
        "max_poll_interval_ms": kafka.max_poll_interval_ms,
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
    }


def producer_options(kafka: KafkaSettings) -> dict[str, Any]:
    """The dead-letter producer: every replica acknowledges before offsets move on."""
    return client_options(kafka) | {"acks": "all", "retries": 5, "linger_ms": 5}


def source_topics(settings: Settings) -> list[str]:
    """Every topic the ingest loop consumes: the configured Debezium topics and the runs topic."""
    return sorted({*settings.sources.topics, settings.sources.runs_topic})


def dead_letter_topic(topic: str, suffix: str) -> str:
    return f"{topic}{suffix}"
