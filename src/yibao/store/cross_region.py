"""Tables of cross-region direct settlement: filings (备案) and monthly clearing runs (清算).

Money columns are integer fen. A clearing run is unique per month and its lines unique per
(month, insured region, treating region): re-running a month cannot write a second copy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base


class CrossRegionFiling(Base):
    """A person's filing of out-of-region treatment: kind, where, and for how long."""

    __tablename__ = "cross_region_filings"
    __table_args__ = (Index("ix_cross_region_filings_person", "person_id", "treating_region"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(12))
    insured_region: Mapped[str] = mapped_column(String(20))
    treating_region: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ClearingRun(Base):
    """One month's clearing: `running` until every pair's line is written, then `done`."""

    __tablename__ = "cross_region_clearing_runs"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="running")
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    gross_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    nets: Mapped[list[Any]] = mapped_column(default=list)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ClearingLine(Base):
    """Gross amount the insured region owes the treating region for one month."""

    __tablename__ = "cross_region_clearing_lines"
    __table_args__ = (UniqueConstraint("month", "insured_region", "treating_region"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(ForeignKey("cross_region_clearing_runs.month"))
    insured_region: Mapped[str] = mapped_column(String(20))
    treating_region: Mapped[str] = mapped_column(String(20))
    visits: Mapped[int] = mapped_column(Integer)
    medfee_fen: Mapped[int] = mapped_column(BigInteger)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
