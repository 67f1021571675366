"""Liaoyang (辽阳, seed 004) employee settlements worked out by hand from the seed's structural
rules (policy-facts.md LY-*) and the shipped assumptions (G-LY-*, G-ALL-*). Amounts in yuan.

Inpatient (G-LY-5): deductible 300 / 500 / 700 per admission (L1 / L2 / L3), ×0.5 from the 2nd
admission of the year (G-ALL-2), none for a psychiatric admission (LY-18) or the 3rd and later
chemotherapy admission (LY-19); fund share 88% / 85% / 82% in service, +5 points retired; basic
cap 30000 a year, then 超限额补充 90% of the cost above it within 150000 combined (LY-20).
公务员补助: 50% of the in-scope burden above 1000 a year. Special-disease outpatient care goes
with inpatient care (LY-03). Some 乙类 drugs have no first self-pay (LY-15). No family mutual aid.
"""

from tests.helpers import claim, fen, item, person, settle

R = "liaoyang"
CHEMO = ["Z51.1", "C34.9"]


def employee(employment: str = "in_service", **extra) -> dict:
    return person("employee", employment=employment, **extra)


def test_g_ly_5_inpatient_first_admission_by_level_in_service():
    # First admission of the year, in-scope 10000, in service:
    # L1: (10000 − 300) × 88% = 8536.  L2: (10000 − 500) × 85% = 8075.
    # L3: (10000 − 700) × 82% = 7626 (person 2374).
    expected = {
        1: ("300", "8536", "0.8800"),
        2: ("500", "8075", "0.8500"),
        3: ("700", "7626", "0.8200"),
    }
    for level, (dedc, paid, ratio) in expected.items():
        s, _ = settle(
            R, employee(), [claim("C1", "2006-03-01", "21", level, items=[item("10000")])]
        )
        info = s[0].setlinfo
        assert (info.act_pay_dedc, info.hifp_pay) == (fen(dedc), fen(paid)), level
        assert str(info.pool_prop_selfpay) == ratio
        assert info.hifob_pay == info.cvlserv_pay == info.hifmi_pay == 0


