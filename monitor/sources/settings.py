"""The poller's settings (``source`` section): where the source databases are, how often to read."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class PollerSettings(BaseModel):
    """``ecampus-monitor source NAME`` and ``reconcile-sources``: the databases behind the topics.

    A source is named by the segment before ``<SCHEMA>.<TABLE>`` in its topics
    (``refer`` for ``refer.REFER.T_ADE_ACTIVITES``); its tables are those of
    ``sources.topics``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="source name -> SQLAlchemy URL, e.g. refer: oracle+oracledb://U:P@HOST:1521/"
        "?service_name=REFER, moodle: mysql+pymysql://U:P@HOST/moodle",
    )
    schemas: dict[str, str] = Field(
        default_factory=dict,
        description="source name -> schema to read (default: the topic's for Oracle, "
        "the URL's database otherwise)",
    )
    key_columns: dict[str, list[str]] = Field(
        default_factory=dict,
        description="topic -> primary key columns (default: the columns of the entity's key)",
    )
    poll_interval: float = Field(300.0, ge=1, description="seconds between two passes")
    batch_size: int = Field(5000, ge=1, description="differences published per Kafka flush")
    reconcile_weekday: int = Field(6, ge=0, le=6, description="weekly reconciliation day (0=Mon)")
    reconcile_time: time = Field(time(5, 0), description="local time of the weekly reconciliation")
