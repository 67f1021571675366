"""supervision cases: flags under review, their steps and recoveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STEPS = "supervision_case_steps"
MESSAGE = f"{STEPS} is append-only"


def _now() -> sa.Column:
    return sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "supervision_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=True),
        sa.Column("person_id", sa.String(length=30), nullable=True),
        sa.Column("institution", sa.String(length=30), nullable=True),
        sa.Column("claim_ids", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("amount_at_risk", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("re_reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("appeal_deadline", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("recovered", sa.BigInteger(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        _now(),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("rule", "person_id", "institution", "status"):
        op.create_index(f"ix_supervision_cases_{column}", "supervision_cases", [column])
    op.create_table(
        "supervision_case_flags",
        sa.Column("flag_key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["supervision_cases.id"]),
        sa.PrimaryKeyConstraint("flag_key"),
    )
    op.create_index("ix_supervision_case_flags_case_id", "supervision_case_flags", ["case_id"])
    op.create_table(
        STEPS,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["case_id"], ["supervision_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_steps_seq"),
    )
    op.create_index(f"ix_{STEPS}_case_id", STEPS, ["case_id"])
    _append_only()


def _append_only() -> None:
    """UPDATE and DELETE of a step are refused by the database (as for audit_log, 0002)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {STEPS}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql
        """)
        op.execute(f"""
            CREATE TRIGGER {STEPS}_no_change BEFORE UPDATE OR DELETE ON {STEPS}
            FOR EACH ROW EXECUTE FUNCTION {STEPS}_append_only()
        """)
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER {STEPS}_no_{event.lower()} BEFORE {event} ON {STEPS}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {STEPS}_no_change ON {STEPS}")
        op.execute(f"DROP FUNCTION {STEPS}_append_only()")
    else:
        op.execute(f"DROP TRIGGER {STEPS}_no_update")
        op.execute(f"DROP TRIGGER {STEPS}_no_delete")
    op.drop_table(STEPS)
    op.drop_table("supervision_case_flags")
    op.drop_table("supervision_cases")
