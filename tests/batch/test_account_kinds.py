"""The columnar account leaves the lines of a kind the account may not pay for (`not_for_kinds`,
e.g. daily_goods: G001 洗发水(日用品), G002 蛋白粉(保健品)) to cash, equal to the per-claim
engine to the fen, the balance running on over the person's later claims."""

from __future__ import annotations

import polars as pl

from tests.batch.equality import assert_same, frames
from tests.batch.population import population

SHAMPOO = {"code": "G001", "price": "39.90"}  # daily_goods, 丙类
PROTEIN = {"code": "G002", "price": "198.00"}  # daily_goods, 丙类
NIFEDIPINE = {"code": "XC08CAA001", "price": "100.00"}  # drug, 甲类


def _file(region: str, pid: str, scheme: str, balance: str | None, claims: list[dict]) -> dict:
    who: dict = {"id": pid, "scheme": scheme}
    if scheme == "employee":
        who |= {"employment": "in_service", "account_balance": balance}
    return {"region": region, "person": who, "claims": claims}


def _pharmacy(cid: str, day: str, *items: dict) -> dict:
    return {"id": cid, "date": day, "med_type": "41", "items": list(items)}


def test_daily_goods_are_cash_in_both_engines():
    files = [
        # QA's case: account 500, G002 198 + G001 39.90 → acct 0, cash 237.90, balance 500.
        _file(
            "erenhot", "E1", "employee", "500.00", [_pharmacy("C1", "2023-03-01", PROTEIN, SHAMPOO)]
        ),
        # Balance 120 runs over three claims: C1 drug 100 + goods 39.90 → acct 100 (deductible,
        # fund 0), cash 39.90, balance 20; C2 goods alone → acct 0; C3 drug 100 → acct 20.
        _file(
            "erenhot",
            "E2",
            "employee",
            "120.00",
            [
                _pharmacy("C1", "2023-03-01", NIFEDIPINE, SHAMPOO),
                _pharmacy("C2", "2023-03-02", PROTEIN),
                _pharmacy("C3", "2023-03-03", NIFEDIPINE),
            ],
        ),
        _file(
            "qingdao",
            "Q1",
            "employee",
            "500.00",
            [_pharmacy("C1", "2021-06-01", PROTEIN, NIFEDIPINE)],
        ),
        _file("qingdao", "Q2", "resident", None, [_pharmacy("C1", "2021-06-01", SHAMPOO)]),
        _file(
            "liaoyang",
            "L1",
            "employee",
            "500.00",
            [_pharmacy("C1", "2006-06-01", PROTEIN, NIFEDIPINE)],
        ),
    ]
    persons, lines = frames(files)
    result = assert_same(persons, lines)
    assert result.fallback_claims == 0  # the columnar account settled them all
    rows = {
        (r["person_id"], r["claim_id"]): (
            r["psn_part_amt_fen"],
            r["acct_pay_fen"],
            r["psn_cash_pay_fen"],
            r["balc_fen"],
        )
        for r in result.rows.iter_rows(named=True)
    }
    assert rows[("E1", "C1")] == (23790, 0, 23790, 50000)
    assert [rows[("E2", c)] for c in ("C1", "C2", "C3")] == [
        (13990, 10000, 3990, 2000),
        (19800, 0, 19800, 2000),
        (10000, 2000, 8000, 0),
    ]
    # G002 (198) is cash; the account (500) pays what is left of the drug (100 at most)
    for pid in ("Q1", "L1"):
        part, acct, cash, _ = rows[(pid, "C1")]
        assert (acct, cash) == (part - 19800, 19800), pid
    # the resident has no account of their own: all cash
    assert rows[("Q2", "C1")][1:3] == (0, 3990)


def test_population_with_daily_goods_lines_equal():
    # the seeded population draws G001 (daily_goods) among its codes, at every med_type
    persons, lines = population(["erenhot", "qingdao", "liaoyang"], 120, seed=23)
    goods = lines.filter(pl.col("code") == "G001")
    assert goods.height > 20
    result = assert_same(persons, lines)
    assert result.columnar_claims > 0
