"""What an SMTP relay's answer means for each recipient: delivered, retry later, or give up.

RFC 5321 4.2.1: a 4xx reply is temporary (greylisting, a full queue: try again
later), a 5xx reply permanent (the same request will be refused again). Errors
are described as stored and logged: the reply, with any address masked.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt did to each recipient it was for."""

    delivered: tuple[str, ...] = ()
    temporary: tuple[str, ...] = ()
    permanent: tuple[str, ...] = ()
    error: str | None = None


def is_permanent(code: int) -> bool:
    """A 5xx reply: the relay will refuse the same thing again (RFC 5321 4.2.1)."""
    return 500 <= code <= 599


def attempt_of(recipients: Sequence[str], outcome: dict[str, Any] | BaseException) -> Attempt:
    """Sort the recipients by what the relay said: ``send_message``'s refusals, or its error."""
    if isinstance(outcome, dict | smtplib.SMTPRecipientsRefused):
        refused: dict[str, Any] = outcome if isinstance(outcome, dict) else outcome.recipients
        permanent = tuple(r for r in recipients if r in refused and is_permanent(refused[r][0]))
        temporary = tuple(r for r in recipients if r in refused and r not in permanent)
        error = None
        if refused:
            error = describe_error(smtplib.SMTPRecipientsRefused(refused))
        return Attempt(
            delivered=tuple(r for r in recipients if r not in refused),
            temporary=temporary,
            permanent=permanent,
            error=error,
        )
    reason = describe_error(outcome)
    if isinstance(outcome, smtplib.SMTPResponseException) and is_permanent(outcome.smtp_code):
        return Attempt(permanent=tuple(recipients), error=reason)
    return Attempt(temporary=tuple(recipients), error=reason)


def describe_error(error: BaseException) -> str:
    """The error as stored and logged: the SMTP reply, with any address masked."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text = f"SMTPRecipientsRefused: all recipients refused (codes {codes})"
    elif isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text = f"{type(error).__name__}: {error.smtp_code} {reply_text}"
    else:
        text = f"{type(error).__name__}: {error}"
    return _ADDRESS.sub("<address>", text)[:1000]
