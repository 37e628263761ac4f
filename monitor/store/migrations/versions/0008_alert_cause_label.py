"""alert cause label: the cause's French label stored with the alert (issue 16)

Revision ID: 0008_cause_label
Revises: 0007_attachments
Create Date: 2026-12-06 07:30:00

Findings carry their cause's label (declared in the detector's module) and the
alert stores it, so the alerts and the page look nothing up in the detectors.
Existing rows are left NULL here (a migration imports no detector): each worker
writes today's labels on every alert when it starts
(``alerts.repository.relabel_causes`` from ``monitor.cause_catalogue``), and
until then an alert without a label reads "Autre cause", never a code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_cause_label"
down_revision = "0007_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_label", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("cause_label")