def test_g_ly_5_retiree_plus_5_points_and_half_deductible_on_the_second_admission():
    # Retired: C1 L3 10000: (10000 − 700) × (82% + 5) = 9300 × 87% = 8091.
    # C2 L1 10000, 2nd admission: 300 × 0.5 = 150 (G-ALL-2); 9850 × 93% = 9160.50.
    s, ytd = settle(
        R,
        employee("retired"),
        [
            claim("C1", "2006-03-01", "21", 3, items=[item("10000")]),
            claim("C2", "2006-06-01", "21", 1, items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("700"), fen("150")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("8091"), fen("9160.50")]
    assert [str(x.setlinfo.pool_prop_selfpay) for x in s] == ["0.8700", "0.9300"]
    assert ytd.count("admissions") == 2


def test_ly18_psychiatric_admission_has_no_deductible_but_counts_as_an_admission():
    # LY-18: primary diagnosis F20.0 (schizophrenia), L3, in service: no deductible,
    # 82% × 10000 = 8200. A later ordinary L3 admission is the 2nd of the year:
    # 700 × 0.5 = 350, (10000 − 350) × 82% = 7913.
    s, _ = settle(
        R,
        employee(),
        [
            claim("C1", "2006-03-01", "21", 3, diagnoses=["F20.0"], items=[item("10000")]),
            claim("C2", "2006-05-01", "21", 3, diagnoses=["K35.8"], items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, fen("350")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("8200"), fen("7913")]
    assert s[0].setlinfo.psn_part_amt == fen("1800")


def test_ly18_psychiatric_secondary_diagnosis_does_not_waive_the_deductible():
    # Appendicitis admission with depression as a secondary diagnosis: not a psychiatric
    # admission → full L3 deductible 700; (10000 − 700) × 82% = 7626.
    s, _ = settle(
        R,
        employee(),
        [claim("C1", "2006-03-01", "21", 3, diagnoses=["K35.8", "F32.9"], items=[item("10000")])],
    )
    assert (s[0].setlinfo.act_pay_dedc, s[0].setlinfo.hifp_pay) == (fen("700"), fen("7626"))


def test_ly19_third_and_later_chemotherapy_admissions_have_no_deductible():
    # In service, L3 chemotherapy stays (Z51.1), in-scope 5000 each:
    # 1st: 700 → (5000 − 700) × 82% = 3526.   2nd: 350 (G-ALL-2) → 4650 × 82% = 3813.
    # 3rd and 4th (LY-19 "第三次以上"): 0 → 5000 × 82% = 4100.
    s, _ = settle(
        R,
        employee(),
        [
            claim(f"C{n}", f"2006-0{n + 1}-01", "21", 3, diagnoses=CHEMO, items=[item("5000")])
            for n in range(1, 5)
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("700"), fen("350"), 0, 0]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("3526"), fen("3813"), fen("4100"), fen("4100")]


def test_ly19_a_national_chemotherapy_code_is_a_z51_1():
    # The national codes add digits to the ICD category: Z51.102 and Z51.101 are Z51.1
    # (LY-19 "腫瘤化療"), mixed across the year. The same sums as above: 700 → 3526,
    # 350 → 3813, then 0 → 4100 for the 3rd and the 4th.
    codes = ["Z51.102", "Z51.101", "Z51.102", "Z51.1"]
    s, _ = settle(
        R,
        employee(),
        [
            claim(f"C{n}", f"2006-0{n + 1}-01", "21", 3, diagnoses=["C50.9", codes[n - 1]],
                  items=[item("5000")])
            for n in range(1, 5)
        ],
    )  # fmt: skip
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("700"), fen("350"), 0, 0]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("3526"), fen("3813"), fen("4100"), fen("4100")]


def test_ly19_counts_chemotherapy_admissions_not_every_admission_and_resets_yearly():
    # C1 appendicitis L3 5000: 700 → 3526. C2 chemo: 2nd admission, 1st chemo: 350 → 3813.
    # C3 chemo: 3rd admission but only the 2nd chemo → still 350 → 3813.
    # C4 chemo: 3rd chemo → 0 → 4100.
    # C5 chemo in January 2007: a new year (G-ALL-1), 1st admission → 700 → 3526.
    s, _ = settle(
        R,
        employee(),
        [
            claim("C1", "2006-02-01", "21", 3, diagnoses=["K35.8"], items=[item("5000")]),
            claim("C2", "2006-04-01", "21", 3, diagnoses=CHEMO, items=[item("5000")]),
            claim("C3", "2006-06-01", "21", 3, diagnoses=CHEMO, items=[item("5000")]),
            claim("C4", "2006-11-01", "21", 3, diagnoses=CHEMO, items=[item("5000")]),
            claim("C5", "2007-01-15", "21", 3, diagnoses=CHEMO, items=[item("5000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [
        fen("700"),
        fen("350"),
        fen("350"),
        0,
        fen("700"),
    ]
    assert [x.setlinfo.hifp_pay for x in s] == [
        fen("3526"),
        fen("3813"),
        fen("3813"),
        fen("4100"),
        fen("3526"),
    ]


def test_g_ly_5_basic_cap_30000_then_over_limit_supplement():
    # Retired, L2, in-scope 50500: (50500 − 500) × 90% = 45000 → basic cap 30000.
    # 超限额补充: cost the cap left unpaid = 50000 − 30000 / 0.90 = 16666.67; × 90% = 15000.00
    # (→ hifob_pay). Person 50500 − 45000 = 5500.
    s, ytd = settle(
        R, employee("retired"), [claim("C1", "2006-03-01", "21", 2, items=[item("50500")])]
    )
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay, info.hifob_pay) == (
        fen("500"),
        fen("30000"),
        fen("15000"),
    )
    assert info.psn_part_amt == fen("5500")
    assert any(
        d.fund_pay_type == "330100" and d.fund_payamt == fen("15000") for d in s[0].setldetail
    )
    assert ytd.amount("pool") == fen("30000")


def test_over_limit_supplement_stops_at_the_combined_150000():
    # In service. C1 L3 150700: (150700 − 700) × 82% = 123000 → basic 30000.
    #   Unpaid cost 150000 − 30000 / 0.82 = 113414.634…; × 90% = 102073.17 (room 120000).
    #   Person 150700 − 132073.17 = 18626.83.
    # C2 L3 50350, 2nd admission (deductible 350): basic 0; wanted 90% × 50000 = 45000 but
    #   the combined 150000 leaves 150000 − 30000 − 102073.17 = 17926.83 → 17926.83.
    # C3 L1 1000: nothing left from either fund.
    s, ytd = settle(
        R,
        employee(),
        [
            claim("C1", "2006-03-01", "21", 3, items=[item("150700")]),
            claim("C2", "2006-06-01", "21", 3, items=[item("50350")]),
            claim("C3", "2006-09-01", "21", 1, items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("30000"), 0, 0]
    assert [x.setlinfo.hifob_pay for x in s] == [fen("102073.17"), fen("17926.83"), 0]
    assert [x.setlinfo.psn_part_amt for x in s] == [fen("18626.83"), fen("32423.17"), fen("1000")]
    assert ytd.amount("pool") + ytd.amount("large_expense") == fen("150000")


def test_civil_servant_subsidy_above_annual_1000():
    # Civil servant, in service. C1 L3 10000: basic 7626; burden 2374;
    #   50% × (2374 − 1000) = 687. Person 1687.
    # C2 L2 4000, 2nd admission: 250 → 3750 × 85% = 3187.50; burden 812.50, all above the
    #   threshold already met → 50% × 812.50 = 406.25. Person 406.25.
    s, _ = settle(
        R,
        employee(categories=["civil_servant"]),
        [
            claim("C1", "2006-03-01", "21", 3, items=[item("10000")]),
            claim("C2", "2006-06-01", "21", 2, items=[item("4000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("7626"), fen("3187.50")]
    assert [x.setlinfo.cvlserv_pay for x in s] == [fen("687"), fen("406.25")]
    assert [x.setlinfo.psn_part_amt for x in s] == [fen("1687"), fen("406.25")]
    assert all(x.setlinfo.hifmi_pay == 0 for x in s)  # no employee 大病 layer in Liaoyang


def test_ly15_listed_b_drug_has_no_first_selfpay_in_liaoyang_only():
    # Items give only code, name and price; the catalogue says 乙类.
    # XC10AAA005 (阿托伐他汀钙片) is flagged selfpay_waivable: Liaoyang waives the first
    # self-pay (LY-15) → 1000 in scope. XL01BA0001 (甲氨蝶呤片) is not → 10% of 500 = 50.
    # Liaoyang L3: in-scope 9000 + 1000 + 450 = 10450; (10450 − 700) × 82% = 7995.
    # Erenhot does not waive it (G-ALL-5): preselfpay 100 + 50 = 150, in-scope 10350;
    # (10350 − 800) × 85% = 8117.50.
    items = [
        {"code": "XC10AAA005", "name": "阿托伐他汀钙片", "price": "1000"},
        {"code": "XL01BA0001", "name": "甲氨蝶呤片", "price": "500"},
        item("9000"),
    ]
    s, _ = settle(R, employee(), [claim("C1", "2006-03-01", "21", 3, items=items)])
    info = s[0].setlinfo
    assert (info.preselfpay_amt, info.inscp_scp_amt, info.hifp_pay) == (
        fen("50"),
        fen("10450"),
        fen("7995"),
    )
    assert [line.preselfpay_amt for line in s[0].lines] == [0, fen("50"), 0]
    s, _ = settle("erenhot", employee(), [claim("C1", "2023-03-01", "21", 3, items=items)])
    info = s[0].setlinfo
    assert (info.preselfpay_amt, info.inscp_scp_amt, info.hifp_pay) == (
        fen("150"),
        fen("10350"),
        fen("8117.50"),
    )


def test_ly03_special_disease_outpatient_counts_with_inpatient_no_deductible():
    # LY-03: diabetes (E11) special-disease outpatient care (14), retired, L2: inpatient ratio
    # 85% + 5 = 90%, no deductible → 90% × 1000 = 900. Not an admission: the later L2 stay is
    # the 1st of the year → (10000 − 500) × 90% = 8550.
    s, ytd = settle(
        R,
        employee("retired"),
        [
            claim("C1", "2006-03-01", "14", 2, diagnoses=["E11.9"], items=[item("1000")]),
            claim("C2", "2006-05-01", "21", 2, items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, fen("500")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("900"), fen("8550")]
    assert ytd.count("admissions") == 1 and ytd.amount("pool") == fen("9450")


def test_personal_account_without_family_mutual_aid():
    # G-LY-2: own account only. Own 500, a child's account 200 (ignored in Liaoyang).
    # L3 10000: basic 7626, person 2374 → account 500, mutual aid 0, cash 1874.
    # A general outpatient visit (11) has no pooling here: 200 all personal, cash (account empty).
    who = employee(
        account_balance="500.00",
        family_accounts=[{"holder": "F1", "relation": "child", "balance": "200.00"}],
    )
    s, ytd = settle(
        R,
        who,
        [
            claim("C1", "2006-03-01", "21", 3, items=[item("10000")]),
            claim("C2", "2006-04-01", "11", 1, items=[item("200")]),
        ],
    )
    info = s[0].setlinfo
    assert (info.acct_pay, info.acct_mulaid_pay, info.psn_cash_pay) == (fen("500"), 0, fen("1874"))
    info = s[1].setlinfo
    assert (info.hifp_pay, info.acct_pay, info.psn_cash_pay) == (0, 0, fen("200"))
    assert ytd.account_balance == 0 and ytd.family_balances == {"F1": fen("200")}
