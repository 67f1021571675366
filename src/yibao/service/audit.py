"""Append-only audit log entries, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from yibao.service.principal import Principal
from yibao.store.models import AuditEntry


def record(session: Session, who: Principal, action: str, target: str, **detail: Any) -> None:
    session.add(
        AuditEntry(actor=who.name, role=who.role, action=action, target=target, detail=detail)
    )
