"""The personal account does not pay catalogue kinds the region's policy keeps out of it.

Erenhot EH-08 "个人账户不得用于…养生保健消费等不属于基本医疗保险保障范围的支出" and EH-06 (at a
pharmacy the account pays 药品、医疗器械、医用耗材): lines whose catalogue `kind` is
`daily_goods` (sample catalogue: G001 洗发水(日用品), G002 蛋白粉(保健品)) are left to cash,
from the own account and from relatives' (共济) alike. A line the catalogue does not list has
no kind and stays payable. Amounts in yuan.
"""

from tests.helpers import claim, fen, item, person, settle

SHAMPOO = {"code": "G001", "price": "39.90"}  # 洗发水(日用品), 丙类, kind daily_goods
PROTEIN = {"code": "G002", "price": "198.00"}  # 蛋白粉(保健品), 丙类, kind daily_goods
NIFEDIPINE = {"code": "XC08CAA001", "price": "100.00"}  # 硝苯地平缓释片, 甲类, kind drug


def employee(**extra) -> dict:
    return person("employee", employment="in_service", **extra)


def test_erenhot_pharmacy_health_and_daily_goods_are_paid_in_cash():
    # QA's case: in service, account 500, pharmacy (41), G002 198.00 + G001 39.90.
    # Both are 丙类: fulamt 237.90, in scope 0, fund 0, person 237.90.
    # Account: 237.90 − 237.90 of daily_goods (EH-08) = 0 → acct 0, cash 237.90, balance 500.
    s, ytd = settle(
        "erenhot",
        employee(account_balance="500.00"),
        [claim("C1", "2023-03-01", "41", None, items=[PROTEIN, SHAMPOO])],
    )
    info = s[0].setlinfo
    assert (info.medfee_sumamt, info.fulamt_ownpay_amt, info.fund_pay_sumamt) == (
        fen("237.90"),
        fen("237.90"),
        0,
    )
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (0, 0, fen("237.90"))
    assert info.balc == fen("500") and ytd.account_balance == fen("500")
    step = [t for t in s[0].trace if t.rule == "erenhot.account.not_for_kinds"]
    assert len(step) == 1
    assert "237.90" in step[0].detail and "daily_goods" in step[0].detail
    assert step[0].source.startswith("EH-06") and "EH-08" in step[0].source
    assert "养生保健消费" in step[0].source


def test_erenhot_account_pays_the_drug_and_the_uncatalogued_line_not_the_goods():
    # Pharmacy: 硝苯地平 100 (甲类, in scope) + a line "T" 50 the catalogue does not list
    # (category A given, no kind: payable) + G002 198 + G001 39.90. Total 387.90.
    # In scope 150, all to the annual 1000 deductible (EH-10): fund 0, person 387.90.
    # Account pays 387.90 − 237.90 = 150 → acct 150, cash 237.90, balance 500 − 150 = 350.
    s, _ = settle(
        "erenhot",
        employee(account_balance="500.00"),
        [claim("C1", "2023-03-01", "41", None, items=[NIFEDIPINE, item("50"), PROTEIN, SHAMPOO])],
    )
    info = s[0].setlinfo
    assert (info.inscp_scp_amt, info.act_pay_dedc, info.hifp_pay) == (fen("150"), fen("150"), 0)
    assert (info.psn_part_amt, info.acct_pay, info.psn_cash_pay) == (
        fen("387.90"),
        fen("150"),
        fen("237.90"),
    )
    assert info.balc == fen("350")


def test_erenhot_relatives_accounts_do_not_pay_the_goods_either():
    # Own account 50, a child's account 200 (EH-06 共济). Pharmacy: 硝苯地平 100 + G002 198
    # + G001 39.90 = 337.90, in scope 100 → deductible, fund 0, person 337.90.
    # Payable from accounts: 337.90 − 237.90 = 100 → own 50, then the child's 50
    # (acct 100, of which mutual aid 50); cash 237.90. The child keeps 150.
    who = employee(
        account_balance="50.00",
        family_accounts=[{"holder": "F1", "relation": "child", "balance": "200.00"}],
    )
    s, ytd = settle(
        "erenhot",
        who,
        [claim("C1", "2023-03-01", "41", None, items=[NIFEDIPINE, PROTEIN, SHAMPOO])],
    )
    info = s[0].setlinfo
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (
        fen("100"),
        fen("50"),
        fen("237.90"),
    )
    assert ytd.account_balance == 0 and ytd.family_balances == {"F1": fen("150")}
    # Goods alone: neither account pays anything; both balances untouched.
    who = employee(
        account_balance="50.00",
        family_accounts=[{"holder": "F1", "relation": "child", "balance": "200.00"}],
    )
    s, ytd = settle("erenhot", who, [claim("C1", "2023-03-01", "41", None, items=[SHAMPOO])])
    info = s[0].setlinfo
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (0, 0, fen("39.90"))
    assert ytd.account_balance == fen("50") and ytd.family_balances == {"F1": fen("200")}


def test_qingdao_resident_paid_by_an_employee_relatives_account_not_for_goods():
    # Qingdao resident (no account of their own), spouse's employee account 300 (G-QD-12).
    # Pharmacy: 硝苯地平 100 + G001 39.90. Whatever basic pays on the drug, the goods'
    # 39.90 stays cash: cash = 39.90 + what is left of the drug after funds and the spouse.
    who = person(
        "resident", family_accounts=[{"holder": "F1", "relation": "spouse", "balance": "300.00"}]
    )
    s, ytd = settle(
        "qingdao", who, [claim("C1", "2021-06-01", "41", None, items=[NIFEDIPINE, SHAMPOO])]
    )
    info = s[0].setlinfo
    drug_left = info.psn_part_amt - fen("39.90")
    assert info.acct_mulaid_pay == drug_left == info.acct_pay
    assert info.psn_cash_pay == fen("39.90")
    assert ytd.family_balances == {"F1": fen("300") - drug_left}


def test_qingdao_and_liaoyang_employee_accounts_do_not_pay_goods():
    # Qingdao (assumed, national rule) and Liaoyang (LY-25/LY-31): pharmacy G002 198,
    # account 500 → acct 0, cash 198.
    for region, day in (("qingdao", "2021-06-01"), ("liaoyang", "2006-06-01")):
        s, ytd = settle(
            region,
            employee(account_balance="500.00"),
            [claim("C1", day, "41", None, items=[PROTEIN])],
        )
        info = s[0].setlinfo
        assert (info.acct_pay, info.psn_cash_pay) == (0, fen("198")), region
        assert ytd.account_balance == fen("500"), region


def test_no_account_money_no_exclusion_step_in_the_trace():
    # Balance 0 and no relatives: the account pays nothing anyway, so no step says it refused.
    s, _ = settle(
        "erenhot",
        employee(account_balance="0"),
        [claim("C1", "2023-03-01", "41", None, items=[SHAMPOO])],
    )
    assert s[0].setlinfo.psn_cash_pay == fen("39.90")
    assert not [t for t in s[0].trace if t.rule.endswith("not_for_kinds")]
