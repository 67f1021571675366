"""The columnar layers, like the engine's, pay and accumulate only on claims a basic benefit
settled (`benefit` ≥ 0): a 门诊慢特病 visit for a disease on no list (J45.9) gets nothing from
any fund in any region, and a later settled claim of the year is paid as if it were not there."""

from __future__ import annotations

import polars as pl

from tests.batch.equality import assert_same, frames

FUND_COLUMNS = [
    f"{name}_fen"
    for name in ("hifp_pay", "cvlserv_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")
]


def _unlisted(claim_id: str, date: str, price: str = "3000.00") -> dict:
    return {
        "id": claim_id,
        "date": date,
        "med_type": "14",
        "hospital_level": 2,
        "diagnoses": ["J45.9"],
        "items": [
            {"code": "Z1", "name": "药", "category": "A", "price": price, "quantity": 1},
            {"code": "Z2", "name": "药", "category": "B", "price": "500.00", "quantity": 1},
            {"code": "Z3", "name": "药", "category": "C", "price": "400.00", "quantity": 1},
        ],
    }


def _stay(claim_id: str, date: str, price: str = "60000.00") -> dict:
    return {
        "id": claim_id,
        "date": date,
        "med_type": "21",
        "hospital_level": 3,
        "items": [
            {"code": "Z1", "name": "药", "category": "A", "price": price, "quantity": 1},
            {"code": "Z3", "name": "药", "category": "C", "price": "5000.00", "quantity": 1},
        ],
    }


def _file(region: str, pid: str, year: int, scheme: str = "resident", **person) -> dict:
    """Unlisted visits between stays, in one year, then an unlisted visit the next year."""
    extra = {"employment": "in_service"} if scheme == "employee" else {}
    return {
        "region": region,
        "person": {
            "id": pid,
            "scheme": scheme,
            "birth_date": "1960-01-01",
            "sex": "M",
            **extra,
            **person,
        },
        "claims": [
            _unlisted("M1", f"{year}-02-01"),
            _stay("I1", f"{year}-03-01"),
            _unlisted("M2", f"{year}-04-01", "80000.00"),
            _stay("I2", f"{year}-05-01", "300000.00"),
            _stay("I3", f"{year}-06-01", "300000.00"),
            _unlisted("M3", f"{year + 1}-02-01"),
        ],
    }


def _files() -> list[dict]:
    """Every layer of every region: 大病, assistance and 兜底 (poor residents), 公务员 and 大额
    (employees), 琴岛e保 (Qingdao, enrolled), and an account (employees)."""
    poor = {"categories": ["poverty_registered", "dibao"]}
    servant = {"categories": ["civil_servant", "dibao"], "account_balance": "2000.00"}
    ebao = {"products": ["qindao_ebao"]}
    return [
        _file("tongliao", "TL", 2017, **poor),
        _file("fuxin", "FX", 2020, **poor),
        _file("qingdao", "QR", 2023, **poor, **ebao),
        _file("qingdao", "QE", 2023, "employee", **servant, **ebao),
        _file("erenhot", "EH", 2023, "employee", **servant),
        _file("liaoyang", "LY", 2020, "employee", **servant),
    ]


def test_unlisted_visits_get_nothing_from_the_funds_in_both_engines():
    persons, lines = frames(_files())
    result = assert_same(persons, lines)
    assert result.fallback_claims == 0 and result.columnar_claims == result.rows.height == 36
    unlisted = result.rows.filter(pl.col("claim_id").str.starts_with("M"))
    assert unlisted.select(FUND_COLUMNS).sum().row(0) == (0,) * len(FUND_COLUMNS)
    assert unlisted.get_column("acct_pay_fen").sum() == 3 * 200000  # employees' M1: 2000.00
    stays = result.rows.filter(pl.col("claim_id").str.starts_with("I"))
    for column in FUND_COLUMNS:  # every fund still pays on the stays
        assert stays.get_column(column).sum() > 0, column


def test_tongliao_unlisted_visit_alone_equal_and_unpaid():
    # tl4.json without its carried-in 大病 burden (the tables have no year-to-date column): a
    # dibao resident's unlisted visit of 1000.00 is below the 12000 大病 threshold; before the
    # fix assistance still paid 70% × 1000 = 700. Now every fund 0, cash 1000.00.
    visit = _unlisted("M1", "2017-06-10", "1000.00") | {"hospital_level": 3}
    visit["items"] = visit["items"][:1]
    tl4 = {
        "region": "tongliao",
        "person": {
            "id": "TL4",
            "scheme": "resident",
            "categories": ["dibao"],
            "birth_date": "1960-01-01",
            "sex": "M",
        },
        "claims": [visit],
    }
    result = assert_same(*frames([tl4]))
    assert result.fallback_claims == 0
    row = result.rows.row(0, named=True)
    assert [row[c] for c in FUND_COLUMNS] == [0] * len(FUND_COLUMNS)
    assert row["psn_cash_pay_fen"] == 100000
