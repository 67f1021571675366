"""The monthly clearing job (清算): idempotent, and resumable after a crash.

1. One transaction opens the month's run (unique per month); a month already `done` is
   answered as stored and nothing is written.
2. The month's cross-region settlements are summed per (insured, treating) pair; each pair's
   line is written in its own transaction (unique per month and pair), so a crash loses at
   most the pair being written and a re-run writes only the missing lines.
3. One transaction computes the nets from the stored lines and marks the run `done`.

Every settlement counts in the month it is dated, and so does every reversal, with negated
amounts: reversed within its month a stay nets to nothing there; reversed after its month was
cleared, it is paid back in the reversal's month. A month is cleared once it is over (a month
still running is refused); a settlement dated in a month after its run is done is not added.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from yibao.crossregion.clearing import Flow, PairGross, gross_by_pair, month_bounds, nets, positions
from yibao.errors import InputError
from yibao.money import fen_to_yuan
from yibao.service import audit
from yibao.service.errors import Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.cross_region import ClearingLine, ClearingRun
from yibao.store.db import Database
from yibao.store.models import Institution, Person, Settlement


def _month(month: str):
    try:
        return month_bounds(month)
    except InputError as exc:
        raise ServiceError(str(exc)) from None


def run_clearing(db: Database, who: Principal, month: str) -> dict[str, Any]:
    """Clear `month` (YYYY-MM); answers the run and how many lines this call wrote."""
    if who.role != "bureau":
        raise Forbidden("only the bureau runs clearing")
    _, last = _month(month)
    if last >= dt.date.today():
        # a month still running would be closed with settlements yet to come left out (QA)
        raise ServiceError(
            f"month: {month} is not over (today is {dt.date.today()}): clear a month once it "
            "has closed"
        )
    if _open_run(db, who, month) == "done":
        return {**clearing_view(db, who, month), "written": 0}
    written = 0
    with db.sessions() as session:
        done = {(line.insured_region, line.treating_region) for line in _lines(session, month)}
    for pair, gross in month_flows(db, month).items():
        if pair not in done and write_line(db, who, month, gross):
            written += 1
    _finish(db, who, month)
    return {**clearing_view(db, who, month), "written": written}


def _open_run(db: Database, who: Principal, month: str) -> str:
    try:
        with db.transaction() as session:
            run = session.get(ClearingRun, month)
            if run is not None:
                return run.status
            session.add(ClearingRun(month=month, status="running", nets=[], started_by=who.name))
            audit.record(session, who, "crossregion.clearing.start", month)
            return "running"
    except IntegrityError:  # a twin run opened it first: resume it
        return "running"


def month_flows(db: Database, month: str) -> dict[tuple[str, str], PairGross]:
    """The month's cross-region settlements and reversals, each in the month it is dated,
    summed per (insured, treating) pair: a reversal's negated amounts (one visit less) are
    cleared in its own month, so a stay reversed after its month was cleared is paid back
    then (QA: counting only settlements still `settled` lost such a reversal for good). A
    pair whose month nets to nothing is left out."""
    first, last = _month(month)
    person, inst = aliased(Person), aliased(Institution)
    query = (
        select(
            person.region,
            inst.region,
            func.sum(case((Settlement.status == "reversal", -1), else_=1)),
            func.sum(Settlement.medfee_sumamt),
            func.sum(Settlement.fund_pay_sumamt),
        )
        .join(person, person.id == Settlement.person_id)
        .join(inst, inst.code == Settlement.institution_code)
        .where(
            Settlement.setl_date >= first,
            Settlement.setl_date <= last,
            person.region != inst.region,
        )
        .group_by(person.region, inst.region)
    )
    with db.sessions() as session:
        rows = session.execute(query).all()
    flows = gross_by_pair(
        Flow(insured, treating, int(medfee), int(fund), int(visits))
        for insured, treating, visits, medfee, fund in rows
    )
    return {
        pair: gross
        for pair, gross in flows.items()
        if (gross.visits, gross.medfee_fen, gross.gross_fen) != (0, 0, 0)
    }


def write_line(db: Database, who: Principal, month: str, gross: PairGross) -> bool:
    """Write one pair's line in its own transaction; False if it is already there."""
    try:
        with db.transaction() as session:
            session.add(
                ClearingLine(
                    month=month,
                    insured_region=gross.insured,
                    treating_region=gross.treating,
                    visits=gross.visits,
                    medfee_fen=gross.medfee_fen,
                    gross_fen=gross.gross_fen,
                )
            )
            session.flush()
            target = f"{month} {gross.insured}>{gross.treating}"
            audit.record(
                session, who, "crossregion.clearing.line", target,
                visits=gross.visits, gross_fen=gross.gross_fen,
            )  # fmt: skip
        return True
    except IntegrityError:
        return False


def _finish(db: Database, who: Principal, month: str) -> None:
    with db.transaction() as session:
        run = _locked_run(db, session, month)
        if run.status == "done":
            return
        lines = _lines(session, month)
        pair_nets = nets({(x.insured_region, x.treating_region): x.gross_fen for x in lines})
        run.status = "done"
        run.pairs = len(lines)
        run.gross_fen = sum(x.gross_fen for x in lines)
        run.nets = [
            {"a": n.a, "b": n.b, "gross_a_to_b_fen": n.gross_a_to_b,
             "gross_b_to_a_fen": n.gross_b_to_a, "net_fen": n.net_fen}
            for n in pair_nets
        ]  # fmt: skip
        run.finished_at = func.now()
        audit.record(
            session, who, "crossregion.clearing.done", month,
            pairs=run.pairs, gross_fen=run.gross_fen,
        )  # fmt: skip


def _locked_run(db: Database, session: Session, month: str) -> ClearingRun:
    query = select(ClearingRun).where(ClearingRun.month == month)
    if db.is_postgres:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


def _lines(session: Session, month: str) -> list[ClearingLine]:
    query = (
        select(ClearingLine)
        .where(ClearingLine.month == month)
        .order_by(ClearingLine.insured_region, ClearingLine.treating_region)
    )
    return list(session.scalars(query).all())


def clearing_view(db: Database, who: Principal, month: str) -> dict[str, Any]:
    """A month's clearing as stored: gross lines, nets per pair, each region's position."""
    if who.role not in ("bureau", "auditor"):
        raise Forbidden("only the bureau and auditors read clearing")
    _month(month)
    with db.sessions() as session:
        run = session.get(ClearingRun, month)
        if run is None:
            raise NotFound(f"no clearing run for {month}")
        lines = _lines(session, month)
    pair_nets = nets({(x.insured_region, x.treating_region): x.gross_fen for x in lines})
    return {
        "month": month,
        "status": run.status,
        "gross": [
            {"insured_region": x.insured_region, "treating_region": x.treating_region,
             "visits": x.visits, "medfee_sumamt": fen_to_yuan(x.medfee_fen),
             "gross": fen_to_yuan(x.gross_fen), "gross_fen": x.gross_fen}
            for x in lines
        ],
        "nets": [
            {"a": n.a, "b": n.b, "gross_a_to_b": fen_to_yuan(n.gross_a_to_b),
             "gross_b_to_a": fen_to_yuan(n.gross_b_to_a), "net": fen_to_yuan(n.net_fen),
             "net_fen": n.net_fen, "payer": n.a if n.net_fen > 0 else n.b if n.net_fen else None}
            for n in pair_nets
        ],
        "positions": {r: fen_to_yuan(v) for r, v in positions(pair_nets).items()},
    }  # fmt: skip
