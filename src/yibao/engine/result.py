"""What a settlement produces: national `setlinfo` amounts (fen), fund details, the trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One step of a settlement: which rule, where it comes from, what it did."""

    rule: str
    source: str
    detail: str


@dataclass(frozen=True, slots=True)
class FundDetail:
    """One `setldetail` row: a fund, the in-scope amount it saw and what it paid."""

    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: int
    fund_payamt: int
    setl_proc_info: str


@dataclass(frozen=True, slots=True)
class LineResult:
    """A claim line split into the four buckets (their sum is the line amount)."""

    code: str
    name: str
    category: str
    amount: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    note: str


@dataclass(slots=True)
class SetlInfo:
    """Settlement amounts in fen, named as the national platform names them."""

    medfee_sumamt: int = 0
    fulamt_ownpay_amt: int = 0
    overlmt_selfpay: int = 0
    preselfpay_amt: int = 0
    inscp_scp_amt: int = 0
    act_pay_dedc: int = 0
    hifp_pay: int = 0
    pool_prop_selfpay: Decimal = Decimal(0)
    cvlserv_pay: int = 0
    hifes_pay: int = 0
    hifmi_pay: int = 0
    hifob_pay: int = 0
    maf_pay: int = 0
    oth_pay: int = 0
    fund_pay_sumamt: int = 0
    psn_part_amt: int = 0
    acct_pay: int = 0
    acct_mulaid_pay: int = 0
    psn_cash_pay: int = 0
    balc: int = 0


@dataclass(slots=True)
class Settlement:
    claim_id: str
    policy_version: str
    med_type: str
    insutype: str
    setl_date: str
    setlinfo: SetlInfo
    setldetail: list[FundDetail] = field(default_factory=list)
    lines: list[LineResult] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)
    # the disease groups the claim showed (not rendered): a reversal keeps a group in the
    # year's `groups_seen` while another standing settlement showed it
    groups_claimed: frozenset[str] = frozenset()
