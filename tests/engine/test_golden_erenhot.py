"""Erenhot (二连浩特, seed 003) employee settlements worked out by hand from the seed's rules
(policy-facts.md EH-*, incl. its "Derived checks" (a)(b)(c)), the contract's example claim C1
and the shipped assumptions (G-EH-*, G-ALL-*). Amounts in yuan.

General outpatient pooling (EH-10 to EH-14): annual cumulative deductible 1000 across visits and
levels; fund pays 60% (L3) / 70% (L≤2) in service, +5 points retired; annual cap 4000 / 5000.
Inpatient and 门诊大病 (G-EH-4 / G-EH-6): deductible 300 / 500 / 800 per admission (×0.5 from the
2nd admission; none for 门诊大病), 90% / 88% / 85% in service, +3 retired; basic cap 150000
shared with outpatient pooling (EH-16); 大额 90% of the cost above it within 400000 combined.
公务员补助 (G-EH-5): 50% of the in-scope burden above 1000 a year. 职工大病 (G-EH-5): 70% of the
cumulative burden above 15000, cap 300000. Layer order 大额 → 公务员 → 大病 (EH-31, G-ALL-11).
"""

from tests.contract_example import CONTRACT_EXAMPLE
from tests.helpers import claim, fen, item, person, settle

R = "erenhot"


def employee(employment: str = "in_service", **extra) -> dict:
    return person("employee", employment=employment, **extra)


def test_contract_c1_first_visit_of_the_year_all_to_the_deductible():
    # contract.md C1: retired, general outpatient (11) at level 3, first claim of 2023.
    # 12.50 × 10 = 125 (甲类) + 100 乙类 (selfpay 10% → preselfpay 10, in-scope 90)
    # + 80 丙类 (fully self-paid) + 500 with price limit 300 (overlmt 200, in-scope 300).
    # Total 805; in-scope 125 + 90 + 300 = 515, all of it to the annual 1000 deductible (EH-10),
    # so the fund pays 0. Ratio shown: 60% + 5 retired (EH-12/14) = 0.6500.
    who = employee("retired", birth_date="1955-03-02", sex="M")
    s, _ = settle(R, who, CONTRACT_EXAMPLE["claims"])
    info = s[0].setlinfo
    assert s[0].policy_version == "erenhot/2023-01-01"
    assert info.medfee_sumamt == fen("805")
    assert (info.fulamt_ownpay_amt, info.overlmt_selfpay, info.preselfpay_amt) == (
        fen("80"),
        fen("200"),
        fen("10"),
    )
    assert (info.inscp_scp_amt, info.act_pay_dedc, info.hifp_pay) == (fen("515"), fen("515"), 0)
    assert str(info.pool_prop_selfpay) == "0.6500"
    assert (info.fund_pay_sumamt, info.psn_part_amt, info.psn_cash_pay) == (
        0,
        fen("805"),
        fen("805"),
    )
    assert [(d.fund_pay_type, d.inscp_scp_amt, d.fund_payamt) for d in s[0].setldetail] == [
        ("310100", fen("515"), 0)
    ]


def test_derived_check_a_in_service_level3_first_visit():
    # policy-facts Derived check (a): in service, L3, first visit, in-policy 1500.
    # Deductible 1000 (EH-10); 60% (EH-12) × 500 = 300.
    s, ytd = settle(R, employee(), [claim("C1", "2023-02-01", "11", 3, items=[item("1500")])])
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay) == (fen("1000"), fen("300"))
    assert str(info.pool_prop_selfpay) == "0.6000"
    assert info.psn_part_amt == fen("1200")
    assert ytd.amount("pool") == fen("300")


def test_derived_check_b_retired_level2_capped_at_5000():
    # Derived check (b): retired, L2, in-policy 8000 in one visit. Deductible 1000;
    # 75% (EH-13/14) × 7000 = 5250 → retired cap 5000 (EH-11).
    s, _ = settle(
        R, employee("retired"), [claim("C1", "2023-02-01", "11", 2, items=[item("8000")])]
    )
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay) == (fen("1000"), fen("5000"))
    assert str(info.pool_prop_selfpay) == "0.7500"
    assert info.psn_part_amt == fen("3000")


