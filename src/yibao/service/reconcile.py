"""Reconciliation (对账): totals by fund type and institution over days, and the detail list.

Reversals are stored with negated amounts and dated the day they happen, so a settlement
and its reversal net to zero over a range that holds both, and a range already reconciled
does not change when a settlement in it is reversed later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from yibao.money import fen_to_yuan
from yibao.policy.loader import admdvs_of
from yibao.service.errors import Forbidden, ServiceError
from yibao.service.output import CLR_TYPE, OTHER_CLR_TYPE
from yibao.service.principal import Principal
from yibao.store.db import Database
from yibao.store.models import Institution, Settlement, SettlementFund

TOTAL_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")

# 险种类型 (nhsa.md §3 insutype): the national table. yibao's settlements carry 310 or 390;
# another national code selects nothing, a code outside the table is refused.
INSUTYPES = {
    "310": "职工基本医疗保险",
    "320": "公务员医疗补助",
    "330": "大额医疗费用补助",
    "340": "离休人员医疗保障",
    "350": "一至六级残废军人医疗补助",
    "360": "老红军医疗保障",
    "370": "企业补充医疗保险",
    "380": "新型农村合作医疗",
    "390": "城乡居民基本医疗保险",
    "391": "城镇居民基本医疗保险",
    "392": "城乡居民大病医疗保险",
    "399": "其他特殊人员医疗保障",
    "410": "长期照护保险",
    "510": "生育保险",
}
# 清算类别 (nhsa.md §3 clr_type) → the engine's med_types it covers (output.CLR_TYPE)
CLR_TYPES = sorted({*CLR_TYPE.values(), OTHER_CLR_TYPE})


@dataclass(frozen=True)
class Selection:
    """The settlements a 3201 statement covers beyond its dates: one 险种 (insutype) and
    one 清算类别 (clr_type), each when given."""

    insutype: str | None = None
    clr_type: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """SQL conditions on settlements; unknown codes are refused."""
        where = []
        if self.insutype:
            if self.insutype not in INSUTYPES:
                known = ", ".join(INSUTYPES)
                raise ServiceError(f"insutype: {self.insutype} is not a 险种类型 code ({known})")
            where.append(Settlement.insutype == self.insutype)
        if self.clr_type:
            where.append(_clr_type_where(self.clr_type))
        return where


def _clr_type_where(code: str) -> ColumnElement[bool]:
    """Settlements of clearing type `code`, as each settlement answer's clr_type says."""
    if code not in CLR_TYPES:
        raise ServiceError(f"clr_type: {code} is not a 清算类别 code ({', '.join(CLR_TYPES)})")
    if code == OTHER_CLR_TYPE:
        return Settlement.med_type.not_in(sorted(CLR_TYPE))
    return Settlement.med_type.in_(sorted(m for m, c in CLR_TYPE.items() if c == code))


def check_period(begin: dt.date, end: dt.date) -> None:
    """A range of settlement dates runs forward (refused, not answered with nothing)."""
    if end < begin:
        raise ServiceError(f"end: {end} is before begin {begin}")


def reconcile(
    db: Database,
    who: Principal,
    begin: dt.date,
    end: dt.date,
    institution: str | None = None,
    with_details: bool = False,
    selection: Selection = Selection(),
) -> dict[str, Any]:
    """Totals for one institution (an institution caller: always itself) or all of them,
    of the settlements `selection` selects (all by default)."""
    check_period(begin, end)
    if who.role == "institution":
        if institution not in (None, who.institution_code):
            raise Forbidden("an institution reconciles only its own settlements")
        institution = who.institution_code
    where = [Settlement.setl_date >= begin, Settlement.setl_date <= end, *selection.where()]
    if institution:
        where.append(Settlement.institution_code == institution)
    with db.sessions() as session:
        totals = session.execute(
            select(
                func.count(),
                *[func.coalesce(func.sum(getattr(Settlement, f)), 0) for f in TOTAL_FIELDS],
            ).where(*where)
        ).one()
        answer: dict[str, Any] = {
            "stmt_begndate": begin.isoformat(),
            "stmt_enddate": end.isoformat(),
            "fixmedins_code": institution,
            "setl_cnt": totals[0],
            **{f: fen_to_yuan(int(v)) for f, v in zip(TOTAL_FIELDS, totals[1:], strict=True)},
            "funds": _fund_totals(session, where),
        }
        if with_details:
            answer["details"] = _details(session, where)
    return answer


def _fund_totals(session: Session, where: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    """What each fund type paid over the settlements selected by `where`."""
    funds = session.execute(
        select(
            SettlementFund.fund_pay_type,
            SettlementFund.fund_pay_type_name,
            func.sum(SettlementFund.fund_payamt),
        )
        .join(Settlement, Settlement.setl_id == SettlementFund.setl_id)
        .where(*where)
        .group_by(SettlementFund.fund_pay_type, SettlementFund.fund_pay_type_name)
        .order_by(SettlementFund.fund_pay_type)
    ).all()
    return [
        {
            "fund_pay_type": code,
            "fund_pay_type_name": name,
            "fund_payamt": fen_to_yuan(int(total)),
        }
        for code, name, total in funds
    ]


def _details(session: Session, where: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    """The settlements selected by `where`, one row each, in settlement-id order."""
    rows = session.scalars(select(Settlement).where(*where).order_by(Settlement.setl_id))
    return [
        {
            "setl_id": r.setl_id,
            "psn_no": r.person_id,
            "fixmedins_code": r.institution_code,
            "setl_date": r.setl_date.isoformat(),
            "status": r.status,
            "reverses_setl_id": r.reverses_setl_id,
            "med_type": r.med_type,
            **{f: fen_to_yuan(getattr(r, f)) for f in TOTAL_FIELDS},
        }
        for r in rows.all()
    ]


STATEMENT_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")


def statement(
    db: Database,
    who: Principal,
    begin: dt.date,
    end: dt.date,
    institution: str | None,
    claimed: dict[str, Any],
    selection: Selection = Selection(),
) -> dict[str, Any]:
    """3201 对总账: our totals of the settlements `selection` selects; with the
    institution's own totals, whether they agree. The selection is echoed when given.

    `stmtinfo.stmt_rslt` is 0 when every total the institution sent (medfee_sumamt,
    fund_pay_sumamt, acct_pay in yuan, fixmedins_setl_cnt) equals ours, else 1."""
    if end < begin:
        raise ServiceError("stmt_enddate: before stmt_begndate")
    answer = reconcile(db, who, begin, end, institution, selection=selection)
    answer |= {k: v for k, v in vars(selection).items() if v}
    ours = {**{f: answer[f] for f in STATEMENT_FIELDS}, "fixmedins_setl_cnt": answer["setl_cnt"]}
    sent = {k: v for k, v in claimed.items() if k in ours and v is not None}
    if sent:
        differ = [f"{k} {sent[k]} ≠ {ours[k]}" for k in ours if k in sent and sent[k] != ours[k]]
        answer["stmtinfo"] = {
            "setl_optins": _agency(db, answer["fixmedins_code"]),
            "stmt_rslt": "1" if differ else "0",
            "stmt_rslt_dscr": "不平: " + "; ".join(differ) if differ else "平",
        }
    return answer


def _agency(db: Database, code: str) -> str:
    """结算经办机构: the institution's region's 医保区划 (the bureau that settles with it)."""
    with db.sessions() as session:
        institution = session.get(Institution, code)
    return admdvs_of(institution.region) if institution is not None else code
