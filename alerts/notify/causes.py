"""The French label of an alert's cause, for the digest's headings, the page and Alertmanager.

The label comes with the finding (``Finding.cause_label``, written from the cause's
declaration in its detector's module, see ``detectors.causes``) and is stored on
the alert: nothing here knows a detector. An alert without a label (a cause no
module declares, or a row the daemon has not relabelled since migration 0008)
says so in French, never as a code.
"""

from __future__ import annotations

from alerts.repository import AlertRecord

UNLABELLED = "Autre cause"


def cause_label(record: AlertRecord) -> str:
    """The label stored with the alert, else ``UNLABELLED``."""
    return record.cause_label or UNLABELLED
