"""contribution units, bases and bills; monthly account crediting runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "contribution_units",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("entrusted", sa.Boolean(), nullable=False),
        sa.Column("in_service_count", sa.Integer(), nullable=False),
        sa.Column("retiree_count", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "contribution_bases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=30), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("unit_id", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["contribution_units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "month", name="uq_contribution_base"),
    )
    op.create_index("ix_contribution_bases_person_id", "contribution_bases", ["person_id"])
    op.create_table(
        "contribution_bills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("payer_key", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("employer_fen", sa.BigInteger(), nullable=False),
        sa.Column("personal_fen", sa.BigInteger(), nullable=False),
        sa.Column("government_fen", sa.BigInteger(), nullable=False),
        sa.Column("assistance_fen", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("bill", sa.JSON(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payer_key", "period", name="uq_contribution_bill"),
    )
    op.create_table(
        "crediting_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("credited", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region", "month", name="uq_crediting_run"),
    )
    op.create_table(
        "account_credits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=30), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["account_entries.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["crediting_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "month", "kind", name="uq_account_credit"),
    )
    op.create_index("ix_account_credits_person_id", "account_credits", ["person_id"])
    op.create_table(
        "account_payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=30), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["payer_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["beneficiary_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["account_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("beneficiary_id", "purpose", "year", name="uq_account_payment"),
    )
    op.create_index("ix_account_payments_payer_id", "account_payments", ["payer_id"])


def downgrade() -> None:
    op.drop_index("ix_account_payments_payer_id", table_name="account_payments")
    op.drop_table("account_payments")
    op.drop_index("ix_account_credits_person_id", table_name="account_credits")
    op.drop_table("account_credits")
    op.drop_table("crediting_runs")
    op.drop_table("contribution_bills")
    op.drop_index("ix_contribution_bases_person_id", table_name="contribution_bases")
    op.drop_table("contribution_bases")
    op.drop_table("contribution_units")
