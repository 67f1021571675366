"""Read one institution-year's settled claims from the store, as the statement needs them.

Only settlements still `settled` count: a reversal carries its original's date, so a reversed
claim and its reversal both fall in the same year and cancel; neither is read. Inpatient claims
also bring their visit's diagnoses and their procedure codes (the visit's `procedures`, else
the fee-line codes) for DRG and single-disease grouping. Each claim carries the methods of the
agreement in force on its own date, so a year with two agreements pays each claim under its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.payment.statement import Claim
from yibao.store.models import Settlement, SettlementLine, Visit


def claims_of_year(
    session: Session,
    code: str,
    year: int,
    grouped_med_types: tuple[str, ...],
    methods_on: Callable[[dt.date], frozenset[str]],
) -> tuple[Claim, ...]:
    """The institution's settled claims dated in `year`, in date order, each with the payment
    methods of the agreement in force on its date (`methods_on`)."""
    rows = session.execute(
        select(
            Settlement.setl_id,
            Settlement.setl_date,
            Settlement.med_type,
            Settlement.medfee_sumamt,
            Settlement.fund_pay_sumamt,
            Settlement.mdtrt_id,
        )
        .where(
            Settlement.institution_code == code,
            Settlement.status == "settled",
            Settlement.setl_date >= dt.date(year, 1, 1),
            Settlement.setl_date <= dt.date(year, 12, 31),
        )
        .order_by(Settlement.setl_date, Settlement.setl_id)
    ).all()
    grouped = [r for r in rows if r.med_type in grouped_med_types]
    visits = _visit_info(session, {r.mdtrt_id for r in grouped if r.mdtrt_id})
    codes = _line_codes(session, [r.setl_id for r in grouped])
    claims = []
    for r in rows:
        info = visits.get(r.mdtrt_id, {}) if r.med_type in grouped_med_types else {}
        procedures = info.get("procedures") or codes.get(r.setl_id, [])
        claims.append(
            Claim(
                month=r.setl_date.month,
                med_type=r.med_type,
                total_fen=r.medfee_sumamt,
                fund_fen=r.fund_pay_sumamt,
                diagnoses=tuple(info.get("diagnoses") or ()),
                procedures=tuple(procedures),
                methods=methods_on(r.setl_date),
            )
        )
    return tuple(claims)


def _visit_info(session: Session, ids: set[str]) -> dict[str, dict]:
    if not ids:
        return {}
    rows = session.execute(select(Visit.mdtrt_id, Visit.info).where(Visit.mdtrt_id.in_(ids)))
    return {mdtrt_id: info or {} for mdtrt_id, info in rows}


def _line_codes(session: Session, setl_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(setl_ids), 500):
        chunk = setl_ids[start : start + 500]
        rows = session.execute(
            select(SettlementLine.setl_id, SettlementLine.code)
            .where(SettlementLine.setl_id.in_(chunk))
            .order_by(SettlementLine.setl_id, SettlementLine.line_no)
        )
        for setl_id, line_code in rows:
            out[setl_id].append(line_code)
    return out