def test_derived_check_c_deductible_accumulates_across_visits_and_levels():
    # Derived check (c): in service. L2 visit 800 → all to the deductible, pays 0, 200 left.
    # Then L3 700: deductible 200, 60% × 500 = 300.
    s, ytd = settle(
        R,
        employee(),
        [
            claim("C1", "2023-02-01", "11", 2, items=[item("800")]),
            claim("C2", "2023-02-15", "11", 3, items=[item("700")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("800"), fen("200")]
    assert [x.setlinfo.hifp_pay for x in s] == [0, fen("300")]
    assert ytd.amount("deductible:general_outpatient") == fen("1000")


def test_eh11_in_service_cap_4000_over_several_visits():
    # In service. C1 L1 3000: deductible 1000, 70% (EH-13) × 2000 = 1400.
    # C2 L2 5000: 70% × 5000 = 3500, but only 4000 − 1400 = 2600 of the cap is left (EH-11).
    # C3 L3 100: the cap is used up → 0 (ratio still 60%).
    s, ytd = settle(
        R,
        employee(),
        [
            claim("C1", "2023-03-01", "11", 1, items=[item("3000")]),
            claim("C2", "2023-04-01", "11", 2, items=[item("5000")]),
            claim("C3", "2023-05-01", "11", 3, items=[item("100")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("1400"), fen("2600"), 0]
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("1000"), 0, 0]
    assert ytd.amount("pool") == fen("4000")


def test_g_all_7_pharmacy_without_level_counts_as_level3_and_g_eh_7_out_of_region():
    # In service. C1 L1 visit 1000: the whole year's deductible, pays 0.
    # C2 pharmacy purchase (41, EH-32) with no level → level 3 (G-ALL-7): 60% × 500 = 300.
    # C3 out-of-region outpatient at an L2 (EH-33, G-EH-7): same accumulators, ratio of the
    # treating level 70% × 200 = 140.
    s, ytd = settle(
        R,
        employee(),
        [
            claim("C1", "2023-03-01", "11", 1, items=[item("1000")]),
            claim("C2", "2023-03-05", "41", None, items=[item("500")]),
            claim("C3", "2023-03-09", "11", 2, out_of_region=True, items=[item("200")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("1000"), 0, 0]
    assert [x.setlinfo.hifp_pay for x in s] == [0, fen("300"), fen("140")]
    assert [str(x.setlinfo.pool_prop_selfpay) for x in s] == ["0.7000", "0.6000", "0.7000"]
    assert ytd.amount("pool") == fen("440")


def test_eh16_outpatient_payments_count_toward_the_basic_annual_cap():
    # EH-16: general-outpatient payments use the shared basic cap of 150000 (G-EH-4).
    # (1) 149800 already paid this year; L3 visit 2000: deductible 1000, 60% × 1000 = 600,
    #     but only 200 room under the basic cap → 200 (no 大额 for general outpatient).
    s, _ = settle(
        R,
        employee(ytd={"year": 2023, "amounts": {"pool": "149800.00"}}),
        [claim("C1", "2023-06-01", "11", 3, items=[item("2000")])],
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (fen("1000"), fen("200"))
    assert s[0].setlinfo.hifob_pay == 0
    # (2) The other way: 146000 paid after one admission. L2 visit 6000: deductible 1000,
    #     70% × 5000 = 3500 (< 4000 cap) → pool now 149500. Then an L1 admission of 10150:
    #     2nd admission deductible 300 × 0.5 = 150; 90% × 10000 = 9000 wanted, room 500 → 500.
    #     大额: cost above the cap = 10000 − 500 / 0.9 = 9444.44…; × 90% = 8500.00.
    #     大病: burden 10150 − 500 − 8500 = 1150 < 15000 → 0.
    who = employee(
        ytd={"year": 2023, "amounts": {"pool": "146000.00"}, "counts": {"admissions": 1}}
    )
    s, ytd = settle(
        R,
        who,
        [
            claim("C1", "2023-06-01", "11", 2, items=[item("6000")]),
            claim("C2", "2023-07-01", "21", 1, items=[item("10150")]),
        ],
    )
    assert s[0].setlinfo.hifp_pay == fen("3500")
    info = s[1].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay, info.hifob_pay, info.hifmi_pay) == (
        fen("150"),
        fen("500"),
        fen("8500"),
        0,
    )
    assert info.psn_part_amt == fen("1150")
    assert ytd.amount("pool") == fen("150000")


def test_eh25_dialysis_major_outpatient_settled_like_inpatient_without_deductible():
    # EH-22/25, G-EH-6: 尿毒症透析 (uraemia_dialysis) is 门诊大病: inpatient ratio, no deductible.
    # In service, L3: 85% × 10000 = 8500; burden 1500 < 大病 15000 → 0.
    # It is not an admission: the later L3 stay pays the full 800 deductible,
    # (10000 − 800) × 85% = 7820. Nor does it touch the outpatient deductible:
    # an L3 general visit of 1500 still pays 60% × (1500 − 1000) = 300.
    s, ytd = settle(
        R,
        employee(),
        [
            claim(
                "C1",
                "2023-03-01",
                "14",
                3,
                disease="uraemia_dialysis",
                diagnoses=["N18.5"],
                items=[item("10000")],
            ),
            claim("C2", "2023-04-01", "21", 3, items=[item("10000")]),
            claim("C3", "2023-05-01", "11", 3, items=[item("1500")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, fen("800"), fen("1000")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("8500"), fen("7820"), fen("300")]
    assert str(s[0].setlinfo.pool_prop_selfpay) == "0.8500"
    assert s[0].setlinfo.hifmi_pay == 0
    assert ytd.count("admissions") == 1
    # Retired by ICD only (N18): 85% + 3 = 88% × 5000 = 4400.
    s, _ = settle(
        R,
        employee("retired"),
        [claim("C1", "2023-03-01", "14", 3, diagnoses=["N18.5"], items=[item("5000")])],
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (0, fen("4400"))
    # Chronic kidney disease stage 3 (N18.3) is neither 尿毒症透析 (EH-25) nor 慢性肾功能衰竭
    # (透析) of the chronic list: no 门诊慢特病 benefit, nothing paid (N18 as a whole had paid
    # 88%, QA).
    s, _ = settle(
        R,
        employee("retired"),
        [claim("C1", "2023-03-01", "14", 3, diagnoses=["N18.3"], items=[item("5000")])],
    )
    assert (s[0].setlinfo.fund_pay_sumamt, s[0].setlinfo.psn_cash_pay) == (0, fen("5000"))


def test_g_eh_6_chronic_outpatient_own_deductible_and_per_disease_cap():
    # Diabetes (E11, G-TL-9 placeholder list): annual deductible 300, 75% (L≤2) / 65% (L3),
    # cap 5000 per disease a year (G-EH-6).
    # C1 L2 1300: (1300 − 300) × 75% = 750.   C2 L3 1000: 65% × 1000 = 650.
    # C3 general outpatient L3 1500 (EH-18: both may be claimed): its own 1000 deductible → 300.
    # C4 L2 8000: 75% × 8000 = 6000, diabetes cap room 5000 − 1400 = 3600 → 3600.
    # C5 hypertension (I10) L2 1000: deductible already met, own cap → 75% × 1000 = 750.
    s, _ = settle(
        R,
        employee(),
        [
            claim("C1", "2023-03-01", "14", 2, diagnoses=["E11.9"], items=[item("1300")]),
            claim("C2", "2023-04-01", "14", 3, diagnoses=["E11.9"], items=[item("1000")]),
            claim("C3", "2023-05-01", "11", 3, items=[item("1500")]),
            claim("C4", "2023-06-01", "14", 2, diagnoses=["E11.9"], items=[item("8000")]),
            claim("C5", "2023-07-01", "14", 2, diagnoses=["I10"], items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("300"), 0, fen("1000"), 0, 0]
    assert [x.setlinfo.hifp_pay for x in s] == [
        fen("750"),
        fen("650"),
        fen("300"),
        fen("3600"),
        fen("750"),
    ]


def test_g_eh_4_inpatient_levels_and_half_deductible_from_the_second_admission():
    # In service: C1 L3 10000: deductible 800, (10000 − 800) × 85% = 7820.
    # C2 L2 10000: 2nd admission 500 × 0.5 = 250, 9750 × 88% = 8580.
    # C3 L1 10000: 300 × 0.5 = 150, 9850 × 90% = 8865.
    s, ytd = settle(
        R,
        employee(),
        [
            claim("C1", "2023-02-01", "21", 3, items=[item("10000")]),
            claim("C2", "2023-05-01", "21", 2, items=[item("10000")]),
            claim("C3", "2023-08-01", "21", 1, items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("800"), fen("250"), fen("150")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("7820"), fen("8580"), fen("8865")]
    assert ytd.amount("pool") == fen("25265")
    # Retired, L1 first admission: 90% + 3 = 93% × (10000 − 300) = 9021.
    s, _ = settle(
        R, employee("retired"), [claim("C1", "2023-02-01", "21", 1, items=[item("10000")])]
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (fen("300"), fen("9021"))
    assert str(s[0].setlinfo.pool_prop_selfpay) == "0.9300"


def test_g_eh_4_large_expense_and_critical_illness_above_the_basic_cap():
    # In service, L3, in-scope 200000: (200000 − 800) × 85% = 169320 → basic cap 150000.
    # 大额 (G-EH-4): the cost the cap left unpaid = 199200 − 150000 / 0.85 = 22729.4117…;
    #   × 90% = 20456.4705… → 20456.47 (within 400000 − 150000 combined room).
    # 大病 (G-EH-5): burden 200000 − 150000 − 20456.47 = 29543.53;
    #   (29543.53 − 15000) × 70% = 10180.471 → 10180.47.
    # Funds 180636.94; person 19363.06.
    s, ytd = settle(R, employee(), [claim("C1", "2023-03-01", "21", 3, items=[item("200000")])])
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay) == (fen("800"), fen("150000"))
    assert info.hifob_pay == fen("20456.47")
    assert info.hifmi_pay == fen("10180.47")
    assert info.cvlserv_pay == 0
    assert info.fund_pay_sumamt == fen("180636.94")
    assert info.psn_part_amt == fen("19363.06")
    paid = {d.fund_pay_type: d.fund_payamt for d in s[0].setldetail}
    assert paid["330100"] == fen("20456.47") and paid["330300"] == fen("10180.47")
    assert ytd.amount("pool") == fen("150000")


def test_large_expense_combined_cap_400000_and_critical_illness_cap_300000():
    # Already this year: basic 150000 (cap reached), 大额 245000, 大病 burden 440000 on which
    # 大病 paid (440000 − 15000) × 70% = 297500. Second admission at L1, in-scope 10150:
    # deductible 150; basic 0 (cap reached); 大额 wants 90% × 10000 = 9000 but the combined
    # 400000 leaves 400000 − 395000 = 5000 → 5000 (G-EH-4).
    # 大病: burden 10150 − 5000 = 5150, × 70% = 3605, cap room 300000 − 297500 = 2500 → 2500.
    # Person 10150 − 7500 = 2650.
    who = employee(
        ytd={
            "year": 2023,
            "counts": {"admissions": 1},
            "amounts": {
                "pool": "150000",
                "large_expense": "245000",
                "critical_illness:burden": "440000",
                "critical_illness:paid": "297500",
            },
        }
    )
    s, _ = settle(R, who, [claim("C1", "2023-10-01", "21", 1, items=[item("10150")])])
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay, info.hifob_pay, info.hifmi_pay) == (
        fen("150"),
        0,
        fen("5000"),
        fen("2500"),
    )
    assert info.psn_part_amt == fen("2650")


def test_g_eh_5_civil_servant_subsidy_above_annual_1000():
    # Civil servant in service. C1 L3 10000: basic (10000 − 800) × 85% = 7820; burden 2180;
    #   公务员补助 50% × (2180 − 1000) = 590; 大病: 1590 < 15000 → 0.
    # C2 L3 10000: deductible 400, 9600 × 85% = 8160; burden 1840, all above the threshold
    #   met already → 50% × 1840 = 920.
    # C3 general outpatient (11) is not a 公务员补助 claim: L3 3000 → 60% × 2000 = 1200, cvl 0.
    cs = employee(categories=["civil_servant"])
    s, ytd = settle(
        R,
        cs,
        [
            claim("C1", "2023-03-01", "21", 3, items=[item("10000")]),
            claim("C2", "2023-06-01", "21", 3, items=[item("10000")]),
            claim("C3", "2023-07-01", "11", 3, items=[item("3000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("7820"), fen("8160"), fen("1200")]
    assert [x.setlinfo.cvlserv_pay for x in s] == [fen("590"), fen("920"), 0]
    assert [x.setlinfo.psn_part_amt for x in s] == [fen("1590"), fen("920"), fen("1800")]
    assert any(d.fund_pay_type == "320100" and d.fund_payamt == fen("590") for d in s[0].setldetail)
    assert ytd.amount("civil_servant:burden") == fen("4020")


def test_g_eh_5_civil_servant_before_critical_illness_on_a_large_stay():
    # Civil servant, in service, L3 200000 (see the 大额 test): basic 150000, 大额 20456.47,
    # burden 29543.53. 公务员 (before 大病, EH-31): (29543.53 − 1000) × 50% = 14271.765
    # → 14271.77 (half-up). 大病 on what is left: 29543.53 − 14271.77 = 15271.76;
    # (15271.76 − 15000) × 70% = 190.232 → 190.23. Person 15271.76 − 190.23 = 15081.53.
    s, _ = settle(
        R,
        employee(categories=["civil_servant"]),
        [claim("C1", "2023-03-01", "21", 3, items=[item("200000")])],
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.hifob_pay) == (fen("150000"), fen("20456.47"))
    assert info.cvlserv_pay == fen("14271.77")
    assert info.hifmi_pay == fen("190.23")
    assert info.fund_pay_sumamt == fen("184918.47")
    assert info.psn_part_amt == fen("15081.53")


def test_eh06_personal_account_then_family_mutual_aid():
    # In service, own account 300, a child's account 200 (EH-06 family mutual aid).
    # L3 visit 700 in-scope, first of the year: all to the deductible, fund 0, person 700.
    # Own account 300, then the child's 200 (acct_mulaid_pay ≤ acct_pay), cash 200.
    who = employee(
        account_balance="300.00",
        family_accounts=[{"holder": "F1", "relation": "child", "balance": "200.00"}],
    )
    s, ytd = settle(R, who, [claim("C1", "2023-03-01", "11", 3, items=[item("700")])])
    info = s[0].setlinfo
    assert (info.hifp_pay, info.psn_part_amt) == (0, fen("700"))
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (
        fen("500"),
        fen("200"),
        fen("200"),
    )
    assert ytd.account_balance == 0 and ytd.family_balances == {"F1": 0}
    # Inpatient with a bigger balance: L2 10000 → (10000 − 500) × 88% = 8360; person 1640,
    # all from the own account (1640 ≤ 5000); the family account is not touched.
    who = employee(
        account_balance="5000.00",
        family_accounts=[{"holder": "F1", "relation": "child", "balance": "200.00"}],
    )
    s, ytd = settle(R, who, [claim("C1", "2023-03-01", "21", 2, items=[item("10000")])])
    info = s[0].setlinfo
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (fen("1640"), 0, 0)
    assert ytd.account_balance == fen("3360") and ytd.family_balances == {"F1": fen("200")}


def test_year_to_date_carry_over_and_the_new_year():
    # In service, account 1000 (balances do not reset).
    # C1 2022-12-01 L3 800: all deductible (first version, 2022-10-01), acct 800.
    # C2 2022-12-20 L3 700: deductible 200 left, 60% × 500 = 300; person 400 → acct 200, cash 200.
    # C3 2023-01-10 L3 1500: new year, new 1000 deductible (G-ALL-1) → 60% × 500 = 300;
    #   account empty → all cash 1200.
    s, ytd = settle(
        R,
        employee(account_balance="1000"),
        [
            claim("C1", "2022-12-01", "11", 3, items=[item("800")]),
            claim("C2", "2022-12-20", "11", 3, items=[item("700")]),
            claim("C3", "2023-01-10", "11", 3, items=[item("1500")]),
        ],
    )
    assert [x.policy_version for x in s] == [
        "erenhot/2022-10-01",
        "erenhot/2022-10-01",
        "erenhot/2023-01-01",
    ]
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("800"), fen("200"), fen("1000")]
    assert [x.setlinfo.hifp_pay for x in s] == [0, fen("300"), fen("300")]
    assert [x.setlinfo.acct_pay for x in s] == [fen("800"), fen("200"), 0]
    assert [x.setlinfo.psn_cash_pay for x in s] == [0, fen("200"), fen("1200")]
    assert ytd.year == 2023 and ytd.amount("deductible:general_outpatient") == fen("1000")
    # A given year-to-date state carries into the claim: 600 of the deductible already met
    # → L2 1000: deductible 400, 70% × 600 = 420. The same state from 2022 is ignored in 2023.
    used = {"amounts": {"deductible:general_outpatient": "600.00"}}
    s, _ = settle(
        R,
        employee(ytd={"year": 2023, **used}),
        [claim("C1", "2023-04-01", "11", 2, items=[item("1000")])],
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (fen("400"), fen("420"))
    s, _ = settle(
        R,
        employee(ytd={"year": 2022, **used}),
        [claim("C1", "2023-04-01", "11", 2, items=[item("1000")])],
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (fen("1000"), 0)


def test_eh17_b_class_first_selfpay_10_percent_for_waivable_catalogue_drug():
    # EH-17 / G-ALL-5: 乙类 first self-pay 10% in Erenhot. XC10AAA005 (阿托伐他汀钙片, 乙类,
    # flagged selfpay_waivable in the sample catalogue, which only Liaoyang honours, LY-15):
    # 1000 → preselfpay 100. XL01BA0001 (甲氨蝶呤片, 乙类) 500 → 50. 甲类 9000 in full.
    # In-scope 9000 + 900 + 450 = 10350. L3 stay: (10350 − 800) × 85% = 8117.50.
    s, _ = settle(
        R,
        employee(),
        [
            claim(
                "C1",
                "2023-03-01",
                "21",
                3,
                items=[
                    {"code": "XC10AAA005", "name": "阿托伐他汀钙片", "price": "1000"},
                    {"code": "XL01BA0001", "name": "甲氨蝶呤片", "price": "500"},
                    item("9000"),
                ],
            )
        ],
    )
    info = s[0].setlinfo
    assert (info.preselfpay_amt, info.inscp_scp_amt) == (fen("150"), fen("10350"))
    assert info.hifp_pay == fen("8117.50")
    assert info.psn_part_amt == fen("2382.50")


def test_a_disease_code_is_no_icd_prefix():
    # 儿童脑瘫 (child_cerebral_palsy, G80.0) is for persons up to 17 (G-ALL-10): on his 18th
    # birthday the claim names a disease he no longer fits, and G80 is on no other list, so
    # the fund pays 0.00 of the 3,000.00. The code began with C and was matched as the
    # 恶性肿瘤 prefix "C": paid 2,025.00 as cancer (QA, by hand).
    who = employee(birth_date="2004-11-20", sex="M")
    line = [item("3000.00", code="S008")]
    visit = claim("M1", "2022-11-20", "14", 2, items=line, diagnoses=["G80.0"])
    s, _ = settle(R, who, [visit | {"disease": "child_cerebral_palsy"}])
    assert s[0].setlinfo.hifp_pay == 0
    # the day before, he fits it: 门诊大病, no deductible (G-EH-6), 88% at level 2 = 2,640.00
    younger = employee(birth_date="2004-11-21", sex="M")
    s, _ = settle(R, younger, [visit | {"disease": "child_cerebral_palsy"}])
    assert s[0].setlinfo.hifp_pay == fen("2640")


def test_an_unlisted_disease_code_is_named_in_the_trace():
    # "I25.1" is an ICD code, not one of the list's codes: nothing is paid, and the trace
    # says why instead of "none of its diseases is on the claim" (QA round 4)
    line = [item("100.00", code="S008")]
    visit = claim("M1", "2023-03-01", "14", 2, items=line) | {"disease": "I25.1"}
    s, _ = settle(R, employee(birth_date="1970-01-01"), [visit])
    assert s[0].setlinfo.hifp_pay == 0
    assert "its disease code 'I25.1' is none of its diseases" in " ".join(
        t.detail for t in s[0].trace
    )
