"""What the JSON API reads and writes: pydantic models at the HTTP boundary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from alerts import repository
from alerts.lifecycle import Status
from alerts.notify.given_up import GivenUp, OutboxAction
from detectors.findings import Audience, Phase, Severity
from monitor.http.alert_actions import (
    AcknowledgeAction,
    CommentAction,
    OperatorAction,
    ResolveAction,
    SnoozeAction,
)


def _as_utc(value: datetime) -> datetime:
    # The store keeps DateTime columns naive, in UTC; say so on the wire.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Note = Annotated[str, StringConstraints(max_length=4000)]
RequiredNote = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
Who = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class EvidenceOut(_Out):
    """One fact that shows the alert, with its source date and the rule it bears on."""

    rule: str
    fact: str
    as_of: UtcDatetime | None


class AlertOut(_Out):
    """One alert as the API shows it."""

    id: int
    fingerprint: str
    detector: str
    subject: str
    cause: str
    status: Status
    severity: Severity
    audience: Audience
    phase: Phase
    cod_cmp: str | None
    cod_elp: str | None
    course_id: int | None
    title: str
    summary: str
    remediation: str
    affected_count: int
    evidence: list[EvidenceOut]
    episode: int
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    opened_at: UtcDatetime | None
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    expected_until: UtcDatetime | None = None
    resolved_at: UtcDatetime | None
    snoozed_until: UtcDatetime | None
    updated_at: UtcDatetime
    flap_count: int = 0


class AlertEventOut(_Out):
    """One entry of an alert's audit trail: who did what, when, under which rule."""

    id: int
    at: UtcDatetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status
    rule: str
    comment: str | None
    until: UtcDatetime | None = None


class AlertDetail(AlertOut):
    """An alert with its audit trail, oldest event first."""

    history: list[AlertEventOut]

    @classmethod
    def of(
        cls, record: repository.AlertRecord, history: list[repository.AlertEventRecord]
    ) -> AlertDetail:
        shown = AlertOut.model_validate(record)
        return cls(**dict(shown), history=[AlertEventOut.model_validate(e) for e in history])


class ActionIn(BaseModel):
    """Every action is the caller's; ``who`` names a person a shared token acts for."""

    model_config = ConfigDict(extra="forbid")

    who: Who | None = Field(
        None,
        description="The person acting, when the token is shared; recorded as "
        "'who (via token name)', never alone.",
    )

    def action(self) -> OperatorAction:
        raise NotImplementedError


class Acknowledgement(ActionIn):
    """Body of ``POST /alerts/{id}/ack``."""

    comment: Note | None = None
    expected_until: AwareDatetime | None = Field(
        None, description="Keep matching findings quiet until then (ISO 8601 with offset)."
    )

    def action(self) -> AcknowledgeAction:
        return AcknowledgeAction(comment=self.comment, expected_until=self.expected_until)


class CommentIn(ActionIn):
    """Body of ``POST /alerts/{id}/comment``."""

    text: RequiredNote

    def action(self) -> CommentAction:
        return CommentAction(text=self.text)


class SnoozeIn(ActionIn):
    """Body of ``POST /alerts/{id}/snooze``."""

    until: AwareDatetime = Field(description="End of the snooze (ISO 8601 with offset).")
    reason: RequiredNote

    def action(self) -> SnoozeAction:
        return SnoozeAction(until=self.until, reason=self.reason)


class ResolutionIn(ActionIn):
    """Body of ``POST /alerts/{id}/resolve``."""

    comment: Note | None = None

    def action(self) -> ResolveAction:
        return ResolveAction(comment=self.comment)


class Readiness(BaseModel):
    """Answer of ``/readyz``: every check by name, and the names of those failing."""

    status: Literal["ready", "not ready"]
    checks: dict[str, bool]
    failing: list[str] = Field(default_factory=list)
    reasons: dict[str, str] = Field(
        default_factory=dict, description="Why a failing check fails, when known."
    )


class OutboxErrorOut(_Out):
    """A notification whose last attempt failed, with the server's answer."""

    id: int
    attempts: int
    last_error: str


class GivenUpOut(_Out):
    """A notification given up: nobody got it (``failed``) or some recipients were refused."""

    id: int
    alert_id: int | None
    status: str
    attempts: int
    recipients: int
    refused: int
    last_error: str | None
    created_at: UtcDatetime


class OutboxActionOut(_Out):
    """One line of the outbox's audit trail (a re-queue: who, when)."""

    outbox_id: int
    at: UtcDatetime
    actor: str
    action: str
    comment: str | None


class OutboxOut(_Out):
    """The mail outbox at a glance: counts by state, the oldest waiting, the latest errors."""

    queued: int
    sending: int
    sent: int
    failed: int
    oldest_queued_at: UtcDatetime | None
    last_errors: list[OutboxErrorOut]
    given_up: list[GivenUpOut] = Field(default_factory=list)
    history: list[OutboxActionOut] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        state: repository.OutboxStatus,
        given_up: Sequence[GivenUp],
        history: Sequence[OutboxAction],
    ) -> OutboxOut:
        shown = cls.model_validate(state)
        return shown.model_copy(
            update={
                "given_up": [GivenUpOut.model_validate(g) for g in given_up],
                "history": [OutboxActionOut.model_validate(h) for h in history],
            }
        )


class RequeueIn(BaseModel):
    """Body of ``POST /outbox/retry``: some ids, or every given-up notification."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=1000)
    all_failed: bool = False
    who: Who | None = Field(None, description="The person acting, when the token is shared.")

    @model_validator(mode="after")
    def _one_of(self) -> RequeueIn:
        if bool(self.ids) == self.all_failed:
            raise ValueError("give either ids or all_failed: true")
        return self


class RequeueOut(BaseModel):
    """The notifications queued again."""

    requeued: list[int]
