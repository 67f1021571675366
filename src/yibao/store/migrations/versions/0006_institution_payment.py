"""agreements, deposits, assessments, budgets and institution payments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def _institution(primary_key: bool = False) -> sa.Column:
    return sa.Column(
        "institution_code",
        sa.String(length=30),
        sa.ForeignKey("institutions.code"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "payment_agreements",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        _institution(),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ownership", sa.String(length=10), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        _created_at(),
        sa.UniqueConstraint("institution_code", "valid_from"),
    )
    op.create_index(
        "ix_payment_agreements_institution_code", "payment_agreements", ["institution_code"]
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column(
            "agreement_id", sa.Integer(), sa.ForeignKey("payment_agreements.id"), nullable=False
        ),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.UniqueConstraint("agreement_id", "method"),
    )
    op.create_index("ix_payment_methods_agreement_id", "payment_methods", ["agreement_id"])
    op.create_table(
        "institution_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        _institution(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=False),
        sa.Column("veto", sa.Boolean(), nullable=False),
        sa.Column("sanctions", sa.JSON(), nullable=False),
        sa.Column("deposit_deduction", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        _created_at(),
        sa.UniqueConstraint("institution_code", "year"),
    )
    op.create_index(
        "ix_institution_assessments_institution_code",
        "institution_assessments",
        ["institution_code"],
    )
    op.create_table(
        "institution_budgets",
        _institution(primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("vbp_budget", sa.BigInteger(), nullable=False),
        sa.Column("vbp_paid", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "deposit_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        _institution(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
    )
    op.create_index("ix_deposit_entries_institution_code", "deposit_entries", ["institution_code"])
    op.create_table(
        "year_end_statements",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        _institution(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("actual", sa.BigInteger(), nullable=False),
        sa.Column("payable", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        _created_at(),
        sa.UniqueConstraint("institution_code", "year"),
    )
    op.create_index(
        "ix_year_end_statements_institution_code", "year_end_statements", ["institution_code"]
    )


def downgrade() -> None:
    op.drop_index("ix_year_end_statements_institution_code", "year_end_statements")
    op.drop_table("year_end_statements")
    op.drop_index("ix_deposit_entries_institution_code", "deposit_entries")
    op.drop_table("deposit_entries")
    op.drop_table("institution_budgets")
    op.drop_index("ix_institution_assessments_institution_code", "institution_assessments")
    op.drop_table("institution_assessments")
    op.drop_index("ix_payment_methods_agreement_id", "payment_methods")
    op.drop_table("payment_methods")
    op.drop_index("ix_payment_agreements_institution_code", "payment_agreements")
    op.drop_table("payment_agreements")
