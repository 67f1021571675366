"""A Liaoyang payment world: institutions, agreements and settlements written straight to
the store (the settlement service is tested elsewhere; here they are the year's input)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.service.world import World, build_world
from yibao.payment import service
from yibao.service import institutions
from yibao.store.db import Database
from yibao.store.models import AMOUNT_COLUMNS, Settlement, SettlementLine, Visit

YUAN = 100
CENTRAL = "H21100200001"  # 辽阳市中心医院 (LY-37/38 single diseases)
DISTRICT = "H21100200002"
PHARMACY = "P21100200001"


def build_payment_world(db: Database) -> tuple[World, dict[str, str]]:
    """The erenhot test world plus three Liaoyang institutions; returns their API keys too."""
    world = build_world(db)
    specs = [
        (CENTRAL, "辽阳市中心医院", 3, "hospital"),
        (DISTRICT, "白塔区人民医院", 2, "hospital"),
        (PHARMACY, "辽阳市仁和大药房", 1, "pharmacy"),
    ]
    keys = {
        code: institutions.add_institution(db, code, name, level, kind, "liaoyang")
        for code, name, level, kind in specs
    }
    return world, keys


def sign(db: Database, who, code: str, kind: str = "hospital", methods=(), ownership="public"):
    return service.add_agreement(
        db, who, code, kind, ownership, dt.date(2023, 1, 1), dt.date(2023, 12, 31),
        [service.MethodSpec(m, p) for m, p in methods],
    )  # fmt: skip


def settle(
    db: Database,
    setl_id: str,
    code: str,
    day: str,
    total_yuan: int,
    fund_yuan: int,
    med_type: str = "11",
    diagnoses: tuple[str, ...] = (),
    procedures: tuple[str, ...] = (),
    status: str = "settled",
) -> None:
    """One settlement row of person P1 (amounts in whole yuan)."""
    total, fund = total_yuan * YUAN, fund_yuan * YUAN
    with db.transaction() as session:
        mdtrt_id = None
        if diagnoses:
            mdtrt_id = f"M{setl_id}"
            session.add(
                Visit(
                    mdtrt_id=mdtrt_id, person_id="P1", institution_code=code, med_type=med_type,
                    begin_date=dt.date.fromisoformat(day), status="settled",
                    info={"diagnoses": list(diagnoses)}, items=[],
                )
            )  # fmt: skip
            session.flush()
        amounts = dict.fromkeys(AMOUNT_COLUMNS, 0)
        amounts.update(
            medfee_sumamt=total, fund_pay_sumamt=fund, hifp_pay=fund,
            psn_part_amt=total - fund, psn_cash_pay=total - fund,
        )  # fmt: skip
        session.add(
            Settlement(
                setl_id=setl_id, person_id="P1", institution_code=code, mdtrt_id=mdtrt_id,
                claim_id=setl_id, med_type=med_type, insutype="310",
                setl_date=dt.date.fromisoformat(day), policy_version="test", status=status,
                pool_prop_selfpay=Decimal(0), balc=0, ytd_delta={}, trace=[], **amounts,
            )
        )  # fmt: skip
        session.flush()
        for i, code_ in enumerate(procedures, 1):
            session.add(
                SettlementLine(
                    setl_id=setl_id, line_no=i, code=code_, name="手术", category="A",
                    amount=0, fulamt_ownpay_amt=0, overlmt_selfpay=0, preselfpay_amt=0,
                    inscp_scp_amt=0,
                )
            )  # fmt: skip


def central_year(db: Database) -> None:
    """The golden year of 市中心医院 (see test_statement.golden_input): outpatient 600,000
    (fund 500,000) in January, a stent stay in February, an ungroupable stay in March, and a
    reversed claim that must not count."""
    settle(db, "S1", CENTRAL, "2023-01-15", 600_000, 500_000)
    settle(db, "S2", CENTRAL, "2023-02-10", 32_000, 25_600, "21", ("I21.001",), ("36.0601",))
    settle(db, "S3", CENTRAL, "2023-03-05", 10_000, 8_000, "21", ("I50.9",))
    settle(db, "S4", CENTRAL, "2023-04-01", 9_999, 9_000, status="reversed")
    settle(db, "S5", CENTRAL, "2022-12-31", 7_777, 7_000)  # another year
