"""Qingdao (青岛, seed 001) resident and employee settlements worked out by hand from the seed's
rules (policy-facts.md QD-*) and the shipped assumptions (G-QD-*, G-ALL-*). Amounts in yuan.

Shorthand used in the comments: basic = 统筹 (hifp), 大病 = resident 大病保险 (hifmi),
大额 = employee 大额医疗费用补助 (hifob), 救助 = medical assistance (maf), e保 = 琴岛e保 (oth).
"""

import pytest
from pydantic import ValidationError

from tests.helpers import claim, fen, item, person, settle

R = "qingdao"


# --- resident outpatient: 两病, community pilot, 门诊慢特病 -------------------------------------


def test_qd11_two_diseases_hypertension_60_percent_cap_300():
    # QD-11: 两病 outpatient at 60%; G-QD-6: no deductible, hypertension alone capped at 300/yr.
    # 400 → 240; next 400 → 240 wanted, 300 − 240 = 60 left → 60; a third visit → 0.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", "11", 2, diagnoses=["I10"], items=[item("400")]),
            claim("C2", "2021-04-01", "11", 2, diagnoses=["I10"], items=[item("400")]),
            claim("C3", "2021-05-01", "11", 2, diagnoses=["I10"], items=[item("100")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("240"), fen("60"), 0]
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, 0, 0]
    assert str(s[0].setlinfo.pool_prop_selfpay) == "0.6000"


