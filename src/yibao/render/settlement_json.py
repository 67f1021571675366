"""Settlements as the contract's JSON: yuan with two decimals, ratios with four."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from yibao.engine.result import SetlInfo, Settlement
from yibao.engine.state import YearToDate
from yibao.money import fen_to_yuan

SETLINFO_FIELDS = [f.name for f in fields(SetlInfo)]


def setlinfo_dict(info: SetlInfo) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for name in SETLINFO_FIELDS:
        value = getattr(info, name)
        out[name] = value if isinstance(value, Decimal) else fen_to_yuan(value)
    return out


def fund_detail_dict(d: Any) -> dict[str, Any]:
    """A `setldetail` row (engine FundDetail or stored SettlementFund: same attribute names)."""
    return {
        "fund_pay_type": d.fund_pay_type,
        "fund_pay_type_name": d.fund_pay_type_name,
        "inscp_scp_amt": fen_to_yuan(d.inscp_scp_amt),
        "fund_payamt": fen_to_yuan(d.fund_payamt),
        "setl_proc_info": d.setl_proc_info,
    }


def line_dict(line: Any) -> dict[str, Any]:
    """A claim line's buckets (engine LineResult or stored SettlementLine), national names."""
    return {
        "code": line.code,
        "name": line.name,
        "chrgitm_lv": line.category,
        "det_item_fee_sumamt": fen_to_yuan(line.amount),
        "fulamt_ownpay_amt": fen_to_yuan(line.fulamt_ownpay_amt),
        "overlmt_amt": fen_to_yuan(line.overlmt_selfpay),
        "preselfpay_amt": fen_to_yuan(line.preselfpay_amt),
        "inscp_scp_amt": fen_to_yuan(line.inscp_scp_amt),
        "memo": line.note,
    }


def settlement_dict(s: Settlement, with_lines: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "claim_id": s.claim_id,
        "policy_version": s.policy_version,
        "setl_time": s.setl_date,
        "insutype": s.insutype,
        "med_type": s.med_type,
        "setlinfo": setlinfo_dict(s.setlinfo),
        "setldetail": [fund_detail_dict(d) for d in s.setldetail],
    }
    if with_lines:
        out["lines"] = [line_dict(line) for line in s.lines]
    out["trace"] = [{"rule": t.rule, "source": t.source, "detail": t.detail} for t in s.trace]
    return out


def ytd_dict(state: YearToDate) -> dict[str, Any]:
    return {
        "year": state.year,
        "amounts": {k: fen_to_yuan(v) for k, v in sorted(state.amounts.items())},
        "counts": dict(sorted(state.counts.items())),
        "groups_seen": sorted(state.groups_seen),
        "account_balance": fen_to_yuan(state.account_balance),
        "family_balances": {k: fen_to_yuan(v) for k, v in sorted(state.family_balances.items())},
    }


def result_dict(
    region: str, person_id: str, settlements: list[Settlement], state: YearToDate
) -> dict[str, Any]:
    return {
        "region": region,
        "person_id": person_id,
        "settlements": [settlement_dict(s) for s in settlements],
        "year_to_date": ytd_dict(state),
    }
