"""The layers after basic pooling pay only on a claim a basic benefit settled: they all work on
the burden left "after basic insurance" (TL-20 "在基本醫療保險、大病保險等補償後", G-TL-5), so
care basic insurance does not cover is none of theirs — no payment, nothing accumulated. The
personal account still pays the person's part. Amounts in yuan."""

from tests.helpers import claim, fen, item, person, settle
from yibao.engine.settle import NO_LAYER

FUNDS = ("hifp_pay", "cvlserv_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")


def _funds(info) -> dict[str, int]:
    return {name: getattr(info, name) for name in FUNDS}


def _unlisted_chronic_visit(date: str, price: str, level: int) -> dict:
    # 门诊慢特病 (14) for asthma (J45.9), on none of the region's chronic-disease lists
    return claim("M1", date, "14", level, diagnoses=["J45.9"], items=[item(price)])


def _tl4(burden: str) -> dict:
    return person(
        categories=["dibao"],
        birth_date="1960-01-01",
        sex="M",
        ytd={"year": 2017, "amounts": {"critical_illness:burden": burden}},
    )


def test_tongliao_unlisted_chronic_visit_no_critical_illness_no_assistance():
    # Before the fix: hifp 0, yet 大病 paid 1000 × 50% = 500 (burden 20000 → 21000, above the
    # 12000 threshold) and assistance 70% × (1000 − 500) = 350.
    # Now: no benefit → no layer: every fund 0, the person bears all 1000.00 (no account:
    # a resident), the 大病 burden stays 20000 and no assistance is used.
    s, ytd = settle(
        "tongliao", _tl4("20000.00"), [_unlisted_chronic_visit("2017-06-10", "1000", 3)]
    )
    info = s[0].setlinfo
    assert _funds(info) == dict.fromkeys(FUNDS, 0)
    assert (info.fund_pay_sumamt, info.psn_part_amt, info.psn_cash_pay) == (
        0,
        fen("1000"),
        fen("1000"),
    )
    assert ytd.amounts == {"critical_illness:burden": fen("20000")}
    assert [t.detail for t in s[0].trace].count(NO_LAYER) == 1
    assert [d.fund_pay_type for d in s[0].setldetail] == ["390100"]  # basic pooling's row only


def test_tongliao_unlisted_visit_does_not_raise_a_later_stays_critical_illness():
    # Burden 11500 before. M1 (no benefit) adds nothing, so I1 starts from 11500:
    # I1: in-scope 10000, deductible L3 600, (10000 − 600) × 70% = 6580; burden 3420,
    # year 11500 → 14920; 大病 (14920 − 12000) × 50% = 1460 (it was 1710 when M1's 1000
    # had pushed the year to 12500 → 15920). Assistance 70% × (10000 − 6580 − 1460 = 1960)
    # = 1372. dibao gets no 兜底 top-up.
    s, ytd = settle(
        "tongliao",
        _tl4("11500.00"),
        [
            _unlisted_chronic_visit("2017-06-10", "1000", 3),
            claim("I1", "2017-07-01", items=[item("10000")]),
        ],
    )
    info = s[1].setlinfo
    assert (info.hifp_pay, info.hifmi_pay, info.maf_pay, info.oth_pay) == (
        fen("6580"),
        fen("1460"),
        fen("1372"),
        0,
    )
    assert ytd.amount("critical_illness:burden") == fen("14920")
    assert NO_LAYER not in [t.detail for t in s[1].trace]


def test_erenhot_unlisted_chronic_visit_account_pays_but_no_fund_nor_burden():
    # Employee civil servant, 2000 for an unlisted chronic visit: no benefit → neither 公务员
    # (whose burden would have grown by 2000) nor 大额 nor 大病 (burden 0 → 2000 before the
    # fix). The account pays as before: own 500 + family mutual aid 300 = 800 (acct_pay counts
    # both), cash 2000 − 800 = 1200.
    who = person(
        "employee",
        employment="in_service",
        categories=["civil_servant"],
        birth_date="1960-01-01",
        sex="M",
        ytd={
            "year": 2023,
            "amounts": {"deductible:general_outpatient": "1000.00"},
            "account_balance": "500.00",
        },
        family_accounts=[{"holder": "F1", "relation": "spouse", "balance": "300.00"}],
    )
    s, ytd = settle("erenhot", who, [_unlisted_chronic_visit("2023-02-01", "2000", 2)])
    info = s[0].setlinfo
    assert _funds(info) == dict.fromkeys(FUNDS, 0)
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (
        fen("800"),
        fen("300"),
        fen("1200"),
    )
    assert ytd.amount("critical_illness:burden") == 0
    assert ytd.amount("civil_servant:burden") == 0
    assert ytd.amounts == {"deductible:general_outpatient": fen("1000")}


def test_a_settled_claim_still_goes_through_the_layers():
    # The golden TL-12/13 case (test_golden_tongliao): L2 poor, deductible 400 × 50% = 200,
    # ratio 85%; hifp (10000 − 200) × 85% = 8330; assistance 70% × 1670 = 1169.
    s, _ = settle(
        "tongliao",
        person(categories=["poverty_registered"]),
        [claim("C1", "2017-04-01", level=2, items=[item("10000")])],
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.maf_pay) == (fen("8330"), fen("1169"))
    assert NO_LAYER not in [t.detail for t in s[0].trace]
