"""Append-only audit log entries, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.service.errors import Forbidden
from yibao.service.identity import shown_id
from yibao.service.principal import Principal
from yibao.store.db import Database
from yibao.store.models import AuditEntry


def row(who: Principal, action: str, target: str, **detail: Any) -> dict[str, Any]:
    """The audit entry's columns: who (name, role), what (action, target, detail)."""
    if isinstance(psn_no := detail.get("psn_no"), str):
        # a person id that is an ID number (enrolled before such ids were refused) is
        # masked here once, whichever use case writes it
        detail["psn_no"] = shown_id(psn_no)
    return {
        "actor": who.name,
        "role": who.role,
        "action": action,
        "target": target,
        "detail": detail,
    }


def record(session: Session, who: Principal, action: str, target: str, **detail: Any) -> None:
    session.add(AuditEntry(**row(who, action, target, **detail)))


def entries(
    db: Database, who: Principal, limit: int = 100, action: str | None = None
) -> list[dict[str, Any]]:
    """The newest audit entries (bureau and auditors only)."""
    if who.role not in ("bureau", "auditor"):
        raise Forbidden("only the bureau and auditors read the audit log")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    with db.sessions() as session:
        return [
            {
                "id": row.id,
                "at": row.at.isoformat() if row.at else None,
                "actor": row.actor,
                "role": row.role,
                "action": row.action,
                "target": row.target,
                "detail": row.detail,
            }
            for row in session.scalars(query).all()
        ]
