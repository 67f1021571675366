"""PostgreSQL refuses TRUNCATE of the append-only audit log (migration 0010); SQLite has
no TRUNCATE, and its DELETE without WHERE is refused by 0002's triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.service.world import build_world
from yibao.store.models import AuditEntry


def test_the_audit_log_cannot_be_truncated(db):
    if not db.is_postgres:
        pytest.skip("TRUNCATE is a PostgreSQL statement")
    build_world(db)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(text("TRUNCATE audit_log"))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) > 0
