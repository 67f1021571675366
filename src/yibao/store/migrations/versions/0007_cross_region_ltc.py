"""cross-region filings and clearing; long-term care assessments and episodes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "cross_region_filings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("insured_region", sa.String(length=20), nullable=False),
        sa.Column("treating_region", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_cross_region_filings_person",
        "cross_region_filings",
        ["person_id", "treating_region"],
    )
    op.create_table(
        "cross_region_clearing_runs",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("nets", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "cross_region_clearing_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("insured_region", sa.String(length=20), nullable=False),
        sa.Column("treating_region", sa.String(length=20), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("medfee_fen", sa.BigInteger(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["month"], ["cross_region_clearing_runs.month"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "insured_region", "treating_region"),
    )
    op.create_table(
        "ltc_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=30), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("assessor", sa.String(length=100), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ltc_assessments_person_id", "ltc_assessments", ["person_id"])
    op.create_table(
        "ltc_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.String(length=30), nullable=False),
        sa.Column("institution_code", sa.String(length=30), nullable=True),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("care_type", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("billed_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_fen", sa.BigInteger(), nullable=False),
        sa.Column("person_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["institution_code"], ["institutions.code"]),
        sa.ForeignKeyConstraint(["assessment_id"], ["ltc_assessments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id"),
    )
    op.create_index("ix_ltc_claims_person_id", "ltc_claims", ["person_id"])
    op.create_index("ix_ltc_claims_institution_code", "ltc_claims", ["institution_code"])


def downgrade() -> None:
    op.drop_index("ix_ltc_claims_institution_code", table_name="ltc_claims")
    op.drop_index("ix_ltc_claims_person_id", table_name="ltc_claims")
    op.drop_table("ltc_claims")
    op.drop_index("ix_ltc_assessments_person_id", table_name="ltc_assessments")
    op.drop_table("ltc_assessments")
    op.drop_table("cross_region_clearing_lines")
    op.drop_table("cross_region_clearing_runs")
    op.drop_index("ix_cross_region_filings_person", table_name="cross_region_filings")
    op.drop_table("cross_region_filings")
