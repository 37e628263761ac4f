"""What a digest says, composed from alerts already read (pure: no clock, no store).

``compose_digests`` takes the open alerts, the alerts resolved in the window,
each alert's latest notifying transition in the window and its latest
immediate email, and returns one ``Digest`` per recipient that has news or a
reminder, its alerts grouped by course (``cod_elp``) then cause.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from alerts.lifecycle import NOTIFYING_RULES
from alerts.notify.causes import cause_label
from alerts.policy import NotificationPolicy
from alerts.repository import AlertRecord
from alerts.routing import Router
from detectors.findings import SEVERITY_ORDER

ItemKind = Literal[
    "new",
    "back",
    "flapping",
    "worsened",
    "snooze_over",
    "expectation_over",
    "reminder",
    "still_open",
]
_KIND_OF_RULE: Mapping[str, ItemKind] = {
    "new-open": "new",
    "pending-became-fault": "new",
    "reopened": "back",
    "reopened-flapping": "flapping",
    "acknowledged-worsened": "worsened",
    "snooze-expired": "snooze_over",
    "expectation-over": "expectation_over",
}
assert set(_KIND_OF_RULE) == NOTIFYING_RULES, "every notifying rule has its place in the digest"
_KIND_ORDER: Mapping[str, int] = {kind: rank for rank, kind in enumerate(get_args(ItemKind))}


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One alert in a digest, and why it is there."""

    alert: AlertRecord
    kind: ItemKind
    # For an alert emailed at once during the window: when.
    emailed_at: datetime | None = None

    @property
    def is_news(self) -> bool:
        return self.kind not in ("reminder", "still_open")


@dataclass(frozen=True, slots=True)
class CauseGroup:
    cause: str
    label: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class CourseGroup:
    """The alerts of one course (``cod_elp``; None: not about a course), by cause."""

    cod_elp: str | None
    cod_cmp: str | None
    causes: tuple[CauseGroup, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """What one recipient is told on ``day`` about the window ``(window_start, window_end]``."""

    recipient: str
    day: date
    window_start: datetime
    window_end: datetime
    courses: tuple[CourseGroup, ...]
    resolved: tuple[AlertRecord, ...] = ()
    still_open_omitted: int = 0

    @property
    def items(self) -> list[DigestItem]:
        return [item for course in self.courses for group in course.causes for item in group.items]

    @property
    def news(self) -> int:
        return sum(item.is_news for item in self.items)

    @property
    def reminders(self) -> int:
        return sum(item.kind == "reminder" for item in self.items)

    @property
    def dedup_key(self) -> str:
        return digest_dedup_key(self.recipient, self.day)


def digest_dedup_key(recipient: str, day: date) -> str:
    """``digest:<recipient hash>:<YYYY-MM-DD>``: no address in the key, one per day."""
    hashed = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    return f"digest:{hashed}:{day.isoformat()}"


@dataclass(frozen=True, slots=True)
class News:
    """The alert's latest notifying transition in the window."""

    rule: str
    at: datetime


def compose_digests(
    *,
    day: date,
    window_start: datetime,
    window_end: datetime,
    open_alerts: Iterable[AlertRecord],
    resolved: Iterable[AlertRecord],
    news: Mapping[int, News],
    emailed: Mapping[int, datetime],
    router: Router,
    policy: NotificationPolicy,
) -> list[Digest]:
    """The digests of ``day``, one per recipient with news or a reminder (pure).

    ``news``: by alert id, its latest notifying transition in the window;
    ``emailed``: by alert id, its latest immediate email in the window.
    """
    items: dict[str, list[DigestItem]] = defaultdict(list)
    for record in open_alerts:
        item = _item(
            record, news.get(record.id), emailed.get(record.id), window_start, window_end, policy
        )
        for recipient in router.recipients(record):
            items[recipient].append(item)
    resolved_by: dict[str, list[AlertRecord]] = defaultdict(list)
    for record in resolved:
        for recipient in router.recipients(record):
            resolved_by[recipient].append(record)
    digests = []
    for recipient, recipient_items in sorted(items.items()):
        if not any(item.kind != "still_open" for item in recipient_items):
            continue
        kept, omitted = _bounded(recipient_items, policy.digest_max_still_open)
        digests.append(
            Digest(
                recipient=recipient,
                day=day,
                window_start=window_start,
                window_end=window_end,
                courses=_grouped(kept),
                resolved=tuple(
                    sorted(resolved_by[recipient], key=lambda r: (r.cod_elp or "", r.id))
                ),
                still_open_omitted=omitted,
            )
        )
    return digests


def _item(
    record: AlertRecord,
    latest: News | None,
    emailed_at: datetime | None,
    start: datetime,
    end: datetime,
    policy: NotificationPolicy,
) -> DigestItem:
    if latest is not None:
        if emailed_at is not None and emailed_at >= latest.at:
            return DigestItem(record, "still_open", emailed_at)
        return DigestItem(record, _KIND_OF_RULE[latest.rule])
    if record.opened_at is not None and policy.reminder_due(record.opened_at, start, end):
        return DigestItem(record, "reminder")
    return DigestItem(record, "still_open")


def _bounded(items: list[DigestItem], max_still_open: int) -> tuple[list[DigestItem], int]:
    """All news and reminders; the most severe, oldest still-open alerts up to the bound."""
    still_open = sorted(
        (item for item in items if item.kind == "still_open"),
        key=lambda item: (
            -SEVERITY_ORDER[item.alert.severity],
            item.alert.opened_at,
            item.alert.id,
        ),
    )
    kept = [item for item in items if item.kind != "still_open"] + still_open[:max_still_open]
    return kept, max(len(still_open) - max_still_open, 0)


def _grouped(items: Sequence[DigestItem]) -> tuple[CourseGroup, ...]:
    by_course: dict[str | None, dict[str, list[DigestItem]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in items:
        by_course[item.alert.cod_elp][item.alert.cause].append(item)

    def item_order(item: DigestItem) -> tuple[int, int, int]:
        return (_KIND_ORDER[item.kind], -SEVERITY_ORDER[item.alert.severity], item.alert.id)

    courses = []
    for cod_elp, causes in by_course.items():
        groups = tuple(
            CauseGroup(
                cause,
                cause_label(cause_items[0].alert),
                tuple(sorted(cause_items, key=item_order)),
            )
            for cause, cause_items in sorted(causes.items())
        )
        cod_cmp = next((i.alert.cod_cmp for g in groups for i in g.items if i.alert.cod_cmp), None)
        courses.append(CourseGroup(cod_elp, cod_cmp, groups))

    def course_order(course: CourseGroup) -> tuple[bool, bool, str]:
        acts = any(item.kind != "still_open" for g in course.causes for item in g.items)
        return (not acts, course.cod_elp is None, course.cod_elp or "")

    return tuple(sorted(courses, key=course_order))
