"""Tables of contributions and account crediting (migration 0005). Money is BigInteger fen.

Unique keys make the jobs idempotent: one bill per (payer, period), one base per (person,
month), one crediting run per (region, month), one credit per (person, month, kind) and one
family contribution payment per (beneficiary, purpose, year).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class ContributionUnit(Base):
    """A contributing unit (参保单位): its kind and its in-service / retiree headcounts."""

    __tablename__ = "contribution_units"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    region: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(10))  # normal / difficult / bankrupt
    entrusted: Mapped[bool] = mapped_column(default=False)
    in_service_count: Mapped[int] = mapped_column(Integer, default=0)
    retiree_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = _now()


class ContributionBase(Base):
    """A person's monthly contribution base (缴费基数) and status, as the unit declared it."""

    __tablename__ = "contribution_bases"
    __table_args__ = (UniqueConstraint("person_id", "month", name="uq_contribution_base"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("contribution_units.id"))
    status: Mapped[str] = mapped_column(String(12))  # in_service / retired / single_pooling
    base_fen: Mapped[int | None] = mapped_column(BigInteger)


class ContributionBill(Base):
    """An issued bill; re-issuing the same payer and period returns it, a different one is
    refused (never replaced silently)."""

    __tablename__ = "contribution_bills"
    __table_args__ = (UniqueConstraint("payer_key", "period", name="uq_contribution_bill"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(20))
    payer_key: Mapped[str] = mapped_column(String(40))  # unit:<id> or person:<psn_no>
    period: Mapped[str] = mapped_column(String(7))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    employer_fen: Mapped[int] = mapped_column(BigInteger)
    personal_fen: Mapped[int] = mapped_column(BigInteger)
    government_fen: Mapped[int] = mapped_column(BigInteger)
    assistance_fen: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    bill: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = _now()


class CreditingRun(Base):
    """A monthly crediting job of a region: progress survives a crash, then it resumes."""

    __tablename__ = "crediting_runs"
    __table_args__ = (UniqueConstraint("region", "month", name="uq_crediting_run"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default="running")  # running / done
    credited: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = _now()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AccountCredit(Base):
    """One month's credit of one person, tied to its ledger entry: never twice."""

    __tablename__ = "account_credits"
    __table_args__ = (UniqueConstraint("person_id", "month", "kind", name="uq_account_credit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))  # monthly
    basis: Mapped[str] = mapped_column(String(12))  # in_service / retiree
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    base_fen: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("account_entries.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crediting_runs.id"))


class AccountPayment(Base):
    """A family member's contribution paid from a holder's account (EH-07), once a year."""

    __tablename__ = "account_payments"
    __table_args__ = (
        UniqueConstraint("beneficiary_id", "purpose", "year", name="uq_account_payment"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payer_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    beneficiary_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("account_entries.id"))
    created_at: Mapped[dt.datetime] = _now()
