"""Tables of long-term care insurance: disability assessments and care claims (money in fen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base


class LtcAssessment(Base):
    """A disability assessment (失能评估): the level found, by whom, valid until when."""

    __tablename__ = "ltc_assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    assessor: Mapped[str] = mapped_column(String(100))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LtcClaim(Base):
    """A care episode paid by the LTC fund; `claim_id` is the provider's unique reference."""

    __tablename__ = "ltc_claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(60), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str | None] = mapped_column(
        ForeignKey("institutions.code"), index=True
    )
    assessment_id: Mapped[int] = mapped_column(ForeignKey("ltc_assessments.id"))
    scheme: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    care_type: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    billed_fen: Mapped[int] = mapped_column(BigInteger)
    fund_fen: Mapped[int] = mapped_column(BigInteger)
    person_fen: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
