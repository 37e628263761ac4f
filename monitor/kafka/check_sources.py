"""``ecampus-monitor check-sources``: what the daemon would make of each topic, before it starts.

Reads up to N messages of every configured topic from the beginning, as a
consumer without group (nothing is committed, no group is joined), decodes
them with the daemon's own decoder, and counts what would be dead-lettered
(with the decoder's reason) and what would map but not resolve: configured
columns absent from the rows, Moodle users no REFER account matches, user
ids no ``mdl_user`` row names, roles that are neither student nor teacher.
Each problem comes with a count and one example message key; no other value
of a row is shown (rows carry personal data, keys are what an operator looks
up).

Cross-topic checks (users, accounts) see only the sample: with ``--sample``
below a table's size they may name users whose row was not sampled.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from monitor.config import Settings
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.kafka.ingest.kafka_options import client_options, source_topics
from monitor.kafka.mapping import Change

_POLL_MS = 500
_IDLE_POLLS = 6  # polls without a message before a topic is taken as read to its end


@dataclass
class Problem:
    """One kind of problem on one topic: how many messages, one example key."""

    topic: str
    what: str
    dead_letter: bool
    count: int = 0
    example_key: str = ""


@dataclass
class SourceReport:
    """What sampling the topics found."""

    sampled: Counter[str] = field(default_factory=Counter)
    missing_topics: list[str] = field(default_factory=list)
    problems: dict[tuple[str, str], Problem] = field(default_factory=dict)

    def add(self, topic: str, what: str, key: str, *, dead_letter: bool) -> None:
        problem = self.problems.setdefault((topic, what), Problem(topic, what, dead_letter))
        problem.count += 1
        if not problem.example_key:
            problem.example_key = key

    @property
    def dead_lettered(self) -> int:
        return sum(p.count for p in self.problems.values() if p.dead_letter)


@dataclass
class _Moodle:
    """What the sample says about Moodle users and REFER accounts, for the resolution checks."""

    users: dict[int, str | None] = field(default_factory=dict)  # id -> localuserfield value
    user_keys: dict[int, str] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    referenced: dict[int, tuple[str, str]] = field(default_factory=dict)  # userid -> topic, key


def _key(raw: bytes | None) -> str:
    if raw is None:
        return "(no key)"
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:120]
    payload = parsed.get("payload", parsed) if isinstance(parsed, dict) else parsed
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)[:120]


def _row(value: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    payload = parsed.get("payload", parsed) if isinstance(parsed, dict) else None
    if not isinstance(payload, dict):
        return None
    row = payload.get("after") or payload.get("before")
    return row if isinstance(row, dict) else None


def check_sources(settings: Settings, sample: int) -> SourceReport:
    """Sample every configured topic (``sample`` messages at most each) and report."""
    report = SourceReport()
    decoder = MessageDecoder(settings.sources)
    moodle = _Moodle()
    consumer = KafkaConsumer(
        **client_options(settings.kafka),
        group_id=None,  # no group: nothing joined, nothing committed
        enable_auto_commit=False,
        consumer_timeout_ms=_POLL_MS,
    )
    try:
        for topic in source_topics(settings):
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                report.missing_topics.append(topic)
                continue
            for value, key in _sample(consumer, topic, sorted(partitions), sample):
                report.sampled[topic] += 1
                _check(report, decoder, settings, moodle, topic, value, key)
    finally:
        consumer.close(autocommit=False)
    _check_users(report, settings, moodle)
    return report


def _sample(
    consumer: KafkaConsumer, topic: str, partitions: list[int], sample: int
) -> list[tuple[bytes | None, bytes | None]]:
    assigned = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    ends = consumer.end_offsets(assigned)
    found: list[tuple[bytes | None, bytes | None]] = []
    idle = 0
    while len(found) < sample and idle < _IDLE_POLLS:
        if all(consumer.position(tp) >= ends[tp] for tp in assigned):
            break
        batch = consumer.poll(timeout_ms=_POLL_MS, max_records=sample - len(found))
        records = [r for rs in batch.values() for r in rs]
        idle = 0 if records else idle + 1
        found.extend((r.value, r.key) for r in records)
    return found[:sample]


def _check(
    report: SourceReport,
    decoder: MessageDecoder,
    settings: Settings,
    moodle: _Moodle,
    topic: str,
    value: bytes | None,
    raw_key: bytes | None,
) -> None:
    key = _key(raw_key)
    try:
        change = decoder.decode(topic, value)
    except InvalidMessage as invalid:
        report.add(topic, f"{invalid.reason_kind}: {invalid.detail}", key, dead_letter=True)
        return
    if change is None or value is None or topic == settings.sources.runs_topic:
        return
    row = _row(value)
    mapping = settings.sources.topics[topic]
    if row is not None:
        absent = sorted(c for c in mapping.columns if c not in row)
        if absent:
            report.add(topic, f"columns absent (read as empty): {', '.join(absent)}", key,
                       dead_letter=False)  # fmt: skip
    _remember(report, settings, moodle, topic, change, key)


def _remember(
    report: SourceReport,
    settings: Settings,
    moodle: _Moodle,
    topic: str,
    change: Change,
    key: str,
) -> None:
    if change.deleted or change.truncate:
        return
    row = change.row
    if change.entity == "mdl_user":
        moodle.users[int(row["id"])] = row.get(settings.moodle.localuserfield) or None
        moodle.user_keys[int(row["id"])] = key
    elif change.entity == "account":
        for account_field in settings.moodle.account_fields:
            if row.get(account_field):
                moodle.accounts.add(str(row[account_field]))
    elif change.entity in ("mdl_user_enrolments", "mdl_groups_members", "mdl_role_assignments"):
        if row.get("userid") is not None:
            moodle.referenced.setdefault(int(row["userid"]), (topic, key))
        if (
            change.entity == "mdl_role_assignments"
            and settings.moodle.role_of(row.get("roleid")) is None
        ):
            report.add(topic, f"role id {row.get('roleid')} is neither student nor teacher "
                       "(moodle.student_roles, moodle.teacher_roles): ignored", key,
                       dead_letter=False)  # fmt: skip


def _check_users(report: SourceReport, settings: Settings, moodle: _Moodle) -> None:
    field_name = settings.moodle.localuserfield
    for userid, (topic, key) in moodle.referenced.items():
        if userid not in moodle.users:
            report.add(topic, "user id with no mdl_user row in the sample: unresolved", key,
                       dead_letter=False)  # fmt: skip
    if not moodle.accounts:
        return  # no account sampled: nothing to match against
    user_topic = next((t for t, m in settings.sources.topics.items() if m.entity == "mdl_user"), "")
    for userid, value in moodle.users.items():
        if value is None:
            report.add(user_topic, f"mdl_user.{field_name} empty: the user names nobody",
                       moodle.user_keys[userid], dead_letter=False)  # fmt: skip
        elif value not in moodle.accounts:
            fields = "/".join(settings.moodle.account_fields)
            report.add(user_topic, f"mdl_user.{field_name} matches no REFER account {fields}",
                       moodle.user_keys[userid], dead_letter=False)  # fmt: skip
