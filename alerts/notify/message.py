"""The MIME message of an outbox row: plain text, HTML, and the files joined (issue 11).

``multipart/mixed`` when the row carries attachments (the people's CSV), else
``multipart/alternative``. Recipients named in copy (``copy_recipients``) are in
the Cc header; the envelope sends to every recipient. The Message-ID is derived from the dedup key, so a
notification sent twice (a worker died mid-send) shows as one message.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from alerts.notify.attachments import Attachment

__all__ = ["build_message", "message_id"]


def message_id(dedup_key: str, sender: str) -> str:
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "ecampus-monitor.invalid"
    return f"<{digest}@{domain}>"


def build_message(row: Any, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = sender
    copied = set(row.copy_recipients or ())
    message["To"] = ", ".join(a for a in row.recipients if a not in copied)
    if copied:
        message["Cc"] = ", ".join(a for a in row.recipients if a in copied)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(row.dedup_key, sender)
    # RFC 3834: no out-of-office replies to an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    for stored in row.attachments or ():
        attachment = Attachment.from_json(stored)
        # As bytes (base64 on the wire): the BOM and CRLF line ends reach the spreadsheet intact.
        message.add_attachment(
            attachment.content.encode("utf-8"),
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message
