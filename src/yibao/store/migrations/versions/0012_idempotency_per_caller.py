"""a msgid is the caller's own: the stored answers are keyed by (caller, msgid)

A national msgid begins with the institution's code and a timestamp, so another caller can
guess it. Keyed by msgid alone, any caller could take an institution's next msgid first and
have that institution's request refused (and learn from the refusal which msgids it used).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _key_by("caller", "msgid")


def downgrade() -> None:
    # fails if two callers have since used one msgid: which answer to keep is not ours to pick
    _key_by("msgid")


def _key_by(*columns: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("idempotency_pkey", "idempotency", type_="primary")
        op.create_primary_key("idempotency_pkey", "idempotency", list(columns))
        return
    # SQLite cannot alter a primary key: the table is copied into one of this shape
    with op.batch_alter_table("idempotency", copy_from=_table(columns), recreate="always"):
        pass


def _table(key: tuple[str, ...]) -> sa.Table:
    return sa.Table(
        "idempotency",
        sa.MetaData(),
        sa.Column("msgid", sa.String(60), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("infno", sa.String(10), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint(*key),
    )
