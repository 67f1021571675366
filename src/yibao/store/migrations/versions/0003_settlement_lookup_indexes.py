"""indexes for settlement lookups by visit (mdtrt_id) and by message id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_settlements_mdtrt_id", "settlements", ["mdtrt_id"])
    op.create_index("ix_settlements_msgid", "settlements", ["msgid"])


def downgrade() -> None:
    op.drop_index("ix_settlements_msgid", "settlements")
    op.drop_index("ix_settlements_mdtrt_id", "settlements")
