"""Supervision cases (稽核案件): a case, the flags it was opened from, and its append-only steps.

Money columns are integer fen (BigInteger). The case row holds the current state; every
change of it is also a row of `supervision_case_steps`, which the database refuses to update
or delete (migration 0004), so the history of a case cannot be rewritten.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base


class SupervisionCase(Base):
    """One case: a flag (or several of one rule, institution and person) with its evidence."""

    __tablename__ = "supervision_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(12))
    region: Mapped[str | None] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(30), index=True)
    institution: Mapped[str | None] = mapped_column(String(30), index=True)
    claim_ids: Mapped[list[Any]] = mapped_column(default=list)
    flags: Mapped[list[Any]] = mapped_column(default=list)  # the flags, evidence copied in
    basis: Mapped[str] = mapped_column(Text, default="")
    amount_at_risk: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    re_reviewed_by: Mapped[str | None] = mapped_column(String(100))
    appeal_deadline: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(12))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    steps: Mapped[int] = mapped_column(Integer, default=0)  # seq of the newest step
    opened_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CaseFlag(Base):
    """A flag's natural key (`cases.flags.natural_key`: rule, region, person, institution, sorted
    claim ids) → the one case of it; keys stored before region joined it lack the region."""

    __tablename__ = "supervision_case_flags"
    flag_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)


class CaseStep(Base):
    """One step of a case (open, review, re_review, appeal, decision, recovery); append-only.

    (case_id, seq) is unique: two concurrent steps on one case cannot both be accepted."""

    __tablename__ = "supervision_case_steps"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_steps_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))
    day: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(12))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
