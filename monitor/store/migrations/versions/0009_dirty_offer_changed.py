"""dirty ELP offer_changed: an ELP whose own row changed is checked first (issue 13)

Revision ID: 0009_dirty_offer_changed
Revises: 0008_cause_label
Create Date: 2026-12-06 07:50:00

Under steady traffic the ahead passes are busy with ELPs their students' rows
marked; an ELP created, edited or deleted in the offer (the archive the mission
is about) is claimed before them, in a pass of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_dirty_offer_changed"
down_revision = "0008_cause_label"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dirty_elp", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offer_changed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("dirty_elp", schema=None) as batch_op:
        batch_op.drop_column("offer_changed")
