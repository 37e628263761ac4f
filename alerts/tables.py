"""The alert tables: alerts, their audit trail, the notification outbox, the digests built.

They share one SQLAlchemy metadata with the state store's fact tables
(``monitor.store.schema``), so one Alembic history migrates both.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

alert = Table(
    "alert",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("detector", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("cause", String(64), nullable=False),
    # The cause in French, from its declaration (detectors.causes); NULL: none known.
    Column("cause_label", String(255)),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("cod_cmp", String(64)),
    Column("cod_elp", String(64)),
    Column("course_id", BigInteger),
    Column("title", String(500), nullable=False),
    Column("summary", Text, nullable=False),
    Column("remediation", Text, nullable=False),
    Column("affected_count", Integer, nullable=False, default=0),
    Column("evidence", JSON, nullable=False),
    Column("episode", Integer, nullable=False, default=1),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("opened_at", DateTime),
    Column("acknowledged_at", DateTime),
    Column("acknowledged_by", String(255)),
    Column("resolved_at", DateTime),
    # Only meaningful while status is "snoozed"; kept after expiry to tell episodes apart.
    Column("snoozed_until", DateTime),
    Column("updated_at", DateTime, nullable=False),
    # An acknowledgement's "expected until": quiet until then, across episodes. Cleared by
    # a snooze, a resolution by hand, an acknowledgement without date or its expiry.
    Column("expected_until", DateTime),
    # Reopenings in a row within the flap window; 0 once an episode starts after it.
    Column("flap_count", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_alert_status_detector", "status", "detector"),
    Index("ix_alert_cod_elp", "cod_elp"),
)

alert_event = Table(
    "alert_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("rule", String(255), nullable=False),
    Column("comment", Text),
    # The date an action set: a snooze's end, an acknowledgement's "expected until".
    Column("until", DateTime),
    # The digest reads a day of notifying events.
    Index("ix_alert_event_at", "at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # One notification per alert episode and state: the unique key is what makes
    # a restart or a replay of the topics unable to email the same thing twice.
    Column("dedup_key", String(255), nullable=False),
    Column("alert_id", Integer, index=True),
    Column("recipients", JSON, nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    # Recipients the next attempt sends to, when some were already delivered or refused
    # (NULL: all of ``recipients``); those refused for good (5xx), kept to re-queue them.
    Column("pending_recipients", JSON(none_as_null=True)),
    Column("refused_recipients", JSON(none_as_null=True)),
    # When an operator re-queued it: the retry age counts from then, not from created_at.
    Column("requeued_at", DateTime),
    # Files joined to the email (the people's CSV): a JSON list of {filename, content_type,
    # content}, rendered with the transition (``alerts.notify.attachments``); NULL: none.
    Column("attachments", JSON(none_as_null=True)),
    # Those of ``recipients`` named in copy (Cc header), e.g. the teachers of a changed code.
    Column("copy_recipients", JSON(none_as_null=True)),
    UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# One row per digest day once its digests are queued (even none): the next day's
# window starts at this slot, and the primary key stops two workers building it twice.
digest_run = Table(
    "digest_run",
    metadata,
    Column("day", Date, primary_key=True),
    Column("slot_at", DateTime, nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("digests", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# The outbox's audit trail: who re-queued which notification, when (as alert_event for alerts).
outbox_event = Table(
    "outbox_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("comment", Text),
)