def test_g_qd6_diabetes_alone_cap_500():
    # G-QD-6: diabetes alone capped at 500/yr. 500 × 60% = 300; next 500 → 300 wanted,
    # 500 − 300 = 200 left → 200.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", "11", 1, diagnoses=["E11.9"], items=[item("500")]),
            claim("C2", "2021-04-01", "11", 1, diagnoses=["E11.9"], items=[item("500")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("300"), fen("200")]


def test_g_qd6_cap_switches_to_600_once_both_diseases_were_seen():
    # G-QD-6: one 两病 cap, 600 once the person has both diseases in the year.
    # Hypertension 1000 × 60% = 600 wanted, cap 300 → 300.
    # Diabetes 1000 → 600 wanted; both seen now → cap 600, 300 used → 300.
    # A further diabetes visit 100 → 60 wanted, room 0 → 0.
    s, ytd = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", "11", 2, diagnoses=["I10"], items=[item("1000")]),
            claim("C2", "2021-04-01", "11", 2, diagnoses=["E11.9"], items=[item("1000")]),
            claim("C3", "2021-05-01", "11", 2, diagnoses=["E11.9"], items=[item("100")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("300"), fen("300"), 0]
    assert ytd.groups_seen == {"hypertension", "diabetes"}


def test_qd15_community_outpatient_pilot_needs_contract_and_level_1():
    # QD-15 / G-QD-11: contracted residents (person flag community_contract) at a level-1
    # institution: no deductible, 60%, cap 600/yr.
    # 800 → 480; 500 → 300 wanted, 600 − 480 = 120 left → 120; at level 2 → no benefit, 0.
    contracted = person(flags=["community_contract"])
    s, _ = settle(
        R,
        contracted,
        [
            claim("C1", "2021-03-01", "11", 1, diagnoses=["J06.9"], items=[item("800")]),
            claim("C2", "2021-04-01", "11", 1, diagnoses=["J06.9"], items=[item("500")]),
            claim("C3", "2021-05-01", "11", 2, diagnoses=["J06.9"], items=[item("500")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("480"), fen("120"), 0]
    # Without the contract the same level-1 visit has no outpatient benefit at all.
    s2, _ = settle(
        R, person(), [claim("C1", "2021-03-01", "11", 1, diagnoses=["J06.9"], items=[item("800")])]
    )
    assert s2[0].setlinfo.hifp_pay == 0
    assert s2[0].setlinfo.psn_part_amt == fen("800")


def test_qd13_chronic_tardive_dyskinesia_60_percent_per_disease_cap():
    # QD-13 names 成人迟发性运动障碍 (G24.0); G-QD-7: residents no deductible, 60%, cap 5000 per
    # disease per year. 3000 → 1800; 6000 → 3600 wanted, 5000 − 1800 = 3200 left → 3200.
    # 帕金森病 (G20, placeholder list) has its own cap: 1000 → 600.
    # A diagnosis outside the list (K29 gastritis) → no chronic benefit, 0.
    # 大病 (G-QD-5) burden 1200 + 2800 + 400 + 0 = 4400 < 15000 → 0 throughout.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", "14", 3, diagnoses=["G24.0"], items=[item("3000")]),
            claim("C2", "2021-04-01", "14", 3, diagnoses=["G24.0"], items=[item("6000")]),
            claim("C3", "2021-05-01", "14", 3, diagnoses=["G20"], items=[item("1000")]),
            claim("C4", "2021-06-01", "14", 3, diagnoses=["K29.7"], items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("1800"), fen("3200"), fen("600"), 0]
    assert [x.setlinfo.hifmi_pay for x in s] == [0, 0, 0, 0]


# --- resident inpatient, 大病, medical assistance, 琴岛e保 -----------------------------------


def test_g_qd4_resident_inpatient_by_level_deductible_every_admission():
    # G-QD-4 residents: deductible L1 200 / L2 500 / L3 1000 per admission (G-ALL-2, no
    # repeat-admission discount for residents); ratio 85% / 75% / 60%.
    # L1 10000: 9800 × 85% = 8330. L2: 9500 × 75% = 7125. L3: 9000 × 60% = 5400, twice.
    # 大病 burden 1670 + 2875 + 4600 + 4600 = 13745 < 15000 (G-QD-5) → 0.
    s, ytd = settle(
        R,
        person(),
        [
            claim("C1", "2021-02-01", level=1, items=[item("10000")]),
            claim("C2", "2021-03-01", level=2, items=[item("10000")]),
            claim("C3", "2021-04-01", level=3, items=[item("10000")]),
            claim("C4", "2021-05-01", level=3, items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [
        fen("200"),
        fen("500"),
        fen("1000"),
        fen("1000"),
    ]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("8330"), fen("7125"), fen("5400"), fen("5400")]
    assert [x.setlinfo.hifmi_pay for x in s] == [0, 0, 0, 0]
    assert ytd.count("admissions") == 4


def test_g_qd5_critical_illness_segments_across_two_admissions():
    # L3 200000: basic 199000 × 60% = 119400; burden 80600.
    # 大病 (G-QD-5): (80600 − 15000) × 60% = 39360.
    # L3 100000: basic 99000 × 60% = 59400 (178800 < cap 200000); burden 40600, the year's
    # burden 80600 → 121200: (100000 − 80600) × 60% + (121200 − 100000) × 70%
    # = 11640 + 14840 = 26480. Person: 100000 − 59400 − 26480 = 14120.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", items=[item("200000")]),
            claim("C2", "2021-06-01", items=[item("100000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("119400"), fen("59400")]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("39360"), fen("26480")]
    assert s[1].setlinfo.psn_part_amt == fen("14120")


def test_g_qd4_resident_basic_cap_200000_then_critical_illness():
    # L3 400000: 399000 × 60% = 239400 > annual cap 200000 (G-QD-4) → 200000; burden 200000.
    # 大病: (100000 − 15000) × 60% + 100000 × 70% = 51000 + 70000 = 121000 (cap 400000 far).
    # A later L3 5000 in the year: basic 0 (cap used); burden 5000 all above 100000 → 3500.
    s, ytd = settle(
        R,
        person(),
        [
            claim("C1", "2021-03-01", items=[item("400000")]),
            claim("C2", "2021-09-01", items=[item("5000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("200000"), 0]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("121000"), fen("3500")]
    assert ytd.amount("pool") == fen("200000")


def test_g_qd5_needy_tilt_and_dibao_assistance():
    # 低保 (QD-17, G-QD-5 tilt): 大病 deductible 15000 × 50% = 7500, each segment +5 points.
    # L3 50000: basic 49000 × 60% = 29400; burden 20600.
    # 大病 dibao: (20600 − 7500) × 65% = 8515. 救助 (G-QD-9) 低保 70% of the in-scope self-pay
    # left: (20600 − 8515) × 70% = 12085 × 70% = 8459.50. Person 50000 − 46374.50 = 3625.50.
    s, _ = settle(
        R, person(categories=["dibao"]), [claim("C1", "2021-03-01", items=[item("50000")])]
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.hifmi_pay, info.maf_pay) == (
        fen("29400"),
        fen("8515"),
        fen("8459.50"),
    )
    assert info.psn_part_amt == fen("3625.50")
    # An ordinary resident: 大病 (20600 − 15000) × 60% = 3360; no assistance.
    s2, _ = settle(R, person(), [claim("C1", "2021-03-01", items=[item("50000")])])
    assert (s2[0].setlinfo.hifmi_pay, s2[0].setlinfo.maf_pay) == (fen("3360"), 0)


def test_g_qd9_tekun_100_percent_and_low_income_marginal_60_percent():
    # L3 20000: basic 19000 × 60% = 11400; burden 8600; 大病 tilt (both categories are needy):
    # (8600 − 7500) × 65% = 715; in-scope left 7885.
    # 特困 100% → 7885, person pays 0. 低保边缘 60% → 4731, person 20000 − 16846 = 3154.
    s, _ = settle(
        R, person(categories=["tekun"]), [claim("C1", "2021-03-01", items=[item("20000")])]
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.hifmi_pay, info.maf_pay) == (fen("11400"), fen("715"), fen("7885"))
    assert info.psn_part_amt == 0
    s2, _ = settle(
        R,
        person(categories=["low_income_marginal"]),
        [claim("C1", "2021-03-01", items=[item("20000")])],
    )
    info2 = s2[0].setlinfo
    assert (info2.hifmi_pay, info2.maf_pay) == (fen("715"), fen("4731"))
    assert info2.psn_part_amt == fen("3154")


def test_g_qd9_assistance_annual_limit_50000():
    # 特困, two L3 admissions of 200000.
    # C1: basic 199000 × 60% = 119400; burden 80600; 大病 (80600 − 7500) × 65% = 47515;
    #     left 33085 → 救助 100% = 33085.
    # C2: basic 119400 wanted, cap room 200000 − 119400 = 80600 → 80600; burden 119400, year
    #     80600 → 200000: 19400 × 65% + 100000 × 75% = 12610 + 75000 = 87610; left 31790;
    #     救助 room 50000 − 33085 = 16915 → 16915. Person 200000 − 185125 = 14875.
    s, ytd = settle(
        R,
        person(categories=["tekun"]),
        [
            claim("C1", "2021-03-01", items=[item("200000")]),
            claim("C2", "2021-07-01", items=[item("200000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("119400"), fen("80600")]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("47515"), fen("87610")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("33085"), fen("16915")]
    assert s[1].setlinfo.psn_part_amt == fen("14875")
    assert ytd.amount("assistance:medical_assistance") == fen("50000")


def test_g_qd9_limit_is_shared_by_the_categories_through_carry_over():
    # G-QD-9: one 50000 limit per person for all categories. 48000 already paid this year
    # (e.g. while 低保) leaves 2000 for a 低保边缘 claim.
    # L3 20000 as above: left 7885 × 60% = 4731 wanted → 2000.
    who = person(
        categories=["low_income_marginal"],
        ytd={"year": 2021, "amounts": {"assistance:medical_assistance": "48000.00"}},
    )
    s, _ = settle(R, who, [claim("C1", "2021-03-01", items=[item("20000")])])
    assert s[0].setlinfo.maf_pay == fen("2000")


def test_g_qd8_qindao_ebao_in_scope_and_out_of_catalogue():
    # Items at L3: 甲类 100000, 乙类 10000 (G-ALL-5 first self-pay 10% = 1000), 丙类 30000.
    # In-scope 109000: basic (109000 − 1000) × 60% = 64800; burden 44200;
    # 大病 (44200 − 15000) × 60% = 17520; in-scope left 26680.
    # 琴岛e保 (G-QD-8): in-catalogue burden 26680 + 1000 = 27680, (27680 − 20000) × 70% = 5376;
    # 丙类 (30000 − 20000) × 60% = 6000 → oth 11376.
    # Person 140000 − 64800 − 17520 − 11376 = 46304.
    items = [item("100000"), item("10000", "B"), item("30000", "C")]
    s, _ = settle(R, person(products=["qindao_ebao"]), [claim("C1", "2021-06-01", items=items)])
    info = s[0].setlinfo
    assert (info.preselfpay_amt, info.fulamt_ownpay_amt, info.inscp_scp_amt) == (
        fen("1000"),
        fen("30000"),
        fen("109000"),
    )
    assert (info.hifp_pay, info.hifmi_pay, info.oth_pay) == (
        fen("64800"),
        fen("17520"),
        fen("11376"),
    )
    assert info.psn_part_amt == fen("46304")
    assert any(
        d.fund_pay_type == "999997" and d.fund_payamt == fen("11376") for d in s[0].setldetail
    )
    # Not enrolled (opt-in, QD-02): no e保 payment.
    s2, _ = settle(R, person(), [claim("C1", "2021-06-01", items=items)])
    assert s2[0].setlinfo.oth_pay == 0


def test_g_qd8_ebao_deductibles_accumulate_over_the_year():
    # C1 L3: 甲类 20000 + 丙类 15000. Basic 19000 × 60% = 11400; burden 8600 (< 大病 15000);
    #     e保 in-catalogue 8600 and 丙类 15000, both below their 20000 → 0.
    # C2 L3: 甲类 50000 + 丙类 10000. Basic 49000 × 60% = 29400; burden 20600, year 8600 →
    #     29200: 大病 14200 × 60% = 8520; left 12080. e保 in-catalogue year 8600 → 20680:
    #     680 × 70% = 476; 丙类 year 15000 → 25000: 5000 × 60% = 3000 → oth 3476.
    s, _ = settle(
        R,
        person(products=["qindao_ebao"]),
        [
            claim("C1", "2021-06-01", items=[item("20000"), item("15000", "C")]),
            claim("C2", "2021-08-01", items=[item("50000"), item("10000", "C")]),
        ],
    )
    assert [x.setlinfo.hifmi_pay for x in s] == [0, fen("8520")]
    assert [x.setlinfo.oth_pay for x in s] == [0, fen("3476")]


# --- employee inpatient, 大额, accounts, year-to-date ---------------------------------------


def test_g_qd4_employee_inpatient_retired_and_second_admission():
    # G-QD-4 employees: deductible L1 200 / L2 500 / L3 800, ratio 90 / 88 / 85%, retired
    # +3 points; G-ALL-2: the 2nd and later admission of the year pays 50% of the deductible.
    # In service: L3 10000 → 9200 × 85% = 7820; then L2 10000 → 250, 9750 × 88% = 8580.
    s, _ = settle(
        R,
        person("employee", employment="in_service"),
        [
            claim("C1", "2021-03-01", level=3, items=[item("10000")]),
            claim("C2", "2021-05-01", level=2, items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("800"), fen("250")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("7820"), fen("8580")]
    assert [x.setlinfo.hifob_pay for x in s] == [0, 0]
    # Retired: L3 10000 → 9200 × 88% = 8096; then L1 2000 → 100, 1900 × 93% = 1767.
    s2, _ = settle(
        R,
        person("employee", employment="retired"),
        [
            claim("C1", "2021-03-01", level=3, items=[item("10000")]),
            claim("C2", "2021-05-01", level=1, items=[item("2000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s2] == [fen("8096"), fen("1767")]
    assert str(s2[0].setlinfo.pool_prop_selfpay) == "0.8800"
    assert str(s2[1].setlinfo.pool_prop_selfpay) == "0.9300"


def test_g_qd4_employee_basic_cap_then_large_expense_up_to_500000():
    # In service, L3. C1 in-scope 300800: (300800 − 800) × 85% = 255000 > cap 200000 → 200000.
    #   The basic fund covered 200000 / 85% = 235294.117647 of the 300000 above the deductible;
    #   大额 90% × (300000 − 235294.117647) = 90% × 64705.882353 = 58235.294 → 58235.29.
    # C2 in-scope 400400, 2nd admission: deductible 400; basic room 0 → 0; 大额 wants
    #   90% × 400000 = 360000, combined room 500000 − 200000 − 58235.29 = 241764.71.
    #   Person 400400 − 241764.71 = 158635.29.
    s, ytd = settle(
        R,
        person("employee", employment="in_service"),
        [
            claim("C1", "2021-03-01", items=[item("300800")]),
            claim("C2", "2021-06-01", items=[item("400400")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("800"), fen("400")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("200000"), 0]
    assert [x.setlinfo.hifob_pay for x in s] == [fen("58235.29"), fen("241764.71")]
    assert s[1].setlinfo.psn_part_amt == fen("158635.29")
    assert ytd.amount("pool") + ytd.amount("large_expense") == fen("500000")


def test_employee_account_then_family_mutual_aid():
    # Own account 1000, spouse F1's account 300 (family mutual aid, QD-36 / EH-06 pattern).
    # C1 L3 2000: 1200 × 85% = 1020; person 980 → own account 980 (balance 20 left).
    # C2 L1 1000 (2nd admission, deductible 100): 900 × 90% = 810; person 190 →
    #    own 20 + F1 170 → acct 190, of which mutual aid 170; cash 0.
    # C3 L1 1000: again 810; person 190 → F1's last 130; cash 60.
    who = person(
        "employee",
        employment="in_service",
        account_balance="1000.00",
        family_accounts=[{"holder": "F1", "relation": "spouse", "balance": "300.00"}],
    )
    s, ytd = settle(
        R,
        who,
        [
            claim("C1", "2021-03-01", level=3, items=[item("2000")]),
            claim("C2", "2021-04-01", level=1, items=[item("1000")]),
            claim("C3", "2021-05-01", level=1, items=[item("1000")]),
        ],
    )
    rows = [
        (
            x.setlinfo.psn_part_amt,
            x.setlinfo.acct_pay,
            x.setlinfo.acct_mulaid_pay,
            x.setlinfo.psn_cash_pay,
            x.setlinfo.balc,
        )
        for x in s
    ]
    assert rows == [
        (fen("980"), fen("980"), 0, 0, fen("20")),
        (fen("190"), fen("190"), fen("170"), 0, 0),
        (fen("190"), fen("130"), fen("130"), fen("60"), 0),
    ]
    assert ytd.family_balances == {"F1": 0}
    # A resident has no personal account of their own: a balance given for one is refused
    # (it was shown on every bill as balc and never drawn, QA).
    with pytest.raises(ValidationError, match=r"person\.account_balance: a resident has no"):
        settle(
            R, person(account_balance="1000.00"), [claim("C1", "2021-03-01", items=[item("2000")])]
        )


def test_employee_year_to_date_carry_over_and_new_year_reset():
    # Carried in: 199000 already paid by the basic fund in 2021 and one admission.
    # C1 2021 L3 in-scope 10800: repeat deductible 800 × 50% = 400; 10400 × 85% = 8840
    #   wanted, room 1000 → 1000. 大额 90% × (10400 − 1000 / 85%) = 90% × 9223.529412
    #   = 8301.176 → 8301.18.
    # C2 2022 (G-ALL-1 reset): first admission, deductible 800; 10000 × 85% = 8500; no 大额.
    who = person(
        "employee",
        employment="in_service",
        ytd={"year": 2021, "amounts": {"pool": "199000.00"}, "counts": {"admissions": 1}},
    )
    s, ytd = settle(
        R,
        who,
        [
            claim("C1", "2021-06-01", items=[item("10800")]),
            claim("C2", "2022-01-10", items=[item("10800")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("400"), fen("800")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("1000"), fen("8500")]
    assert [x.setlinfo.hifob_pay for x in s] == [fen("8301.18"), 0]
    assert ytd.year == 2022 and ytd.count("admissions") == 1
    assert ytd.amount("pool") == fen("8500")


def test_g_qd6_one_visit_with_both_diseases_has_the_600_cap():
    # G-QD-6: "600 when both". A visit whose diagnoses list hypertension and diabetes shows
    # the person has both, so the combined cap is 600 from that visit on:
    # 1000 × 60% = 600 wanted, cap 600 → 600.
    s, _ = settle(
        R,
        person(),
        [claim("C1", "2021-03-01", "11", 2, diagnoses=["I10", "E11.9"], items=[item("1000")])],
    )
    assert s[0].setlinfo.hifp_pay == fen("600")


def test_g_qd7_employee_chronic_outpatient_75_percent():
    # G-QD-7: employees 75%, no deductible, cap 5000 per disease (QD-13 成人迟发性运动障碍).
    # 4000 → 3000; 4000 → 3000 wanted, 5000 − 3000 = 2000 left → 2000.
    s, _ = settle(
        R,
        person("employee", employment="in_service"),
        [
            claim("C1", "2021-03-01", "14", 2, diagnoses=["G24.0"], items=[item("4000")]),
            claim("C2", "2021-04-01", "14", 2, diagnoses=["G24.0"], items=[item("4000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("3000"), fen("2000")]
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, 0]


def test_g_qd_12_an_employee_relatives_account_pays_a_residents_part():
    # A child resident, level 2 inpatient 3000: 500 deductible, (3000 − 500) × 75% = 1875
    # (G-QD-4); the person's part 1125 is paid by the father's employee account (家庭共济,
    # G-QD-12 as EH-06: "配偶、父母、子女"), 1000 left in it → 1000, cash 125.
    dad = [{"holder": "DAD", "relation": "parent", "balance": "1000"}]
    s, ytd = settle(
        R,
        person(birth_date="2015-01-01", family_accounts=dad),
        [claim("H1", "2021-02-10", "21", 2, diagnoses=["J18.9"], items=[item("3000")])],
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.psn_part_amt) == (fen("1875"), fen("1125"))
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (
        fen("1000"),
        fen("1000"),
        fen("125"),
    )
    assert ytd.family_balances == {"DAD": 0}
