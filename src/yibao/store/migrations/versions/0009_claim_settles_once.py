"""a claim settles once per (institution, person, claim id)

A claim-path settlement (`{psn_no, claim}`) stores its claim id in `claim_key` as well; a
partial unique index lets one settlement per (institution, person, claim_key) be `settled`
at a time. A reversed original (`reversed`) and the reversal row (`reversal`) fall outside
it, so a reversed claim can be settled again. The national visit flow leaves `claim_key`
NULL: its claim id is the visit's mdtrt_id, which several batches of the visit's uploaded
lines share (each line settles once by reservation), so `claim_id` itself cannot be unique.

Existing rows: claim-path rows (no mdtrt_id) get their key, except a settled duplicate of an
earlier settled row, which keeps NULL (the index could not be built otherwise; a clerk
reverses it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SETTLED_ONCE = "status = 'settled' AND claim_key IS NOT NULL"


def upgrade() -> None:
    op.add_column("settlements", sa.Column("claim_key", sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE settlements SET claim_key = claim_id "
        "WHERE mdtrt_id IS NULL AND status <> 'reversal'"
    )
    op.execute(
        "UPDATE settlements SET claim_key = NULL WHERE status = 'settled' "
        "AND claim_key IS NOT NULL AND EXISTS (SELECT 1 FROM settlements AS o "
        "WHERE o.status = 'settled' AND o.claim_key = settlements.claim_key "
        "AND o.institution_code = settlements.institution_code "
        "AND o.person_id = settlements.person_id AND o.setl_id < settlements.setl_id)"
    )
    op.create_index(
        "ux_settlements_claim_once",
        "settlements",
        ["institution_code", "person_id", "claim_key"],
        unique=True,
        postgresql_where=sa.text(SETTLED_ONCE),
        sqlite_where=sa.text(SETTLED_ONCE),
    )


def downgrade() -> None:
    op.drop_index("ux_settlements_claim_once", "settlements")
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_column("claim_key")
