"""Tables of the online service. Money columns are integer fen (BigInteger), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Person(Base):
    """An insured person (参保人) and their enrollment; `id` is the national psn_no."""

    __tablename__ = "persons"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    region: Mapped[str] = mapped_column(String(20))
    scheme: Mapped[str] = mapped_column(String(10))
    employment: Mapped[str | None] = mapped_column(String(12))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    certno: Mapped[str | None] = mapped_column(String(18), index=True)
    name: Mapped[str | None] = mapped_column(String(50))
    flags: Mapped[list[Any]] = mapped_column(default=list)
    products: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class PersonCategory(Base):
    """A special-population status with its validity (低保 from March to October)."""

    __tablename__ = "person_categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class Account(Base):
    """A personal account (个人账户) balance; every change has a ledger entry."""

    __tablename__ = "accounts"
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class AccountEntry(Base):
    """Ledger of an account: credits (+), payments (−), reversals; `beneficiary_id` for 共济."""

    __tablename__ = "account_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    setl_id: Mapped[str | None] = mapped_column(String(30), index=True)
    beneficiary_id: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _now()


class FamilyBinding(Base):
    """A relative whose account may pay this person's costs (家庭共济, EH-06)."""

    __tablename__ = "family_bindings"
    __table_args__ = (UniqueConstraint("person_id", "holder_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(10))


class Institution(Base):
    """A designated institution (定点医药机构)."""

    __tablename__ = "institutions"
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[dt.datetime] = _now()


class Credential(Base):
    """An API key (stored as its SHA-256) and the role it grants."""

    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))
    institution_code: Mapped[str | None] = mapped_column(ForeignKey("institutions.code"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _now()


class Visit(Base):
    """A registered visit (就诊, mdtrt_id) and its uploaded fee lines (2201/2203/2204/2301)."""

    __tablename__ = "visits"
    mdtrt_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"))
    med_type: Mapped[str] = mapped_column(String(6))
    begin_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    items: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = _now()


class Accumulator(Base):
    """A person's year-to-date accumulators: the row every settlement locks (FOR UPDATE)."""

    __tablename__ = "accumulators"
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amounts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    groups_seen: Mapped[list[Any]] = mapped_column(default=list)
    settlements: Mapped[int] = mapped_column(Integer, default=0)


AMOUNT_COLUMNS = [
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
]


# the settlements ux_settlements_claim_once covers: a claim-path claim not reversed
SETTLED_ONCE = "status = 'settled' AND claim_key IS NOT NULL"


class Settlement(Base):
    """A settlement (结算) or its reversal (status `reversal`, amounts negated).

    `status`: `settled`, then `reversed` once reversed; the reversal row is `reversal`.
    `claim_key`: the claim id of a claim-path settlement, so one claim is `settled` at most
    once per institution and person (`ux_settlements_claim_once`, migration 0009); NULL for
    the national visit flow, whose batches share the visit's id and settle each fee line
    once by reservation, and for reversal rows."""

    __tablename__ = "settlements"
    __table_args__ = (
        Index("ix_settlements_inst_date", "institution_code", "setl_date"),
        Index(
            "ux_settlements_claim_once",
            "institution_code",
            "person_id",
            "claim_key",
            unique=True,
            postgresql_where=text(SETTLED_ONCE),
            sqlite_where=text(SETTLED_ONCE),
        ),
    )
    setl_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"))
    mdtrt_id: Mapped[str | None] = mapped_column(String(30), index=True)
    claim_id: Mapped[str] = mapped_column(String(60))
    claim_key: Mapped[str | None] = mapped_column(String(60))
    msgid: Mapped[str | None] = mapped_column(String(60), index=True)
    med_type: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(6))
    setl_date: Mapped[dt.date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="settled")
    reverses_setl_id: Mapped[str | None] = mapped_column(String(30))
    medfee_sumamt: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_amt: Mapped[int] = mapped_column(BigInteger)
    overlmt_selfpay: Mapped[int] = mapped_column(BigInteger)
    preselfpay_amt: Mapped[int] = mapped_column(BigInteger)
    inscp_scp_amt: Mapped[int] = mapped_column(BigInteger)
    act_pay_dedc: Mapped[int] = mapped_column(BigInteger)
    hifp_pay: Mapped[int] = mapped_column(BigInteger)
    pool_prop_selfpay: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    cvlserv_pay: Mapped[int] = mapped_column(BigInteger)
    hifes_pay: Mapped[int] = mapped_column(BigInteger)
    hifmi_pay: Mapped[int] = mapped_column(BigInteger)
    hifob_pay: Mapped[int] = mapped_column(BigInteger)
    maf_pay: Mapped[int] = mapped_column(BigInteger)
    oth_pay: Mapped[int] = mapped_column(BigInteger)
    fund_pay_sumamt: Mapped[int] = mapped_column(BigInteger)
    psn_part_amt: Mapped[int] = mapped_column(BigInteger)
    acct_pay: Mapped[int] = mapped_column(BigInteger)
    acct_mulaid_pay: Mapped[int] = mapped_column(BigInteger)
    psn_cash_pay: Mapped[int] = mapped_column(BigInteger)
    balc: Mapped[int] = mapped_column(BigInteger)
    ytd_delta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trace: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = _now()


class SettlementLine(Base):
    __tablename__ = "settlement_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    setl_id: Mapped[str] = mapped_column(ForeignKey("settlements.setl_id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(1))
    amount: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_amt: Mapped[int] = mapped_column(BigInteger)
    overlmt_selfpay: Mapped[int] = mapped_column(BigInteger)
    preselfpay_amt: Mapped[int] = mapped_column(BigInteger)
    inscp_scp_amt: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")


class SettlementFund(Base):
    __tablename__ = "settlement_funds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    setl_id: Mapped[str] = mapped_column(ForeignKey("settlements.setl_id"), index=True)
    fund_pay_type: Mapped[str] = mapped_column(String(6))
    fund_pay_type_name: Mapped[str] = mapped_column(String(100))
    inscp_scp_amt: Mapped[int] = mapped_column(BigInteger)
    fund_payamt: Mapped[int] = mapped_column(BigInteger)
    setl_proc_info: Mapped[str] = mapped_column(Text, default="")


class Idempotency(Base):
    """The first answer to a caller's message id (msgid); a retry gets it back unchanged.
    Each caller's msgids are its own: another caller's same msgid is another message."""

    __tablename__ = "idempotency"
    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    msgid: Mapped[str] = mapped_column(String(60), primary_key=True)
    infno: Mapped[str] = mapped_column(String(10))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    # sha256 of the request (`service.messages`): the msgid sent with another one is refused
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEntry(Base):
    """Append-only audit log: who did what, to what, when (ID numbers masked)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = _now()
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
