"""Tables of institution payment: agreements (协议) and their payment methods, the deposit
(保证金) ledger, annual assessments, budgets and year-end statements. Money is BigInteger fen.

Uniqueness makes the year-end job idempotent: one statement per (institution, year), one
assessment per (institution, year), one budget per (institution, year).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base


class Agreement(Base):
    """A service agreement with a designated institution, its term and current status."""

    __tablename__ = "payment_agreements"
    __table_args__ = (UniqueConstraint("institution_code", "valid_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ownership: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    suspended_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class PaymentMethod(Base):
    """A payment method an agreement assigns (drg, single_disease, capitation)."""

    __tablename__ = "payment_methods"
    __table_args__ = (UniqueConstraint("agreement_id", "method"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("payment_agreements.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    persons: Mapped[int] = mapped_column(Integer, default=0)  # capitation: contracted persons


class Assessment(Base):
    """The annual assessment of an institution and the status and sanctions it gave."""

    __tablename__ = "institution_assessments"
    __table_args__ = (UniqueConstraint("institution_code", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    sanctions: Mapped[list[Any]] = mapped_column(default=list)
    deposit_deduction: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Budget(Base):
    """An institution-year's global budget and its VBP budget and manufacturer payments."""

    __tablename__ = "institution_budgets"
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget: Mapped[int] = mapped_column(BigInteger)
    vbp_budget: Mapped[int] = mapped_column(BigInteger, default=0)
    vbp_paid: Mapped[int] = mapped_column(BigInteger, default=0)


class DepositEntry(Base):
    """The deposit ledger: withheld (+, by month), deducted, returned, forfeited (−)."""

    __tablename__ = "deposit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")


class YearEndStatement(Base):
    """One institution-year's statement: the main totals as columns, every line as JSON."""

    __tablename__ = "year_end_statements"
    __table_args__ = (UniqueConstraint("institution_code", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(20))
    actual: Mapped[int] = mapped_column(BigInteger)
    payable: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    totals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lines: Mapped[list[Any]] = mapped_column(default=list)
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
