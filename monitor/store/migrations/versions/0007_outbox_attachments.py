"""outbox attachments and copy: the people's CSV joined to an email, teachers in Cc (issue 11)

Revision ID: 0007_attachments
Revises: 0002_liveness
Create Date: 2026-12-06 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_attachments"
down_revision = "0002_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("copy_recipients", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("copy_recipients")
        batch_op.drop_column("attachments")
