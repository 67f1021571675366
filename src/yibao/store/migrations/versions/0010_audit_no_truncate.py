"""audit log is append-only on PostgreSQL against TRUNCATE too

0002's row triggers refuse UPDATE and DELETE, but TRUNCATE fires no row trigger: a
statement-level BEFORE TRUNCATE trigger refuses it with the same message. SQLite has no
TRUNCATE (its DELETE without WHERE fires 0002's triggers): nothing to do there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # audit_log_append_only() (0002) raises "audit_log is append-only" for any trigger
    op.execute("""
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
